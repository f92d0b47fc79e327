"""A person's terminals in a generated project: long-lived commands, and the dev server.

Test modules that run what the generated README or Makefile says import these: a command
started as in another terminal (its whole process group stopped at the end), and JSON
requests to the development server it starts.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tests.support.projects import Rendered


@contextmanager
def in_another_terminal(
    command: str, project: Rendered, env: dict[str, str], name: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """Run a long-lived command of the block; stop its whole process group at the end."""
    out, err = project.path / f"{name}.out", project.path / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=project.path,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        yield process, out, err
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def call(
    port: int, method: str, path: str, body: object = None, token: str | None = None
) -> tuple[int, Any]:
    """Send one JSON request to the development server; return the status and JSON body."""
    data = None if body is None else json.dumps(body).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, data, headers)
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read() or b"null")
    finally:
        connection.close()


def answering(port: int) -> bool:
    """Tell whether the development server answers /livez."""
    try:
        return call(port, "GET", "/livez")[0] == 200
    except OSError:
        return False
