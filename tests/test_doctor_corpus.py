"""doctor on the snippets that reproduce what it met in real codebases (tests/doctor_corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.doctor_corpus import SNIPPETS
from tests.support.doctor_cases import expected, findings, write


@pytest.mark.parametrize("files", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_each_snippet_gets_exactly_its_expected_findings(
    tmp_path: Path, files: dict[str, str]
) -> None:
    write(tmp_path, files)
    assert findings(tmp_path) == expected(tmp_path, files)
