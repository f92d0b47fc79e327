"""The served-service harness: a generated project under a real gunicorn, and its stand-ins.

Test modules import these (never each other): serving a project in its own process group with
a minimal production environment, sending it requests, reading its JSON log, migrating its
database, and cutting a TCP dependency with `Outage`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from tests.support.projects import Rendered, render
from tests.support.tools import missing

T = TypeVar("T")

#: The server the `postgres` test uses; the test creates and drops its own database there.
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = secrets.token_urlsafe(48)
#: The package of the answer sets served here, which keep the default project name.
PACKAGE = "example_service"
#: Seconds gunicorn gets to import the app and answer /livez.
START_TIMEOUT = 30.0
#: GUNICORN_GRACEFUL_TIMEOUT for the shutdown test, and the slack the master gets past it.
MIB = 1024 * 1024
#: A view module served beside the generated package: a slow request, and a stuck one.
FAULT_APP = f"""\
import logging
import time

from flask import request

from {PACKAGE}.wsgi import app

log = logging.getLogger("fault_app")


@app.get("/slow")
def slow() -> dict[str, float]:
    seconds = float(request.args.get("seconds", "2"))
    log.info("slow request started")
    time.sleep(seconds)
    return {{"slept": seconds}}


@app.get("/hang")
def hang() -> dict[str, str]:
    log.info("hang request started")
    time.sleep(120)
    return {{}}
"""


def json_lines(log: Path) -> list[dict[str, Any]]:
    """Return the JSON objects logged in `log` so far (a line still being written is left out)."""
    parsed = []
    for line in log.read_text().splitlines():
        with suppress(json.JSONDecodeError):
            parsed.append(json.loads(line))
    return [line for line in parsed if isinstance(line, dict)]


def production_env(**variables: str) -> dict[str, str]:
    """Return the minimal production environment a served project's processes start with."""
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "APP_ENV": "production"}
    return {**env, "SECRET_KEY": SECRET_KEY, **variables}


def wait_until(condition: Callable[[], T | None], what: str, timeout: float) -> T:
    """Poll `condition` until it returns a truthy value, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def children(pid: int) -> set[int]:
    """Return the live (not zombie) child processes of `pid`, read from /proc."""
    found = set()
    child = re.compile(rf"^State:\s+[^Z].*^PPid:\s+{pid}$", re.MULTILINE | re.DOTALL)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue  # the process ended while we read it
        if child.search(status):
            found.add(int(entry.name))
    return found


def memory(pid: int) -> dict[str, int]:
    """Return the RSS of `pid` in bytes, and its PSS where the kernel has smaps_rollup."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except FileNotFoundError:
        text = Path(f"/proc/{pid}/status").read_text().replace("VmRSS:", "Rss:")
    found = re.findall(r"^(Rss|Pss):\s+(\d+) kB", text, re.MULTILINE)
    return {name.lower(): int(kilobytes) * 1024 for name, kilobytes in found}


@dataclass
class Reply:
    """What the server answered."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Return the body, parsed."""
        return json.loads(self.body)


@dataclass
class Server:
    """A gunicorn master serving a generated project on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    #: The loopback address it listens on: HOST, as the test set it.
    host: str = "127.0.0.1"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Reply:
        """Send one request on a fresh connection and read the whole reply."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def get(self, path: str, timeout: float = 10) -> Reply:
        """GET `path`."""
        return self.request("GET", path, timeout=timeout)

    def raw_reply(self, data: bytes) -> Reply:
        """Send `data` as is and return the whole reply (the server may stop reading early)."""
        with socket.create_connection((self.host, self.port), timeout=10) as connection:
            # A server that answered early (413) may have closed its side already.
            with suppress(OSError):
                connection.sendall(data)
                # All is sent: a body cut short ends here, not at the server's timeout.
                connection.shutdown(socket.SHUT_WR)
            response = http.client.HTTPResponse(connection)
            response.begin()
            return Reply(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )

    def raw(self, data: bytes) -> bytes:
        """Send `data` as is and return the reply's status line."""
        with socket.create_connection((self.host, self.port), timeout=10) as connection:
            connection.sendall(data)
            received = b""
            while b"\r\n" not in received and (chunk := connection.recv(4096)):
                received += chunk
        return received.partition(b"\r\n")[0]

    def workers(self) -> set[int]:
        """Return the pids of the master's workers."""
        return children(self.process.pid)

    def wait_for_workers(self, condition: Callable[[set[int]], bool], what: str) -> set[int]:
        """Wait until the set of worker pids meets `condition`, and return it."""

        def met() -> set[int] | None:
            workers = self.workers()
            return workers if condition(workers) else None

        return wait_until(met, what, START_TIMEOUT)

    def lines(self) -> list[dict[str, Any]]:
        """Return the JSON lines logged so far."""
        return json_lines(self.log)

    def logged(self, condition: Callable[[dict[str, Any]], bool], timeout: float = 10) -> Any:
        """Wait for a log line matching `condition` and return it."""
        return wait_until(
            lambda: next((line for line in self.lines() if condition(line)), None),
            f"no matching log line; the log ends:\n{self.tail()}",
            timeout,
        )

    def tail(self) -> str:
        """Return the last lines of the log, for failure messages."""
        return "\n".join(self.log.read_text().splitlines()[-30:])

    def wait_for(self, path: str, status: int, timeout: float = 10) -> Reply:
        """Poll GET `path` until it answers `status`, and return that reply."""

        def answered() -> Reply | None:
            reply = self.get(path)
            return reply if reply.status == status else None

        return wait_until(answered, f"GET {path} never answered {status}", timeout)

    def assert_database_down(self, readyz: Reply) -> None:
        """Check a /readyz reply is 503 naming the database, while /livez stays 200."""
        assert readyz.status == 503
        # Its migrations cannot be read either, unless a pooled connection still answers.
        assert readyz.json()["failed"] in (["database"], ["database", "migrations"])
        assert self.get("/livez").status == 200

    def wait_for_database(self) -> None:
        """Wait until /readyz answers 200 with its database and migrations checks passing."""
        checks = self.wait_for("/readyz", 200).json()["checks"]
        # gunicorn adds its own check, unready from a SIGTERM on (gunicorn.conf.py).
        assert checks == {"database": "ok", "migrations": "ok", "stopping": "ok"}


