"""What an update left to merge by hand: conflict markers and rejected hunks.

Copier runs this module inside its own interpreter: the standard library only.
"""

import re
from pathlib import Path

from hooks.files import Problem, iter_files, read_text, report

# What Copier leaves behind when an update meets an owner's edit: inline markers
# ("<<<<<<< before updating" ... ">>>>>>> after updating") or, with --conflict rej, .rej files.
_CONFLICT_MARKER = re.compile(r"^(<{7}|>{7})( |$)")


def _marker_message(line: str) -> str:
    # hooks/dependencies.py names the package in its markers: "<<<<<<< before updating: flask".
    _, colon, package = line.partition(": ")
    if colon and line.startswith("<"):
        return f"conflict marker: {package.strip()}, which you and the template both changed"
    return "conflict marker"


def find_conflicts(root: Path) -> list[Problem]:
    """Report every conflict marker and .rej file an update left under root."""
    problems = []
    for path in iter_files(root):
        rel = path.relative_to(root).as_posix()
        if rel.endswith(".rej"):
            problems.append(Problem(rel, 0, "rejected hunks: merge them by hand, then delete"))
            continue
        try:
            text = read_text(path)
        except OSError:
            continue
        for number, line in enumerate((text or "").splitlines(), start=1):
            if _CONFLICT_MARKER.match(line):
                problems.append(Problem(rel, number, _marker_message(line)))
    return problems


def format_conflicts(problems: list[Problem], root: Path) -> str:
    """Tell the owner where the update conflicted and what to do, or "" when it did not."""
    return report(
        f"The update left {len(problems)} conflict(s) in {root} to resolve by hand:",
        problems,
        "Between '<<<<<<< before updating' and '=======' is your version, between '=======' "
        "and '>>>>>>> after updating' the template's: keep what is right, delete the markers "
        "(and any .rej file once its hunks are merged), run the tests, then commit. "
        "`git diff` shows everything the update changed; the pre-commit hook refuses "
        "markers that are left.",
    )
