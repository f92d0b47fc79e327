"""compose.yaml, up for real: the stack the generated README starts with `docker compose up`.

Compose v2, the tool of the current compose specification (`.ci/run` installs Debian trixie's
build of it; bookworm's 1.29 refuses the file's top-level `name:`, as the README says), on the
container engine tests/test_image.py uses. No image registry is reachable here: the images
compose would pull are local stand-ins under their official names
(`.ci/stand-in-service-images`), and the service's own is built from its Dockerfile on the
stand-in base image (`.ci/stand-in-images`).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.containers import base_image, engine
from tests.support.projects import TEMPLATE, Rendered, render
from tests.support.served import wait_until
from tests.support.tools import missing

pytestmark = [pytest.mark.slow, pytest.mark.docker]

#: Where compose.yaml publishes the proxy, as the README says.
PUBLISHED = "http://127.0.0.1:8000"
#: Seconds the stack may take to build and turn healthy (the image is built first).
STARTUP = 600.0
#: Seconds a job may take from its post to SUCCESS through the worker.
JOB_SECONDS = 60.0
#: Down, with the stack's volumes and the images it built.
DOWN = ("down", "--volumes", "--rmi", "local", "--timeout", "10")


def compose_tool() -> list[str]:
    """Return the command of Compose v2, or skip (fail in CI) where there is none."""
    engine()
    found = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True, check=False
    )
    if found.returncode or not found.stdout.startswith("2."):
        missing("no Compose v2 (`docker compose`; .ci/run installs Debian trixie's)")
    return ["docker", "compose"]


def stand_ins(project: Rendered) -> None:
    """Build the stand-ins of every image compose.yaml and the Dockerfile name."""
    base_image(project)
    command = [str(TEMPLATE / ".ci" / "stand-in-service-images")]
    built = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1200)
    assert built.returncode == 0, built.stdout + built.stderr


class Stack:
    """A compose project of the generated service: its commands, states and requests."""

    def __init__(self, project: Rendered, tool: list[str]) -> None:
        self.project = project
        # Its own name: a stack left behind by another run cannot be taken for this one.
        self.command = [*tool, "--project-name", f"compose-test-{uuid.uuid4().hex[:8]}"]

    def run(self, *arguments: str, timeout: float = 900) -> str:
        """Run a compose command; return its output, or fail with it."""
        result = self.project.run(*self.command, *arguments, timeout=timeout)
        assert result.returncode == 0, f"{arguments}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def states(self) -> dict[str, dict[str, Any]]:
        """Return every container of the stack, running or exited, by service."""
        output = self.run("ps", "--all", "--format", "json").strip()
        found = json.loads(output) if output.startswith("[") else [
            json.loads(line) for line in output.splitlines() if line
        ]  # fmt: skip
        return {container["Service"]: container for container in found}

    def logs(self) -> str:
        """Return what every container wrote, for a failure's message."""
        return self.project.run(*self.command, "logs", "--no-color", timeout=120).stdout[-6000:]

    def request(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """Send a JSON request through the published proxy; return status and body."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (http, loopback)
            f"{PUBLISHED}{path}", data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture(params=["redis", "rabbitmq"])
def stack(copie: Any, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The README's steps: `.env` from the example with a SECRET_KEY, then `up --build`."""
    tool = compose_tool()
    broker = request.param
    project = render(copie, "defaults", database="postgresql", celery=True, celery_broker=broker)
    stand_ins(project)
    example = (project.path / ".env.example").read_text()
    key = secrets.token_urlsafe(48)
    (project.path / ".env").write_text(example.replace("\nSECRET_KEY=\n", f"\nSECRET_KEY={key}\n"))
    started = Stack(project, tool)
    try:
        started.run("up", "--detach", "--build")
        yield started
    finally:
        # Whatever happened: the stack, its volumes and the images it built go.
        project.run(*started.command, *DOWN, timeout=300)


def test_compose_up_serves_items_and_jobs_then_down_removes_it(stack: Stack) -> None:
    def migrated() -> bool:
        migrate = stack.states().get("migrate", {})
        if migrate.get("State") == "exited":
            assert migrate["ExitCode"] == 0, stack.logs()
            return True
        return False

    wait_until(migrated, "the migrations one-shot did not complete", STARTUP)

    def healthy() -> bool:
        web = stack.states().get("web", {})
        assert web.get("State") in {None, "created", "running"}, stack.logs()
        return web.get("Health") == "healthy"

    wait_until(healthy, "the web service did not turn healthy", STARTUP)

    def answering() -> bool:
        try:
            return stack.request("GET", "/livez")[0] == 200
        except OSError:  # the proxy starts after the web turned healthy
            return False

    wait_until(answering, "the proxy did not answer on 127.0.0.1:8000", 60)
    status, item = stack.request("POST", "/api/items", {"name": "Tea"})
    assert status == 201, item
    assert stack.request("GET", f"/api/items/{item['id']}") == (200, item)

    status, job = stack.request("POST", "/api/jobs", {"payload": {"order": 42}})
    assert status == 202, job

    def succeeded() -> dict[str, Any] | None:
        body: dict[str, Any] = stack.request("GET", f"/api/jobs/{job['id']}")[1]
        return body if body["state"] == "SUCCESS" else None

    started = time.monotonic()
    done = wait_until(succeeded, f"the job did not succeed:\n{stack.logs()}", JOB_SECONDS)
    assert done["result"] == {"order": 42}, done
    print(f"job round trip: {time.monotonic() - started:.1f} s")

    stack.run(*DOWN, timeout=300)
    assert stack.states() == {}
    name = stack.command[stack.command.index("--project-name") + 1]
    label = f"label=com.docker.compose.project={name}"
    volumes = subprocess.run(
        ["docker", "volume", "ls", "--quiet", "--filter", label],
        capture_output=True,
        text=True,
        check=True,
    )
    assert volumes.stdout.strip() == "", "down --volumes left volumes behind"


def test_the_postgres_stand_in_honours_the_official_images_environment(copie: Any) -> None:
    """POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB make the cluster; no password, no start."""
    compose_tool()
    stand_ins(render(copie, "defaults", database="postgresql"))
    password = secrets.token_urlsafe(16)
    variables = ["--env=POSTGRES_USER=app", f"--env=POSTGRES_PASSWORD={password}"]
    started = subprocess.run(
        ["docker", "run", "--detach", *variables, "--env=POSTGRES_DB=shop", "postgres:17"],
        capture_output=True,
        text=True,
        check=True,
    )
    container = started.stdout.strip()
    try:
        # Over TCP, where the password is asked (the socket trusts, as the official image's).
        query = ["psql", "-h", "127.0.0.1", "-U", "app", "-d", "shop", "-tAc", "SELECT 1"]

        def answers(secret: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["docker", "exec", f"--env=PGPASSWORD={secret}", container, *query],
                capture_output=True,
                text=True,
                check=False,
            )

        let_in = "postgres:17 did not let app in with its password"
        wait_until(lambda: answers(password).stdout.strip() == "1", let_in, 60)
        refused = answers("wrong")
        assert refused.returncode != 0
        assert "password authentication failed" in refused.stderr
    finally:
        subprocess.run(["docker", "rm", "--force", container], capture_output=True, check=False)
    bare = subprocess.run(
        ["docker", "run", "--rm", "postgres:17"], capture_output=True, text=True, check=False
    )
    assert bare.returncode == 1
    assert "superuser password is not specified" in bare.stderr
