"""Simulated template releases: a private clone of the template where a test tags its next one."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.support.commands import git
from tests.support.projects import TEMPLATE


class Release:
    """A private clone of the template, where a test commits and tags its next release."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def edit(self, relative: str, change: Callable[[str], str]) -> None:
        """Rewrite one template file with `change`; fail if the change changed nothing."""
        path = self.repo / relative
        before = path.read_text()
        after = change(before)
        assert after != before, f"the change to {relative} did nothing"
        path.write_text(after)

    def drop(self, relative: str) -> None:
        """Remove one template file."""
        (self.repo / relative).unlink()

    def tag(self, version: str) -> None:
        """Commit the edits and tag them as `version`."""
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", f"Release {version}")
        git(self.repo, "tag", version)


def released_v1(repo: Path) -> Path:
    """Copy the template's work tree to `repo`, a fresh git repository, and tag it v1."""
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".*_cache")
    shutil.copytree(TEMPLATE, repo, ignore=ignore)
    git(repo, "init", "-q", "-b", "main")
    Release(repo).tag("v1")
    return repo


def commit(project: Path, message: str) -> None:
    """Commit everything in `project`: Copier refuses to update a dirty repository."""
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)
