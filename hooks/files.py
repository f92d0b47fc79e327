"""The files of a generated project: which are read, how, and how findings are reported.

Copier runs this module inside its own interpreter: the standard library only.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        "build",
        "dist",
        "instance",
    }
)
_BINARY_SNIFF = 8192


@dataclass(frozen=True)
class Problem:
    """One finding: where it is and what is wrong."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def is_local_file(name: str) -> bool:
    """Tell whether a file holds the owner's local settings (.env), which we never judge."""
    # The template never writes .env; an update must not fail on the real secret in it.
    return name == ".env" or (name.startswith(".env.") and name != ".env.example")


def iter_files(root: Path) -> Iterator[Path]:
    """Yield every file under root outside the skipped directories and local files, in order."""
    for dirpath, dirnames, filenames in os.walk(root):
        # Pruning in place stops os.walk from descending into caches and venvs.
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            if is_local_file(name):
                continue
            path = Path(dirpath, name)
            if path.is_file():
                yield path


def read_text(path: Path) -> str | None:
    """Return the file's text, or None when it looks binary."""
    data = path.read_bytes()
    if b"\0" in data[:_BINARY_SNIFF]:
        return None
    # Replacement characters keep the other checks running on odd encodings.
    return data.decode("utf-8", errors="replace")


def report(heading: str, problems: list[Problem], advice: str) -> str:
    """Lay out a heading, one indented line per problem, and what to do; "" without any."""
    if not problems:
        return ""
    return "\n".join([heading, *(f"  {problem}" for problem in problems), advice])
