"""Merge pyproject.toml's dependency lists as lists, after `copier update` merged them as text.

Copier merges pyproject.toml line by line, so an owner's `uv add` and a template's new
dependency, both inserted in one sorted list, meet on the same lines and conflict. Here each
list (`[project] dependencies`, every `[dependency-groups]` and
`[project.optional-dependencies]` list) is merged package by package: a package that only one
side added, removed or re-pinned takes that side's line; the result is sorted as `uv add`
sorts, when the owner's list was sorted. Only a package both sides changed differently stays
a conflict, between markers that name it. The rest of the file is merged as text by
`git merge-file`, as Copier does.

Copier runs this module inside its own interpreter: the standard library only.
"""

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: The labels Copier gives the three sides of a merge.
OURS, BASE, THEIRS = "before updating", "last update", "after updating"
#: The tables whose lists hold requirements, and in [project] the one key that does.
_LIST_TABLES = {"project": "dependencies", "dependency-groups": None}
_OPTIONAL = "project.optional-dependencies"
_TABLE = re.compile(r"^\[(?P<name>[^\[\]]+)\]\s*(#.*)?$")
_OPENING = re.compile(r'^(?P<key>[A-Za-z0-9_.-]+|"[^"]+")\s*=\s*\[(?P<rest>.*)$')
_ENTRY = re.compile(r'^\s*"(?P<requirement>[^"\\]*)"\s*,?\s*(#.*)?$')
_INLINE = re.compile(r'^\s*(?P<items>("[^"\\]*"\s*,?\s*)*)\]\s*(#.*)?$')
_STRING = re.compile(r'"([^"\\]*)"')
_PLACEHOLDER = "@@copier-flask-service dependency list {}@@"
_INDENT = "    "


def package_name(requirement: str) -> str:
    """Return the normalized name (PEP 503) a requirement string is about."""
    name = re.split(r"[\s\[;@<>=!~(]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def uv_sort_key(requirement: str) -> tuple[str, str]:
    """Return the key `uv add` sorts a list by: the name with extras, then the specifiers."""
    # uv splits the lowercased string at the first of >, <, =, ~, ! or @ (pyproject_mut.rs).
    text = requirement.lower()
    cut = min((text.find(c) for c in "<>=~!@" if c in text), default=len(text))
    return text[:cut].strip(), text[cut:].strip()


@dataclass(frozen=True)
class Entry:
    """One requirement of a list, with the comment lines above it, as written."""

    requirement: str
    lines: tuple[str, ...]

    @property
    def name(self) -> str:
        """Return the package this entry is about."""
        return package_name(self.requirement)


@dataclass(frozen=True)
class DependencyList:
    """A parsed list: its entries and what follows the last (a closing comment)."""

    entries: tuple[Entry, ...]
    tail: tuple[str, ...] = ()
    #: The line that opens the list (`dependencies = [`), with its comment.
    opening: str = ""

    def by_name(self) -> dict[str, Entry]:
        """Return the entries by package."""
        return {entry.name: entry for entry in self.entries}

    def is_sorted(self) -> bool:
        """Tell whether `uv add` would keep this list sorted."""
        keys = [uv_sort_key(entry.requirement) for entry in self.entries]
        return keys == sorted(keys)


def _parse_block(opening: str, lines: list[str]) -> DependencyList | None:
    """Parse a multi-line list's inner lines; None when a line is not a plain requirement."""
    entries, pending = [], []
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            pending.append(line)
        elif match := _ENTRY.match(line):
            entries.append(Entry(match["requirement"], (*pending, line)))
            pending = []
        else:
            return None  # An inline table ({ include-group = ... }) or two on a line.
    return DependencyList(tuple(entries), tuple(pending), opening)


def split_lists(text: str) -> tuple[list[str], dict[str, DependencyList]]:
    """Return the text's lines with each dependency list as one placeholder line, and the lists.

    A list this cannot read entry by entry stays in the text, for the text merge.
    """
    lines = text.splitlines(keepends=True)
    skeleton: list[str] = []
    found: dict[str, DependencyList] = {}
    table = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if header := _TABLE.match(line):
            table = header["name"].strip()
        opening = _OPENING.match(line)
        key = opening["key"].strip('"') if opening else ""
        wanted = (table == _OPTIONAL) or (
            table in _LIST_TABLES and _LIST_TABLES[table] in (None, key)
        )
        if not (opening and wanted):
            skeleton.append(line)
            continue
        name = f"{table}.{key}"
        if inline := _INLINE.match(opening["rest"]):
            requirements = _STRING.findall(inline["items"])
            entries = tuple(Entry(r, (f'{_INDENT}"{r}",\n',)) for r in requirements)
            parsed: DependencyList | None = DependencyList(entries, (), f"{opening['key']} = [\n")
            block = [line]
        else:
            end = next((i for i in range(index, len(lines)) if lines[i].strip() == "]"), None)
            rest = opening["rest"].strip()
            if end is None or (rest and not rest.startswith("#")):
                skeleton.append(line)
                continue
            parsed = _parse_block(line, lines[index:end])
            block = lines[index - 1 : end + 1]
            index = end + 1
        if parsed is None:
            skeleton.extend(block)
            continue
        found[name] = parsed
        skeleton.append(_PLACEHOLDER.format(name) + "\n")
    return skeleton, found


@dataclass
class ListMerge:
    """The merge of one list: its lines, and the packages both sides changed differently."""

    lines: list[str]
    conflicts: list[str] = field(default_factory=list)
    #: Whether the owner and the template both changed this list.
    both_changed: bool = False


def merge_list(base: DependencyList, ours: DependencyList, theirs: DependencyList) -> ListMerge:
    """Merge one list package by package; a package changed differently on both sides conflicts."""
    b, o, t = base.by_name(), ours.by_name(), theirs.by_name()
    chosen: dict[str, Entry | tuple[Entry | None, Entry | None]] = {}
    conflicts = []
    for package in [
        *o,
        *(p for p in t if p not in o),
        *(p for p in b if p not in o and p not in t),
    ]:
        mine, template, was = o.get(package), t.get(package), b.get(package)
        # Lines first (a comment the template reworded arrives), then the requirement alone:
        # `uv add` moves the comment above the place it inserts at to the new line.
        if mine == was:
            pick = template
        elif template == was or _same(mine, template) or _same(template, was):
            pick = mine
        elif _same(mine, was):
            pick = template
        else:
            chosen[package] = (mine, template)
            conflicts.append(package)
            continue
        if pick is not None:
            chosen[package] = pick
    order = list(chosen)
    if ours.is_sorted():
        order.sort(key=lambda package: uv_sort_key(_requirement_of(chosen[package])))
    lines: list[str] = []
    for package in order:
        value = chosen[package]
        if isinstance(value, Entry):
            lines.extend(value.lines)
        else:
            mine, template = value
            lines.append(f"<<<<<<< {OURS}: {package}\n")
            lines.extend(mine.lines if mine else ())
            lines.append("=======\n")
            lines.extend(template.lines if template else ())
            lines.append(f">>>>>>> {THEIRS}: {package}\n")
    lines.extend(ours.tail)
    both = ours.entries != base.entries and theirs.entries != base.entries
    return ListMerge(lines, conflicts, both_changed=both and ours.entries != theirs.entries)


def _same(left: Entry | None, right: Entry | None) -> bool:
    """Compare two entries by requirement, ignoring the comments above them."""
    if left is None or right is None:
        return left is right
    return left.requirement == right.requirement


def _requirement_of(value: Entry | tuple[Entry | None, Entry | None]) -> str:
    if isinstance(value, Entry):
        return value.requirement
    return next(entry.requirement for entry in value if entry is not None)


@dataclass
class Merged:
    """pyproject.toml merged: its text, the lists both sides changed, the packages in conflict."""

    text: str
    lists: list[str]
    conflicts: list[str]


def merge_text(ours: str, base: str, theirs: str) -> str:
    """Merge three texts with `git merge-file`, labelled as Copier labels them."""
    with tempfile.TemporaryDirectory(prefix="copier-flask-service-merge.") as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder, name)
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        result = subprocess.run(  # noqa: S603 (git, fixed arguments, our own files)
            ["git", "merge-file", "-p", "-L", OURS, "-L", BASE, "-L", THEIRS, *paths],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode < 0 or result.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {result.stderr.strip()}")
    return result.stdout


def merge_pyproject(base: str, ours: str, theirs: str) -> Merged:
    """Merge three versions of pyproject.toml: lists package by package, the rest as text."""
    skeletons, lists = [], []
    for text in (base, ours, theirs):
        skeleton, found = split_lists(text)
        skeletons.append("".join(skeleton))
        lists.append(found)
    merged = merge_text(skeletons[1], skeletons[0], skeletons[2])
    both, conflicts = [], []
    empty = DependencyList(())
    for name in {**lists[1], **lists[2]}:
        placeholder = _PLACEHOLDER.format(name)
        result = merge_list(
            lists[0].get(name, empty),
            lists[1].get(name, empty),
            lists[2].get(name, empty),
        )
        opening = (lists[1].get(name) or lists[2][name]).opening
        merged = merged.replace(placeholder + "\n", opening + "".join(result.lines) + "]\n")
        if result.both_changed:
            both.append(name)
        conflicts += result.conflicts
    return Merged(merged, both, conflicts)
