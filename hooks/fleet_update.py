"""Update a service that would update cleanly, on a new branch, and run its checks there.

The owner's work tree is never touched: the branch is checked out in a temporary git
worktree of the service's repository (a folder), or in a clone that pushes the branch back
(a git URL). The update on that branch is its own dry run: where it conflicts, the branch is
deleted and the service left alone, with its conflicts by file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hooks.fleet import (
    FleetError,
    State,
    Status,
    checkout,
    copier,
    count_conflicts,
    git,
    inspect,
    is_url,
    last_line,
    run,
)

#: The service's checks, as its CI runs them (`uv run pytest` selects what its pyproject says:
#: the tests that need PostgreSQL or a broker are left out where none is configured).
CHECKS: dict[str, tuple[str, ...]] = {
    "uv sync": ("sync",),
    "ruff": ("run", "ruff", "check"),
    "ruff format": ("run", "ruff", "format", "--check"),
    "mypy": ("run", "mypy"),
    "pytest": ("run", "pytest", "-q", "-p", "no:cacheprovider"),
}
#: The subsets `--checks` offers: lint needs no database and no test run.
SUBSETS: dict[str, tuple[str, ...]] = {
    "all": tuple(CHECKS),
    "lint": ("uv sync", "ruff", "ruff format", "mypy"),
    "none": (),
}
BRANCH_PREFIX = "template-update/"


class LeftAlone(FleetError):
    """The update conflicted, or changed nothing: its branch is deleted, the status says why."""


@dataclass
class Outcome:
    """What `fleet update` did to one service."""

    status: Status
    branch: str = ""
    #: Each check run, and whether it passed.
    checks: dict[str, bool] = field(default_factory=dict)
    failure: str = ""
    seconds: float = 0.0

    @property
    def updated(self) -> bool:
        """Tell whether the branch holds the update."""
        return bool(self.branch) and not self.failure

    def as_json(self) -> dict[str, Any]:
        """Return the outcome as plain data."""
        return {
            **self.status.as_json(),
            "branch": self.branch,
            "checks": self.checks,
            "failure": self.failure,
        }


def run_checks(folder: Path, names: tuple[str, ...]) -> dict[str, bool]:
    """Run the named checks in the service's folder; stop at the first that fails."""
    uv = shutil.which("uv")
    if names and uv is None:
        raise FleetError("uv is not on PATH: the service's checks need it (pip install uv)")
    # The caller's VIRTUAL_ENV belongs to another project; uv would warn about it.
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    results: dict[str, bool] = {}
    for name in names:
        results[name] = run([str(uv), *CHECKS[name]], folder, env).returncode == 0
        if not results[name]:
            break  # the next checks would run on a broken install, or say the same
    return results


@contextmanager
def branch_checkout(status: Status, repository: Path, branch: str) -> Iterator[Path]:
    """Yield a work tree of a new `branch` at HEAD; a URL's clone pushes it when done."""
    ref = f"refs/heads/{branch}"
    if git(repository, "rev-parse", "--verify", "--quiet", ref, check=False).stdout:
        raise FleetError(f"branch {branch} exists already: merge or delete it first")
    with tempfile.TemporaryDirectory(prefix="fleet-update-") as temporary:
        tree = Path(temporary) / "service"
        git(repository, "worktree", "add", "-q", "-b", branch, str(tree), "HEAD")
        try:
            yield tree
        except Exception:
            git(repository, "worktree", "remove", "--force", str(tree), check=False)
            git(repository, "branch", "-q", "-D", branch, check=False)
            raise
        git(repository, "worktree", "remove", "--force", str(tree), check=False)
    if is_url(status.service):
        git(repository, "push", "-q", "origin", branch)


def apply(
    status: Status,
    folder: Path,
    repository: Path,
    checks: tuple[str, ...],
    answers: tuple[str, ...] = (),
) -> Outcome:
    """Update the service on a new branch, commit, run `checks`; tell what happened.

    `answers` are Copier's arguments that give answers (`--data-file` a platform's presets).
    """
    # A template without release tags: its newest commit, which the answers name after.
    outcome = Outcome(status, branch=f"{BRANCH_PREFIX}{status.newest or 'newest-commit'}")
    inside = folder.relative_to(repository)
    with branch_checkout(status, repository, outcome.branch) as tree:
        result = copier(tree / inside, "update", "--trust", "--defaults", *answers, offline=False)
        status.conflicts = count_conflicts(tree / inside)
        status.changed = len(git(tree, "status", "--porcelain").stdout.splitlines())
        if status.conflicts:
            status.state = State.CONFLICT
            raise LeftAlone(status.service)
        if result.returncode != 0:
            raise FleetError(f"the update failed: {last_line(result.stderr)}")
        if not status.changed:  # a bare commit that is the template's newest
            status.state = State.CURRENT
            raise LeftAlone(status.service)
        git(tree, "add", "-A")
        message = f"Update from the template: {status.release} to {status.newest}"
        git(tree, "commit", "-q", "--no-verify", "-m", message)
        outcome.checks = run_checks(tree / inside, checks)
    return outcome


def update(path: str, checks: tuple[str, ...], answers: tuple[str, ...] = ()) -> Outcome:
    """Update the service at `path` on a branch; leave it alone where that would conflict."""
    started = time.monotonic()
    # No dry run first: the update on its own branch is one, deleted when it conflicts.
    status = inspect(path, dry_run=False)
    outcome = Outcome(status)
    if status.state is State.BEHIND:
        try:
            with checkout(path) as (folder, repository):
                outcome = apply(status, folder, repository, checks, answers)
        except LeftAlone:
            pass
        except FleetError as error:
            outcome.failure = str(error)
        except subprocess.TimeoutExpired as error:
            outcome.failure = f"`{' '.join(map(str, error.cmd))}` took over {error.timeout} s"
    outcome.seconds = time.monotonic() - started
    return outcome
