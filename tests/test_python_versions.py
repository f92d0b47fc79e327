"""The offered Pythons this machine has no interpreter of, tested for real in their images.

The covering array's answer sets run on this machine's 3.11 to 3.13 (tests/test_generated.py).
A newer offered version (tests/answers.py: CONTAINED_PYTHONS) is locked, linted, type-checked
and tested in the stand-in image of that version (tests/support/containers.py), as its own
CI would run on it: the defaults on each, and on the newest every switch on with gevent, the
answer set with the most compiled dependencies (gevent, psycopg, orjson, pydantic-core,
setproctitle). A CI minute each: the older ones' wheels have been out longer.
"""

from __future__ import annotations

import secrets
import shlex
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.answers import CONTAINED_PYTHONS, QUESTIONS
from tests.support.containers import base_image, engine, in_image
from tests.support.projects import needs_broker, needs_postgres, render
from tests.support.served import POSTGRES_URL, RUN_SQL

pytestmark = [pytest.mark.slow, pytest.mark.docker]

#: Every check the project's CI runs, then its suite.
CHECKS = (
    "uv lock && uv sync --locked && uv run python --version"
    " && uv run ruff check && uv run ruff format --check && uv run mypy && uv run pytest -q"
)
#: Prints the standard library's module names, which package_name must not shadow.
STDLIB = "uv run python -c 'import sys; print(\" \".join(sorted(sys.stdlib_module_names)))'"


@pytest.mark.parametrize(
    ("version", "name", "overrides"),
    [
        *(
            pytest.param(version, "defaults", {}, id=f"{version}-defaults")
            for version in CONTAINED_PYTHONS
        ),
        # Every compiled dependency on the newest: where a wheel is likeliest to be missing.
        pytest.param(
            CONTAINED_PYTHONS[-1],
            "everything-on",
            {"worker_class": "gevent"},
            id=f"{CONTAINED_PYTHONS[-1]}-everything-on",
            marks=[pytest.mark.postgres, pytest.mark.broker],
        ),
    ],
)
def test_an_offered_python_runs_the_generated_checks_in_its_image(
    copie: Any, version: str, name: str, overrides: dict[str, Any]
) -> None:
    engine()
    project = render(copie, name, python_version=version, **overrides)
    image = base_image(project)
    script = CHECKS
    # With a broker here, the suite's opt-in worker tests run too.
    script += " -m 'broker or not broker'" if needs_broker(project.answers) else ""
    if needs_postgres(project.answers):
        # A database of its own, made and dropped with the project's psycopg (in the image:
        # this machine has no environment of that Python).
        database = f"python_versions_{secrets.token_hex(6)}"
        url = urlsplit(POSTGRES_URL)._replace(path=f"/{database}").geturl()
        sql = f"uv run python -c {shlex.quote(RUN_SQL)} {shlex.quote(POSTGRES_URL)}"
        create = f"{sql} 'CREATE DATABASE {database}'"
        drop = f"{sql} 'DROP DATABASE IF EXISTS {database} WITH (FORCE)'"
        script = (
            f"uv lock && uv sync --locked && {create} && trap {shlex.quote(drop)} EXIT"
            f" && export DATABASE_URL={shlex.quote(url)} && {script}"
        )
    output = in_image(project, image, script)
    assert f"Python {version}." in output
    assert " passed" in output
    assert "failed" not in output
    assert "skipped" not in output
    stdlib = {name for name in in_image(project, image, STDLIB).split() if name[0] != "_"}
    missing = sorted(stdlib - set(QUESTIONS["stdlib_module_names"]["default"]))
    assert not missing, f"add to stdlib_module_names in includes/reserved_names.yml: {missing}"
