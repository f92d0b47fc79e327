"""Commands the tests run as a person would: Copier, git, the linters installed here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def own_binary(command: str, cwd: Path) -> str | None:
    """Return where `command` really is, behind pyenv's shim if one answers for it."""
    found = shutil.which(command)
    if found is None or "shims" not in Path(found).parts:
        return found
    # From a folder with no .python-version, pyenv names its global version's binary.
    result = subprocess.run(
        ["pyenv", "which", command], cwd=cwd, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else found


def copier_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run Copier's command line as a person would."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def tool(name: str) -> str:
    """Return the path of a command installed in this environment (check-jsonschema, ...)."""
    path = Path(sys.executable).with_name(name)
    # The linters are dev dependencies: a machine without one must fail, never skip.
    assert path.is_file(), f"{name} is missing: `uv sync` installs it"
    return str(path)


def lint(*command: str, cwd: Path) -> None:
    """Run a linter installed here on files of a project; fail with what it said."""
    result = subprocess.run(
        [tool(command[0]), *command[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` and return its output; fail the test when git fails."""
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout
