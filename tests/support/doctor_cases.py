"""Doctor's cases: files written under a root, each finding marked `# expect: RULE` on its line.

A finding doctor makes a warning (a context it knows as harmless) is marked
`# expect: FD502 (warning)`: the marker holds the severity too.
"""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

from hooks import doctor

EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+(?:\(warning\)[A-Z0-9, ]*)*)$")


def write(root: Path, files: dict[str, str]) -> None:
    """Write a case's files under root."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(source).lstrip("\n"))


def expected(root: Path, files: dict[str, str]) -> list[tuple[str, int, str]]:
    """Return the (file, line, rule) that the case's `# expect:` comments name."""
    found = []
    for name in files:
        for number, line in enumerate((root / name).read_text().splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                found += [(name, number, rule.strip()) for rule in match.group(1).split(",")]
    return sorted(found)


def findings(root: Path) -> list[tuple[str, int, str]]:
    """Return (file, line, rule) for everything doctor finds under root."""
    return sorted(
        (
            Path(f.path).relative_to(root).as_posix(),
            f.line,
            f"{f.rule} (warning)" if f.severity == "warning" else f.rule,
        )
        for f in doctor.check_paths([root])
    )
