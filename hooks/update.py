"""What runs once after `copier update` merged the owner's edits: the lock, the lists, conflicts.

Copier merges every file as text, uv.lock included when an earlier release's task wrote one
into its temporary copies. Here, in the service itself, after the merge:

1. uv.lock is put back as the owner committed it (Copier refuses a dirty work tree, so HEAD
   holds it): the template never writes one during an update, so nothing it did is lost.
2. pyproject.toml's dependency lists are merged package by package (hooks/dependencies.py)
   where Copier left conflict markers in them.
3. uv.lock is refreshed with `uv lock`, which keeps every pin and resolves only what changed.

Copier runs this module inside its own interpreter: the standard library only.
"""

import subprocess
import sys
from pathlib import Path

from hooks.dependencies import merge_pyproject

LOCK, PYPROJECT = "uv.lock", "pyproject.toml"
_CONFLICT_START = "<<<<<<< "


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `root`; raise with git's message when `check` and it fails."""
    result = subprocess.run(  # noqa: S603 (git, fixed arguments)
        ["git", *args],  # noqa: S607 (Copier itself needs git on PATH to update)
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result


def committed(root: Path, name: str, stage: str = "HEAD") -> str | None:
    """Return the file `name` (relative to `root`) as git holds it at `stage`, or None."""
    # "./" makes the path relative to root, which may be a folder inside the repository.
    result = git(root, "show", f"{stage}:./{name}", check=False)
    return result.stdout if result.returncode == 0 else None


def restore_lock(root: Path) -> bool:
    """Put back uv.lock as the owner committed it; tell whether there was one."""
    owned = committed(root, LOCK)
    (root / f"{LOCK}.rej").unlink(missing_ok=True)
    if owned is None:
        return False
    (root / LOCK).write_text(owned, encoding="utf-8")
    # Copier records a conflicted file's three versions in the index: drop them.
    git(root, "reset", "-q", "--", LOCK)
    return True


def merge_dependency_lists(root: Path) -> tuple[list[str], list[str]]:
    """Merge pyproject.toml's lists where Copier left markers; return the lists and conflicts."""
    path = root / PYPROJECT
    if not path.is_file() or _CONFLICT_START not in path.read_text(encoding="utf-8"):
        return [], []
    # Copier records the three versions of a file it merged with conflicts in the index.
    base, ours, theirs = (committed(root, PYPROJECT, f":{n}") for n in (1, 2, 3))
    if ours is None or theirs is None:
        return [], []  # --conflict rej: no three versions to merge from.
    merged = merge_pyproject(base or "", ours, theirs)
    path.write_text(merged.text, encoding="utf-8")
    if _CONFLICT_START not in merged.text:
        git(root, "reset", "-q", "--", PYPROJECT)  # resolved: no longer unmerged
    return merged.lists, merged.conflicts


def describe_lists(lists: list[str]) -> str:
    """Name the merged lists as pyproject.toml spells them."""
    names = []
    for name in sorted(lists):
        table, _, key = name.rpartition(".")
        names.append(f"[{table}] {key}")
    return ", ".join(names)


def after_update(root: Path) -> bool:
    """Restore the lock, merge the lists, refresh the lock; tell whether pyproject is clean."""
    had_lock = restore_lock(root)
    lists, conflicts = merge_dependency_lists(root)
    if lists:
        print(
            f"Merged the dependency lists that you and the template both changed in "
            f"{PYPROJECT}: {describe_lists(lists)} (every package of both kept, sorted).",
            file=sys.stderr,
        )
    if conflicts:
        print(
            f"{PYPROJECT}: you and the template changed {', '.join(conflicts)} differently; "
            "keep the right line between the markers that name it, then run `uv lock`.",
            file=sys.stderr,
        )
    path = root / PYPROJECT
    clean = path.is_file() and _CONFLICT_START not in path.read_text(encoding="utf-8")
    if path.is_file() and not clean:
        print(f"Resolve {PYPROJECT}, then run `uv lock` in {root}.", file=sys.stderr)
    elif had_lock:
        print(f"Kept {LOCK} as you committed it; refreshing it for the update.", file=sys.stderr)
    return clean
