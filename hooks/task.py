"""Validate a generated project, or report an update's conflicts; Copier runs this file.

Usage: python hooks/task.py {copy|update|after-update} PATH
       python hooks/task.py answers KEYS

`answers` runs first on every copy and update, with the keys of the answers given on the
command line (-d, --data-file) as a JSON list: a key that is no question is refused.

`copy` and `update` (Copier's _copier_operation) run from `_tasks`, on every render: they
validate, and a copy gets its uv.lock written. An update renders in temporary copies too, and
a lock written there would be merged as text; so `update` writes none. `after-update` runs
from an unversioned `_migrations` entry, once, in the service, after the merge: it puts back
the owner's uv.lock, merges the dependency lists (hooks/update.py), refreshes the lock and
lists the conflicts left.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

# Copier runs this file by path from the generated project, so the template
# repository that holds the hooks package is not on sys.path until we add it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hooks.answers import unknown_keys
from hooks.checks import check_tree, format_report
from hooks.conflicts import find_conflicts, format_conflicts
from hooks.files import iter_files
from hooks.update import after_update

OPERATIONS = ("copy", "update", "after-update")
#: Seconds `uv lock` may take: a resolution from a cold cache, on a slow index.
LOCK_TIMEOUT = 300


def lock(root: Path) -> bool:
    """Write or refresh root/uv.lock with uv; print what to run instead when that fails."""
    if not (root / "pyproject.toml").is_file():
        return False
    later = f"Run `uv lock` in {root} once PyPI answers: the image builds from uv.lock."
    uv = shutil.which("uv")
    if uv is None:
        print(f"uv is not on PATH, so uv.lock was not written. {later}", file=sys.stderr)
        return False
    try:
        # An update keeps every pin the lock has and resolves only what pyproject changed.
        result = subprocess.run(  # noqa: S603 (uv from PATH, fixed arguments)
            [uv, "lock", "--no-progress"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=LOCK_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        print(f"`uv lock` took over {LOCK_TIMEOUT} s and was stopped. {later}", file=sys.stderr)
        return False
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1:] or ["no message"]
        print(f"`uv lock` failed ({reason[0]}). {later}", file=sys.stderr)
        return False
    print(f"Locked the dependencies in {root / 'uv.lock'}.", file=sys.stderr)
    return True


def written_by_update(root: Path) -> set[str] | None:
    """Return the files an update's render changed in the service, or None outside git.

    Copier renders the new release into the service before it merges the owner's edits
    back: what differs from the last commit then is what the template wrote. The owner's own
    files, untouched, are not the render's (an adopted service's code, say).
    """
    git = shutil.which("git")
    if git is None:
        return None
    listed = subprocess.run(  # noqa: S603 (git from PATH, fixed arguments)
        [git, "ls-files", "--modified", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return set(listed.stdout.splitlines()) if listed.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    """Check the project named in argv and return the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "answers":
        keys = [key for key in json.loads(args[1]) if not key.startswith("_")]
        refusal = unknown_keys(keys)
        if refusal:
            print(refusal, file=sys.stderr)
            return 1
        return 0
    if len(args) != 2 or args[0] not in OPERATIONS:
        print(f"usage: task.py {{copy|update|after-update}} PATH; got {args}", file=sys.stderr)
        return 2
    root = Path(args[1]).resolve()
    if not root.is_dir():
        print(f"task.py: {root} is not a directory", file=sys.stderr)
        return 2
    if args[0] == "after-update":
        try:
            clean = after_update(root)
        except (OSError, RuntimeError) as error:
            # git missing or refusing: the merge Copier made stands; say what is left to do.
            print(
                f"The post-update step stopped ({error}). Copier's merge stands: put back "
                "uv.lock with `git checkout HEAD -- uv.lock` if the update changed it, "
                "resolve pyproject.toml's conflicts, then run `uv lock`.",
                file=sys.stderr,
            )
            return 1
        if clean:
            lock(root)  # Never fails the update: offline, it says what to run.
        conflicts = find_conflicts(root)
        if conflicts:
            # Copier itself exits 0 here: failing makes scripted updates notice.
            print(format_conflicts(conflicts, root), file=sys.stderr)
            return 1
        return 0
    problems = check_tree(root, written_by_update(root) if args[0] == "update" else None)
    if problems:
        print(format_report(problems, root), file=sys.stderr)
        return 1
    count = sum(1 for _ in iter_files(root))
    print(f"Validated {count} files in {root}: no problems.", file=sys.stderr)
    if args[0] == "copy":
        lock(root)  # Never fails the render: offline, it says what to run.
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
