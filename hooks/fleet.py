"""Where a generated service stands: its release, its answers, a dry-run update, doctor.

`inspect(path)` answers for one service, a folder or a git URL, and changes nothing: the
update is tried in a temporary clone. `python -m hooks fleet status` (hooks/fleet_cli.py)
runs it over many services; `fleet update` (hooks/fleet_update.py) acts on what it says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import yaml

from hooks import doctor
from hooks.checks import ANSWERS_FILE
from hooks.conflicts import find_conflicts

#: Seconds one git or Copier command may take: a template fetched over a slow network.
TIMEOUT = 600
#: Answers only this template asks: a Copier answers file without them is another template's.
OWN_ANSWERS = ("package_name", "worker_class", "database")
#: How `_src_path` spells a git URL (Copier's own forms); anything else is a local path.
URL = re.compile(r"^(git\+|[a-z][a-z0-9+.-]*://|git@|gh:|gl:)")
#: `_commit` as Copier records it: a tag, `git describe` past a tag, or a bare commit.
#: A release tag: `v1.2.3`, `1.2` (Copier's PEP 440 versions, pre-releases left out).
RELEASE = re.compile(r"^v?(\d+(?:\.\d+)*)$")
DESCRIBED = re.compile(r"^(?P<tag>.+?)(-(?P<ahead>\d+)-g[0-9a-f]+)?$")


class State(IntEnum):
    """Where a service stands; the worst one of a fleet is `fleet status`'s exit status."""

    CURRENT = 0
    BEHIND = 1  # and the update would apply cleanly
    # 2 is every command line's usage error.
    CONFLICT = 3
    BLOCKED = 4  # nothing can be said or done until its owner acts: see `problem`


class FleetError(Exception):
    """A service that cannot be inspected; the message says what to do."""


@dataclass
class Status:
    """What `fleet status` says about one service."""

    service: str
    state: State = State.BLOCKED
    problem: str = ""
    template: str = ""
    release: str = ""
    newest: str = ""
    behind: int | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False
    #: Files the update would change, and the conflict markers it would leave, by file.
    changed: int = 0
    conflicts: dict[str, int] = field(default_factory=dict)
    doctor: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the status as plain data, its state by name."""
        data = asdict(self)
        data["state"] = self.state.name.lower()
        return data


def git(cwd: Path | None, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git; raise FleetError with git's own words when `check` and it fails."""
    result = run(["git", *args], cwd)
    if check and result.returncode != 0:
        raise FleetError(f"git {' '.join(args)} failed: {last_line(result.stderr)}")
    return result


