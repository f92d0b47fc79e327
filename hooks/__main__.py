"""Run the hooks command line: python -m hooks validate PATH."""

from hooks.cli import app

if __name__ == "__main__":
    app(prog_name="python -m hooks")
