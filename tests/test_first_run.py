"""The generated README's first-run block, run as a newcomer runs it, for five answer sets.

A fresh copy; then the block's commands in order, each as written (`cp .env.example .env`,
`createdb`, `flask db upgrade`, `flask run --debug`, the `celery worker` in another
terminal); then an item is created and a job posted and answered `SUCCESS`. The only thing
changed is the development server's port (`FLASK_RUN_PORT`, which `flask run` reads), so
that runs in parallel do not meet on port 5000. Each copy has a name of its own, so its
database and queue (both named after the package) are its own too.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.projects import Rendered, render
from tests.support.served import free_port, wait_until
from tests.support.terminal import answering, call, in_another_terminal

pytestmark = pytest.mark.slow

#: The answer sets the issues name, and the marks of the services each one needs.
FIRST_RUNS = [
    pytest.param({}, id="defaults"),
    pytest.param({"database": "none"}, id="no-database"),
    pytest.param(
        {"database": "postgresql", "celery": True, "celery_broker": "redis"},
        id="postgresql-celery-redis",
        marks=[pytest.mark.postgres, pytest.mark.broker],
    ),
    pytest.param(
        {"celery": True, "celery_broker": "rabbitmq"},
        id="celery-rabbitmq",
        marks=pytest.mark.broker,
    ),
    # Callers need a token: the README's "Callers" section says how to get one.
    pytest.param({"auth": "oidc"}, id="oidc"),
]
#: Seconds the first `uv run` of a command may take: it installs the project first.
FIRST_START = 180.0
#: The most lines a development worker may print before it says it is ready: a screen a
#: person reads (Celery's connection and readiness lines), not a library's DEBUG output.
FIRST_SCREEN = 8
#: What may be on the worker's stderr: uv's report of the install its first `uv run` did,
#: and Celery's warning for a worker run as root, as this suite's machine does (a
#: newcomer's account never sees it).
EXPECTED_STDERR = re.compile(
    r"^(Using CPython|Creating virtual environment|Resolved|Prepared|Installed|Uninstalled"
    r"|Audited|Bytecode compiled|Building|Built| [+-] )"
    r"|superuser privileges|absolutely not recommended|--uid option|uid=0|_warn_or_raise_security"
)


def first_run_block(project: Rendered) -> list[str]:
    """Return the commands of the README's first-run block, comments dropped, in order."""
    readme = (project.path / "README.md").read_text()
    found = re.search(r"The first run, from this folder:\n\n```sh\n(.*?)```", readme, re.S)
    assert found, "no first-run block in the generated README"
    return [line.split("  #")[0].strip() for line in found[1].splitlines() if line.strip()]


def token_command(project: Rendered) -> str:
    """Return the command of the README's "Callers" section that prints a token."""
    readme = (project.path / "README.md").read_text()
    found = re.search(r"^TOKEN=\$\((.*)\)$", readme, re.M)
    assert found, "no token command in the generated README"
    return found[1]


def screen_before_ready(out: Path) -> list[str]:
    """Return the worker's stdout lines up to its "ready." line, or [] before it is ready."""
    lines = out.read_text(errors="replace").splitlines()
    ready = [number for number, line in enumerate(lines) if line.endswith(" ready.")]
    return lines[: ready[0] + 1] if ready else []


@pytest.mark.parametrize("answers", FIRST_RUNS)
def test_the_first_run_works_as_written(copie: Any, answers: dict[str, Any]) -> None:
    name = f"First Run {secrets.token_hex(3)}"
    project = render(copie, "defaults", project_name=name, **answers)
    block = first_run_block(project)
    port = free_port()
    project.env["FLASK_RUN_PORT"] = str(port)  # `flask run` reads it
    env = project.environment()
    with ExitStack() as stack:
        if answers.get("database") == "postgresql":
            database = project.package
            stack.callback(
                subprocess.run,
                ["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", database],
                check=False,
            )
        worker = None
        for command in block:
            if " run --debug" in command:
                stack.enter_context(in_another_terminal(command, project, env, "server"))
            elif "celery" in command and command.endswith(" worker"):
                worker = stack.enter_context(in_another_terminal(command, project, env, "worker"))
            else:
                done = project.run("bash", "-c", command, timeout=FIRST_START)
                assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
        wait_until(lambda: answering(port), "the development server did not answer", FIRST_START)
        token = None
        if answers.get("auth") == "oidc":
            assert call(port, "POST", "/api/items", {"name": "Tea"})[0] == 401
            printed = project.run("bash", "-c", token_command(project), timeout=FIRST_START)
            assert printed.returncode == 0, printed.stdout + printed.stderr
            token = printed.stdout.strip()
        if answers.get("database") != "none":
            status, item = call(port, "POST", "/api/items", {"name": "Tea"}, token)
            assert status == 201, item
        if answers.get("celery"):
            assert worker is not None, f"the block starts no worker: {block}"
            process, out, err = worker
            wait_until(
                lambda: screen_before_ready(out) or process.poll() is not None,
                "the worker did not get ready",
                FIRST_START,
            )
            assert process.poll() is None, out.read_text() + err.read_text()
            screen = screen_before_ready(out)
            assert len(screen) <= FIRST_SCREEN, "\n".join(screen)
            noise = [line for line in err.read_text().splitlines() if line.strip()]
            assert all(EXPECTED_STDERR.search(line) for line in noise), "\n".join(noise)
            status, job = call(port, "POST", "/api/jobs", {"payload": {"hello": "world"}})
            assert status == 202, job

            def succeeded() -> dict[str, Any] | None:
                body: dict[str, Any] = call(port, "GET", f"/api/jobs/{job['id']}")[1]
                return body if body["state"] == "SUCCESS" else None

            done_job = wait_until(succeeded, "the job posted did not succeed", 60)
            assert done_job["result"] == {"hello": "world"}
