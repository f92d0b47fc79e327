"""The generated Dockerfile, built by a real container engine and served as an image.

No image registry is reachable here: `.ci/stand-in-images` builds the base images the
Dockerfile names (Debian's python3 under `python:<version>-slim-<release>`, uv's binaries
under `ghcr.io/astral-sh/uv:<version>`) once, and the unmodified Dockerfile builds through
the generated Makefile's `make image`, which finds them without pulling. A machine without
an engine skips these tests visibly; CI (CI=true) fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.answers import CONTAINED_PYTHONS, QUESTIONS
from tests.support import containers
from tests.support.containers import base_image, in_image
from tests.support.projects import DEFAULT_PYTHON, Rendered, render
from tests.support.served import POSTGRES_URL, SECRET_KEY, free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.docker]


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the docker client with `args`."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


@pytest.fixture(scope="session")
def engine() -> None:
    """Require a running container engine."""
    containers.engine()


@pytest.fixture
def image(engine: None, project: Rendered) -> Iterator[str]:
    """Build the project's image from its unmodified Dockerfile; remove it afterwards."""
    if shutil.which("debootstrap") is None and not os.environ.get("CI"):
        pytest.skip("no debootstrap to build the stand-in base image")
    started = time.monotonic()
    base = base_image(project)
    if project.answers.get("python_version") in CONTAINED_PYTHONS:
        # No interpreter of it here, so the copy task could not lock: lock as its owner would.
        in_image(project, base, "uv lock")
    assert (project.path / "uv.lock").is_file(), "the copy task wrote no uv.lock"
    tag = f"copier-flask-service-test/{project.name}:{uuid.uuid4().hex[:8]}"
    # As a person builds it: the Makefile's target (it runs `docker build --tag $(IMAGE) .`).
    make = ["make", "image", f"IMAGE={tag}"]  # no uv: the host's Python is not asked for
    built = subprocess.run(
        make, cwd=project.path, capture_output=True, text=True, check=False, timeout=900
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    print(f"{project.name}: stand-in and image built in {time.monotonic() - started:.0f} s")
    yield tag
    docker("image", "rm", "--force", tag)


@pytest.fixture(
    params=[
        pytest.param({"python_version": DEFAULT_PYTHON}, id="defaults"),
        pytest.param(
            {"database": "postgresql", "celery": True},
            id="postgresql-celery",
            marks=pytest.mark.postgres,
        ),
        # Every other Python the questions offer, each on its own base image.
        *(
            pytest.param({"python_version": version}, id=f"python-{version}")
            for version in QUESTIONS["python_version"]["choices"].values()
            if version != DEFAULT_PYTHON
        ),
    ]
)
def project(request: pytest.FixtureRequest, copie: Any) -> Rendered:
    """Render the defaults, PostgreSQL with Celery, or the defaults on another Python."""
    overrides: dict[str, Any] = request.param
    rendered = render(copie, "defaults", **overrides)
    rendered.name = request.node.callspec.id
    return rendered


class Container:
    """A started container of the image, on the host's network, and what it answers."""

    def __init__(self, image: str, port: int, env: dict[str, str]) -> None:
        self.port = port
        variables = [f"--env={name}={value}" for name, value in env.items()]
        run = docker("run", "--detach", "--network=host", *variables, image)
        assert run.returncode == 0, run.stderr
        self.id = run.stdout.strip()

    def state(self) -> dict[str, Any]:
        """Return docker's view of the container (State)."""
        inspected = docker("inspect", "--format", "{{json .State}}", self.id)
        state: dict[str, Any] = json.loads(inspected.stdout)
        return state

    def healthy(self) -> bool:
        """Say whether the HEALTHCHECK passed; fail with the logs if the container stopped."""
        state = self.state()
        assert state["Running"], f"the container stopped:\n{self.logs()}"
        return bool(state["Health"]["Status"] == "healthy")

    def logs(self) -> str:
        """Return what the container wrote."""
        logs = docker("logs", self.id)
        return logs.stdout + logs.stderr

    def exec(self, *command: str) -> str:
        """Run `command` in the container and return its output; fail on an error."""
        result = docker("exec", self.id, *command)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        return result.stdout

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """Send an HTTP request to the served app; return the status and the JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method
        )
        request.add_header("Host", "api.example.com")  # one of TRUSTED_HOSTS
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (http, loopback)
            return answer.status, json.loads(answer.read())

    def remove(self) -> None:
        """Remove the container, running or not."""
        docker("rm", "--force", self.id)


def database_url(project: Rendered) -> tuple[str, str | None]:
    """Return the DATABASE_URL the container gets, and the PostgreSQL database to create."""
    if project.answers.get("database") != "postgresql":
        return "", None
    name = f"image_test_{uuid.uuid4().hex[:8]}"
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}", name


def admin(image: str, statement: str) -> None:
    """Run one SQL statement on the PostgreSQL server with the image's own psycopg."""
    script = (
        "import psycopg, sys\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as connection:\n"
        "    connection.execute(sys.argv[2])\n"
    )
    done = docker("run", "--rm", "--network=host", image, "python", "-c", script, POSTGRES_URL,
                  statement)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_image_is_built_served_and_stopped(project: Rendered, image: str) -> None:
    port = free_port()
    url, created = database_url(project)
    env = {"SECRET_KEY": SECRET_KEY, "PORT": str(port), "WEB_CONCURRENCY": "2"}
    # As in production: only named hosts. The HEALTHCHECK says Host: localhost, as the
    # README asks to list (Kubernetes' probes do the same).
    env["TRUSTED_HOSTS"] = "api.example.com,localhost"
    if url:
        env["DATABASE_URL"] = url
    if project.answers.get("celery"):
        env["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/0"
    container = Container(image, port, env)
    try:
        started = time.monotonic()
        wait_until(container.healthy, "the HEALTHCHECK on /livez", 90)
        print(f"{project.name}: healthy {time.monotonic() - started:.0f} s after the start")
        assert container.request("GET", "/livez") == (200, {"status": "ok"})
        # The Python the answer names, in the image and in the service's environment.
        version = project.answers.get("python_version", DEFAULT_PYTHON)
        for python in ("python", "/app/.venv/bin/python"):
            assert container.exec(python, "--version").startswith(f"Python {version}.")

        # gunicorn, PID 1, and its workers run as the image's user, never root.
        uids = container.exec("sh", "-c", "grep -h '^Uid:' /proc/[0-9]*/status")
        assert {line.split()[1] for line in uids.splitlines()} == {"10001"}
        assert container.exec("cat", "/proc/1/cmdline").startswith("gunicorn: master")
        # Nothing to build with, and no uv, in the final stage.
        container.exec("sh", "-c", "! command -v uv && ! command -v gcc")

        # A database round trip: migrations as a deploy step, then the API.
        if created:
            admin(image, f"CREATE DATABASE {created}")
        (package,) = (path.name for path in (project.path / "src").iterdir())
        container.exec("flask", "--app", f"{package}.wsgi", "db", "upgrade")
        status, item = container.request("POST", "/api/items", {"name": "shipped"})
        assert (status, item["name"]) == (201, "shipped")
        status, page = container.request("GET", "/api/items")
        assert status == 200
        assert [found["name"] for found in page["items"]] == ["shipped"]

        started = time.monotonic()
        stopped = docker("stop", "--time", "30", container.id)
        took = time.monotonic() - started
        assert stopped.returncode == 0, stopped.stderr
        state = container.state()
        assert state["ExitCode"] == 0, container.logs()[-3000:]
        assert took < 10, f"docker stop took {took:.1f} s"
        assert "Shutting down: Master" in container.logs()
        print(f"{project.name}: stopped with exit code 0 in {took:.1f} s")
    finally:
        container.remove()
        if created:
            admin(image, f"DROP DATABASE IF EXISTS {created}")
