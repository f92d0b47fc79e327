"""The generated Makefile: every target `make` lists, run for real in a fresh copy.

`make -n` proves only what a target would run (tests/test_delivery.py); here each one runs as
a person runs it, in the order the README gives them. `make image` needs a container engine:
tests/test_image.py builds every image it serves with it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.projects import Rendered, render
from tests.support.served import free_port, wait_until
from tests.support.terminal import answering, call, in_another_terminal

pytestmark = pytest.mark.slow

#: Seconds `make serve` may take to answer: its `uv run` may install the project first.
FIRST_START = 180.0


def make(project: Rendered, *arguments: str) -> str:
    """Run `make *arguments` in `project`; return its output, or fail with it."""
    result = project.run("make", *arguments, timeout=900)
    shown = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, f"make {' '.join(arguments)}:\n{shown}"
    return result.stdout


def python_sources(project: Rendered) -> dict[Path, bytes]:
    """Return every Python file of the project outside its environment, with its bytes."""
    return {
        path: path.read_bytes()
        for path in project.path.rglob("*.py")
        if ".venv" not in path.relative_to(project.path).parts
    }


def test_every_make_target_runs_for_real(copie: Any) -> None:
    """install, lint, format, test, migrate and serve each do what `make` says they do."""
    project = render(copie, "defaults")
    listed = [line.split("\t")[0] for line in make(project).splitlines() if line]
    ran = {"help"}  # `make` alone: the list just read

    make(project, "install")
    assert (project.path / ".venv" / "bin" / "python").is_file()
    ran.add("install")

    make(project, "lint")
    ran.add("lint")

    before = python_sources(project)
    make(project, "format")
    assert python_sources(project) == before, "a fresh copy is not as `make format` leaves it"
    ran.add("format")

    tested = make(project, "test")
    assert " passed" in tested
    assert "failed" not in tested
    ran.add("test")

    # The README's first step: the development settings, then the database they name.
    shutil.copy(project.path / ".env.example", project.path / ".env")
    make(project, "migrate")
    (database,) = (project.path / "instance").glob("*.sqlite3")
    with sqlite3.connect(database) as connection:
        (revisions,) = connection.execute("SELECT count(*) FROM alembic_version").fetchone()
    assert revisions == 1
    ran.add("migrate")

    port = free_port()
    env = {**project.environment(), "FLASK_RUN_PORT": str(port)}
    with in_another_terminal("make serve", project, env, "serve"):
        wait_until(lambda: answering(port), "`make serve` did not answer", FIRST_START)
        # Ready only with the migrations at their newest revision: `make migrate` did that.
        assert call(port, "GET", "/readyz")[0] == 200
        status, item = call(port, "POST", "/api/items", {"name": "Tea"})
        assert status == 201, item
    ran.add("serve")

    assert set(listed) == ran | {"image"}, "a target `make` lists that no test runs"
