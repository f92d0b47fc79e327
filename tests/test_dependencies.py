"""hooks/dependencies.py: pyproject.toml's dependency lists merged package by package."""

import pytest

from hooks.dependencies import merge_pyproject, package_name, split_lists, uv_sort_key

BASE = """\
[project]
name = "demo"
dependencies = [
    "flask>=3.1,<3.2",
    # gunicorn's proc_name.
    "setproctitle>=1.3,<2",
]

[dependency-groups]
dev = [
    "mypy>=1.13,<3",
    "ruff>=0.8,<1",
]

[tool.ruff]
line-length = 99
"""


def changed(text: str, *edits: tuple[str, str]) -> str:
    """Apply each (old, new) replacement to `text`; fail if one changes nothing."""
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def lines_of(text: str, key: str) -> list[str]:
    """Return the requirements of one list of a merged text."""
    _, lists = split_lists(text)
    return [entry.requirement for entry in lists[key].entries]


FLASK = '    "flask>=3.1,<3.2",\n'
RUFF = '    "ruff>=0.8,<1",\n'


@pytest.mark.parametrize(
    ("ours", "theirs", "dependencies", "dev"),
    [
        pytest.param(
            # `uv add tenacity` and the template's typing-extensions, both at the list's end.
            ((FLASK, FLASK), ('2",\n]', '2",\n    "tenacity>=8",\n]')),
            ((FLASK, FLASK), ('2",\n]', '2",\n    "typing-extensions>=4.12",\n]')),
            ["flask>=3.1,<3.2", "setproctitle>=1.3,<2", "tenacity>=8", "typing-extensions>=4.12"],
            ["mypy>=1.13,<3", "ruff>=0.8,<1"],
            id="both-add-at-the-end",
        ),
        pytest.param(
            ((FLASK, '    "alembic>=1.13",\n' + FLASK),),
            ((FLASK, ""),),
            ["alembic>=1.13", "setproctitle>=1.3,<2"],
            ["mypy>=1.13,<3", "ruff>=0.8,<1"],
            id="one-adds-one-removes",
        ),
        pytest.param(
            ((FLASK, '    "flask>=3.1.2,<3.2",\n'),),
            ((RUFF, '    "pytest>=8.3",\n    "ruff>=0.9,<1",\n'),),
            ["flask>=3.1.2,<3.2", "setproctitle>=1.3,<2"],
            ["mypy>=1.13,<3", "pytest>=8.3", "ruff>=0.9,<1"],
            id="re-pins-in-two-lists",
        ),
        pytest.param(
            ((FLASK, FLASK + '    "Flask_Cors>=5",\n'),),
            ((FLASK, FLASK + '    "flask-babel>=4",\n'),),
            ["flask>=3.1,<3.2", "flask-babel>=4", "Flask_Cors>=5", "setproctitle>=1.3,<2"],
            ["mypy>=1.13,<3", "ruff>=0.8,<1"],
            id="sorted-as-uv-sorts",
        ),
    ],
)
def test_lists_merge_package_by_package(
    ours: tuple[tuple[str, str], ...],
    theirs: tuple[tuple[str, str], ...],
    dependencies: list[str],
    dev: list[str],
) -> None:
    merged = merge_pyproject(BASE, changed(BASE, *ours), changed(BASE, *theirs))
    assert merged.conflicts == []
    assert "<<<<<<<" not in merged.text
    assert lines_of(merged.text, "project.dependencies") == dependencies
    assert lines_of(merged.text, "dependency-groups.dev") == dev
    assert merged.text.endswith("[tool.ruff]\nline-length = 99\n")


def test_a_comment_stays_with_its_package() -> None:
    ours = changed(BASE, (FLASK, FLASK + '    "rich>=13",\n'))
    merged = merge_pyproject(BASE, ours, changed(BASE, (FLASK, '    "apispec>=6",\n' + FLASK)))
    assert '    "rich>=13",\n    # gunicorn\'s proc_name.\n    "setproctitle' in merged.text


def test_only_the_lists_both_changed_are_named() -> None:
    ours = changed(BASE, (FLASK, FLASK + '    "rich>=13",\n'))
    theirs = changed(BASE, (FLASK, '    "apispec>=6",\n' + FLASK), (RUFF, '    "ruff>=0.9",\n'))
    assert merge_pyproject(BASE, ours, theirs).lists == ["project.dependencies"]


def test_a_package_both_changed_differently_conflicts_and_is_named() -> None:
    ours = changed(BASE, (FLASK, '    "flask>=3.1.1,<3.2",\n    "rich>=13",\n'))
    theirs = changed(BASE, (FLASK, '    "apispec>=6",\n    "flask>=3.1,<4",\n'))
    merged = merge_pyproject(BASE, ours, theirs)
    assert merged.conflicts == ["flask"]
    assert (
        "<<<<<<< before updating: flask\n"
        '    "flask>=3.1.1,<3.2",\n'
        "=======\n"
        '    "flask>=3.1,<4",\n'
        ">>>>>>> after updating: flask\n"
    ) in merged.text
    assert '"apispec>=6"' in merged.text
    assert '"rich>=13"' in merged.text


def test_the_owners_own_order_is_kept() -> None:
    unsorted = changed(BASE, (FLASK, ""), ('2",\n]', '2",\n' + FLASK + "]"))
    ours = changed(unsorted, (FLASK, FLASK + '    "aiohttp>=3",\n'))
    theirs = changed(unsorted, (FLASK, FLASK + '    "apispec>=6",\n'))
    merged = merge_pyproject(unsorted, ours, theirs)
    assert lines_of(merged.text, "project.dependencies") == [
        "setproctitle>=1.3,<2",
        "flask>=3.1,<3.2",
        "aiohttp>=3",
        "apispec>=6",
    ]


def test_other_lines_still_merge_as_text() -> None:
    ours = changed(BASE, ("line-length = 99", "line-length = 120"))
    theirs = changed(BASE, ("line-length = 99", "line-length = 100"))
    merged = merge_pyproject(BASE, ours, theirs)
    assert merged.conflicts == []
    assert "<<<<<<< before updating\nline-length = 120\n=======\n" in merged.text


def test_a_list_new_on_both_sides_is_merged() -> None:
    ours = BASE + '\n[project.optional-dependencies]\ncli = ["click>=8"]\n'
    theirs = BASE + '\n[project.optional-dependencies]\ncli = [\n    "rich>=13",\n]\n'
    merged = merge_pyproject(BASE, ours, theirs)
    assert lines_of(merged.text, "project.optional-dependencies.cli") == ["click>=8", "rich>=13"]


@pytest.mark.parametrize(
    ("requirement", "name"),
    [
        ("Flask_Cors>=5", "flask-cors"),
        ("psycopg[binary]>=3.2,<4", "psycopg"),
        ("zope.interface ; python_version < '3.12'", "zope-interface"),
        ("demo @ https://example.com/demo.whl", "demo"),
    ],
)
def test_package_name(requirement: str, name: str) -> None:
    assert package_name(requirement) == name


def test_uv_sorts_a_prefix_first() -> None:
    requirements = ["pylint-module-boundaries>=1.3", "pylint>=3.2", "Pydantic>=2"]
    assert sorted(requirements, key=uv_sort_key) == [
        "Pydantic>=2",
        "pylint>=3.2",
        "pylint-module-boundaries>=1.3",
    ]