@contextmanager
def serving_in_a_thread(server: socketserver.BaseServer, poll: float = 0.5) -> Iterator[None]:
    """Serve `server` (a stand-in) from a daemon thread for the `with` block, then close it."""
    thread = threading.Thread(target=server.serve_forever, args=(poll,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def write_fault_app(folder: Path) -> list[str]:
    """Write the fault views into `folder`; return gunicorn's arguments to serve them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fault_app.py").write_text(FAULT_APP)
    # A positional app overrides the conf's wsgi_app; the rest of gunicorn.conf.py applies.
    return ["--pythonpath", str(folder), "fault_app:app"]


@contextmanager
def serve(project: Rendered, folder: Path, *args: str, **variables: str) -> Iterator[Server]:
    """Serve `project` with gunicorn (one worker unless `variables` say otherwise)."""
    # `variables` may override any default here (HOST, PORT, WEB_CONCURRENCY).
    defaults = {"HOST": "127.0.0.1", "PORT": str(free_port()), "WEB_CONCURRENCY": "1"}
    env = production_env(**{**defaults, **variables})
    port = int(env["PORT"])
    log = folder / f"gunicorn-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(project.path / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", *args],
            cwd=project.path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log, env["HOST"])
    try:

        def live() -> bool:
            assert process.poll() is None, f"gunicorn exited:\n{server.tail()}"
            try:
                return server.get("/livez", timeout=2).status == 200
            except OSError:
                return False

        wait_until(live, "gunicorn did not answer /livez", START_TIMEOUT)
        yield server
    finally:
        # The master leads its own session: this reaches every worker, also a stuck one.
        with suppress(ProcessLookupError):  # the test stopped it already
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def install(copie: Any, name: str, **overrides: Any) -> Rendered:
    """Render the answer set `name` and install it with uv, failing with uv's output."""
    project = render(copie, name, **overrides)
    result = project.run("uv", "sync", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return project


def migrate(project: Rendered, url: str, **variables: str) -> None:
    """Run `flask db upgrade` on the database at `url`, as a deploy does."""
    result = subprocess.run(
        [str(project.path / ".venv/bin/flask"), "--app", f"{PACKAGE}.wsgi", "db", "upgrade"],
        cwd=project.path,
        env=production_env(**{"DATABASE_URL": url, **variables}),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@contextmanager
def postgres_database(project: Rendered) -> Iterator[str]:
    """Create a database of the test's own on the shared server; yield its URL, then drop it."""
    database = f"faults_{secrets.token_hex(6)}"
    run_sql(project, f'CREATE DATABASE "{database}"')
    try:
        yield urlsplit(POSTGRES_URL)._replace(path=f"/{database}").geturl()
    finally:
        # Never the server itself: other tests use it in parallel.
        run_sql(project, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def psql() -> str:
    """Return the path of psql, the PostgreSQL client (missing: skipped, or failed in CI)."""
    found = shutil.which("psql")
    if found is None:
        missing("no psql on PATH (Debian: apt-get install postgresql-client)")
    return found


@contextmanager
def server_database() -> Iterator[str]:
    """Create a database of the test's own with psql, for a suite no project runs yet.

    Yield its URL, then drop it: a generated suite makes its per-worker databases from the
    name, so two suites given the server's own would drop each other's.
    """
    client = psql()
    database = f"readme_{secrets.token_hex(6)}"

    def run(sql: str) -> None:
        done = subprocess.run(
            [client, POSTGRES_URL, "-v", "ON_ERROR_STOP=1", "-qc", sql],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    run(f'CREATE DATABASE "{database}"')
    try:
        yield urlsplit(POSTGRES_URL)._replace(path=f"/{database}").geturl()
    finally:
        run(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


#: Python that runs argv[2] as SQL on the server at argv[1], with the project's psycopg.
RUN_SQL = "import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])"


def run_sql(project: Rendered, sql: str) -> None:
    """Run `sql` on the PostgreSQL server, with the psycopg of the project's environment."""
    result = project.run(".venv/bin/python", "-c", RUN_SQL, POSTGRES_URL, sql, timeout=60)
    assert result.returncode == 0, result.stderr
