"""The matrix: every pair of accepted answers in some set, nothing refused, the same every run."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import combinations, product
from typing import Any

import pytest

from tests.answers import (
    CONSTRAINTS,
    FACTORS,
    FOLDED,
    NAMED,
    PUBLIC,
    Row,
    Value,
    allowed,
    answers_of,
    covering_array,
    markdown,
    row_of,
)
from tests.support.projects import MATRIX, TEMPLATE

Pair = tuple[tuple[str, Value], tuple[str, Value]]


def pairs_of(row: Row) -> set[Pair]:
    """Return every pair of (factor, value) that `row` holds."""
    return {((a, row[a]), (b, row[b])) for a, b in combinations(FACTORS, 2)}


def every_row() -> list[Row]:
    """Return every complete row copier.yml accepts (some thousands: cheap to list)."""
    rows = (dict(zip(FACTORS, values, strict=True)) for values in product(*FACTORS.values()))
    return [row for row in rows if allowed(row)]


def test_every_choice_and_switch_is_a_factor() -> None:
    """A new choice or switch in copier.yml joins the matrix by itself."""
    asked = {
        key
        for key, question in PUBLIC.items()
        if "choices" in question or question["type"] == "bool"
    }
    assert set(FACTORS) | set(FOLDED) == asked
    # celery_broker is asked only with Celery: one factor, never a broker with Celery off.
    assert FACTORS["celery"] == [False, "redis", "rabbitmq"]
    assert answers_of({**row_of({}), "celery": "rabbitmq"})["celery_broker"] == "rabbitmq"
    assert "celery_broker" not in answers_of(row_of({}))


def test_every_allowed_pair_is_in_some_set() -> None:
    covered = set().union(*map(pairs_of, covering_array().values()))
    possible = set().union(*map(pairs_of, every_row()))
    assert possible - covered == set()


def test_no_set_holds_a_refused_combination() -> None:
    for name, row in covering_array().items():
        assert allowed(row), name


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(row, id=f"{why}: {', '.join(f'{key}={row[key]}' for key in keys)}")
        for why, keys, test in CONSTRAINTS
        for row in (
            {**row_of({}), **dict(zip(keys, values, strict=True))}
            for values in product(*(FACTORS[key] for key in keys))
        )
        if not test(row)
    ],
)
def test_what_the_constraints_leave_out_copier_refuses(copie: Any, row: Row) -> None:
    """The constraints are copier.yml's own: the matrix skips nothing Copier would accept."""
    result = copie.copy(extra_answers=answers_of(row))
    assert result.exit_code != 0
    assert "Validation error" in str(result.exception)


def test_the_named_sets_are_what_they_say() -> None:
    rows = covering_array()
    assert rows["defaults"] == {factor: values[0] for factor, values in FACTORS.items()}
    switches = [factor for factor, values in FACTORS.items() if True in values]
    assert all(rows["everything-on"][switch] is True for switch in switches)
    off = rows["everything-off"]
    for factor, values in FACTORS.items():
        if "none" in values:
            assert off[factor] == "none", factor
        elif False in values:
            assert off[factor] is False, factor
    assert list(rows)[: len(NAMED)] == list(NAMED)


def test_the_readme_prints_the_matrix() -> None:
    """docs/developing.md's table is the matrix; a change of rows or of covertable shows here."""
    readme = (TEMPLATE / "docs" / "developing.md").read_text()
    assert markdown(covering_array()) in readme


def test_the_matrix_is_the_same_in_a_fresh_process() -> None:
    """No hash seed, set order or clock changes the rows: a fresh interpreter makes the same."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    printed = subprocess.run(
        [sys.executable, "-m", "tests.answers"],
        cwd=TEMPLATE,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert printed == markdown(covering_array())


def test_the_matrix_names_each_set_once() -> None:
    assert list(MATRIX) == list(covering_array())
