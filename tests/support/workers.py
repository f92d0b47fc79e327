"""Celery workers of a served project: start them, enqueue jobs, wait for results."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.projects import Rendered
from tests.support.served import PACKAGE, Server, json_lines, wait_until

#: The shared brokers the `broker` tests use (each test on a queue of its own).
BROKERS = {
    "redis": "redis://127.0.0.1:6379/13",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}


@dataclass
class Worker:
    """A `celery worker` process of the project, and its log."""

    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        """Return the JSON lines written so far."""
        return json_lines(self.log)

    def ready(self) -> bool:
        """Tell whether the worker has connected and is taking jobs."""
        return any(line["message"].endswith(" ready.") for line in self.lines())

    def ran(self, job_id: str, message: str) -> bool:
        """Tell whether the worker logged `message` for the job."""
        return any(
            line.get("task_id") == job_id and line["message"].startswith(message)
            for line in self.lines()
        )


@dataclass
class Deployment:
    """A served project, and what its workers need to reach the same broker and queue."""

    project: Rendered
    server: Server
    env: dict[str, str]
    folder: Path

    @contextmanager
    def worker(self, **variables: str) -> Iterator[Worker]:
        """Start a worker (one process, prefork); SIGKILL its group at the end, if alive."""
        name = f"test-{secrets.token_hex(4)}@%h"
        log = self.folder / f"worker-{name.partition('@')[0]}.log"
        command: list[str | Path] = [self.project.path / ".venv/bin/celery", "-A"]
        command += [f"{PACKAGE}.worker", "worker"]
        command += ["--concurrency", "1", "--hostname", name, "--without-mingle"]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=self.project.path,
                env={**self.env, **variables},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            yield Worker(process, log)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def enqueue(self, payload: object, seconds: float, request_id: str) -> str:
        """POST a job and return its id."""
        body = json.dumps({"payload": payload, "seconds": seconds}).encode()
        headers = {"Content-Type": "application/json", "X-Request-ID": request_id}
        reply = self.server.request("POST", "/api/jobs", body, headers)
        assert reply.status == 202, reply
        job_id: str = reply.json()["id"]
        return job_id

    def state(self, job_id: str) -> str:
        """Return the job's state as `GET /api/jobs/<id>` reads it now."""
        state: str = self.server.get(f"/api/jobs/{job_id}").json()["state"]
        return state

    def result(self, job_id: str, timeout: float) -> Any:
        """Wait until the job succeeded, and return its result."""

        def succeeded() -> dict[str, Any] | None:
            body: dict[str, Any] = self.server.get(f"/api/jobs/{job_id}").json()
            return body if body["state"] == "SUCCESS" else None

        return wait_until(succeeded, f"job {job_id} did not succeed", timeout)["result"]