def run(
    command: list[str], cwd: Path | None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command with no input, capture its output, and never raise on its status."""
    return subprocess.run(  # noqa: S603 (git, Copier and uv, fixed arguments)
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


#: The margin of plumbum's report of a failed command: `Stderr:       | `, or `| ` alone.
PLUMBUM_LABEL = re.compile(r"^\s*(?:[A-Z][a-z]+(?: [a-z]+)?:)?\s*\|\s?")


def last_line(text: str) -> str:
    """Return the last line of a command's output that says something.

    A line of decoration alone says nothing: Copier reports a failed git command with
    plumbum's `Stderr: | …` block, whose last line can be a bare `|`.
    """
    lines = [PLUMBUM_LABEL.sub("", line).strip() for line in text.splitlines()]
    said = [line for line in lines if any(char.isalnum() for char in line)]
    return said[-1] if said else "no message"


def is_url(source: str) -> bool:
    """Tell whether `source` is a git URL rather than a folder on this machine."""
    return bool(URL.match(source))


def git_url(source: str) -> str:
    """Return the URL git fetches for a Copier source (`git+`, `gh:` and `gl:` spelled out)."""
    if source.startswith(("gh:", "gl:")):
        host = "github.com" if source.startswith("gh:") else "gitlab.com"
        return f"https://{host}/{source[3:].removesuffix('.git')}.git"
    return source.removeprefix("git+")


def local_source_message(source: str) -> str:
    """Say why a local template path is refused and how to point the service at a URL."""
    return (
        f"its template is a local path ({source}), which a hosted job cannot fetch. Point it "
        "at the template's git URL: set `_src_path: https://<host>/<group>/copier-flask-service"
        ".git` in .copier-answers.yml and commit (`_commit` names a release the URL has; where "
        "it has no tags, update once with `copier update --vcs-ref <commit>`)"
    )


def read_answers(folder: Path) -> dict[str, Any]:
    """Return the service's recorded answers; raise FleetError unless this template made it."""
    path = folder / ANSWERS_FILE
    if not path.is_file():
        raise FleetError(
            f"not generated by Copier: no {ANSWERS_FILE}. Generate a service with "
            "`uvx copier copy --trust <template URL> <folder>`, or add this one by hand"
        )
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise FleetError(f"{ANSWERS_FILE} is not YAML: {error}") from error
    if not isinstance(answers, dict) or not answers.get("_commit") or not answers.get("_src_path"):
        raise FleetError(f"not generated by Copier: {ANSWERS_FILE} has no _src_path or _commit")
    missing = [key for key in OWN_ANSWERS if key not in answers]
    if missing:
        raise FleetError(
            f"not generated from copier-flask-service: {ANSWERS_FILE} names "
            f"{answers['_src_path']} and lacks its answers ({', '.join(missing)})"
        )
    return answers


def releases(url: str) -> list[str]:
    """Return the template's release tags, oldest first; raise FleetError when unreachable."""
    result = git(None, "ls-remote", "--tags", "--refs", url, check=False)
    if result.returncode != 0:
        raise FleetError(
            f"template unreachable at {url}: {last_line(result.stderr)}. Check the network, "
            "or fix `_src_path` in .copier-answers.yml if the template moved"
        )
    found: dict[tuple[int, ...], str] = {}
    for line in result.stdout.splitlines():
        tag = line.rpartition("refs/tags/")[2]
        match = RELEASE.match(tag)
        if match:  # Copier updates to the newest final release
            found[tuple(int(part) for part in match.group(1).split("."))] = tag
    return [found[version] for version in sorted(found)]


def releases_behind(commit: str, tags: list[str]) -> int | None:
    """Count the releases newer than the one `_commit` names; None for a bare commit."""
    match = DESCRIBED.match(commit)
    tag = match.group("tag") if match else commit
    if tag not in tags:
        return None
    return len(tags) - 1 - tags.index(tag)


@contextmanager
def checkout(path: str) -> Iterator[tuple[Path, Path]]:
    """Yield the service's folder and repository: the folder itself, or a clone of a URL."""
    if is_url(path):
        with tempfile.TemporaryDirectory(prefix="fleet-") as temporary:
            clone = Path(temporary) / "service"
            result = git(None, "clone", "-q", path, str(clone), check=False)
            if result.returncode != 0:
                raise FleetError(f"cannot clone {path}: {last_line(result.stderr)}")
            yield clone, clone
        return
    folder = Path(path).resolve()
    if not folder.is_dir():
        raise FleetError(f"no such folder: {folder}")
    top = git(folder, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0:
        raise FleetError(
            "not a git repository: Copier updates only what git tracks (git init, commit)"
        )
    yield folder, Path(top.stdout.strip())


def copier(folder: Path, *args: str, offline: bool) -> subprocess.CompletedProcess[str]:
    """Run this environment's Copier in `folder` (uv offline in a dry run: no resolution).

    Each run has a Copier cache of its own. Copier keeps one git mirror per template and adds
    a worktree to it for each render; runs that share it race (a `git remote update` sees
    another run's worktree half made: "bad object worktrees/…/HEAD", "failed to read
    …/commondir"). Ten parallel updates of one service failed 3 times in 20 this way, and
    `fleet` runs one per service at once. The price is one clone of the template per run.
    """
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    if offline:
        env["UV_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory(prefix="fleet-copier-cache-") as cache:
        env["COPIER_CACHE_DIR"] = cache
        return run([sys.executable, "-m", "copier", *args], folder, env)


def count_conflicts(folder: Path) -> dict[str, int]:
    """Return how many conflicts an update left under `folder`, by file (a .rej file is one)."""
    markers = Counter(problem.path for problem in find_conflicts(folder))
    # find_conflicts lists a conflict's first and last marker: count each conflict once.
    return {
        path: 1 if path.endswith(".rej") else max(1, count // 2)
        for path, count in sorted(markers.items())
    }


def try_update(folder: Path, repository: Path, status: Status) -> None:
    """Update a clone of the service's committed HEAD; record what changes and what conflicts."""
    inside = folder.relative_to(repository)
    with tempfile.TemporaryDirectory(prefix="fleet-dry-run-") as temporary:
        clone = Path(temporary) / "service"
        git(None, "clone", "-q", "--no-tags", str(repository), str(clone))
        # The validation task is skipped: it checks the render, not whether the merge applies.
        result = copier(
            clone / inside, "update", "--trust", "--defaults", "--skip-tasks", offline=True
        )
        conflicts = count_conflicts(clone / inside)
        if result.returncode != 0 and not conflicts:
            raise FleetError(f"the dry-run update failed: {last_line(result.stderr)}")
        status.conflicts = conflicts
        listed = git(clone, "status", "--porcelain", "--", str(inside)).stdout
        status.changed = len(listed.splitlines())
        status.newest = str(read_answers(clone / inside)["_commit"])


#: One doctor at a time: CPython 3.11's AST constructor is not safe across threads, and two
#: `fleet status` jobs parsing at once raised "AST constructor recursion depth mismatch" in
#: CI. doctor is fast; the dry runs, the slow part, stay parallel.
_PARSING = threading.Lock()


def inspect(path: str, *, dry_run: bool = True) -> Status:
    """Say where the service at `path` stands; never change it.

    Without `dry_run`, a service behind the newest release is taken as BEHIND: `fleet update`
    learns whether it applies cleanly from the update itself, on its branch.
    """
    status = Status(service=path)
    try:
        with checkout(path) as (folder, repository):
            answers = read_answers(folder)
            status.answers = {k: v for k, v in answers.items() if not k.startswith("_")}
            status.template, status.release = str(answers["_src_path"]), str(answers["_commit"])
            # A [tool.flask-doctor] doctor cannot follow leaves the count unknown ("-"): the
            # service's own doctor run says why; it does not stop the update.
            with _PARSING, suppress(doctor.ConfigError):
                status.doctor = len(doctor.check_paths([folder]))
            status.dirty = bool(git(folder, "status", "--porcelain").stdout.strip())
            if not is_url(status.template):
                raise FleetError(local_source_message(status.template))
            tags = releases(git_url(status.template))
            status.behind = releases_behind(status.release, tags)
            status.newest = tags[-1] if tags else ""
            if status.behind == 0:
                status.state = State.CURRENT
                return status
            status.state = State.BEHIND
            if dry_run:
                try_update(folder, repository, status)
                if not status.changed:  # a bare commit that is the template's newest
                    status.state = State.CURRENT
                    return status
                status.state = State.CONFLICT if status.conflicts else State.BEHIND
            if status.dirty:
                status.state = State.BLOCKED
                status.problem = (
                    "dirty work tree: Copier updates only a clean one; commit or stash your "
                    "changes (the dry run used the last commit)"
                )
    except FleetError as error:
        status.state, status.problem = State.BLOCKED, str(error)
    except subprocess.TimeoutExpired as error:
        status.state = State.BLOCKED
        status.problem = f"`{' '.join(map(str, error.cmd))}` took over {TIMEOUT} s"
    return status
