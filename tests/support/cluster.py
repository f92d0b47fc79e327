"""Scale-out on one machine: a private PostgreSQL, HAProxy in front of instances, and traffic.

`PostgresCluster` is a PostgreSQL server of the test's own (Debian's binaries, run as their
user), on a free port, with the `max_connections` the test gives it: the shared server on
5432 serves other tests in parallel and is never reconfigured. `Balancer` runs HAProxy with
a health check on /readyz, as Kubernetes' readiness probe decides which pods get traffic,
and answers its runtime API. `Sampler` keeps the peak of a count another process prints a
line at a time. `Traffic` is clients sending a mix of the service's requests through the
balancer, each on a fresh connection, recording how every request ended.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.served import free_port, wait_until
from tests.support.tools import missing, server_binary

#: The Debian user PostgreSQL's server runs as: initdb and postgres refuse root.
RUN_AS = "postgres"
#: What PostgreSQL logs when it refuses a connection for want of a slot.
REFUSED = re.compile(r"too many clients already|remaining connection slots are reserved")
#: Seconds a server gets to start, or to stop once told to.
START_TIMEOUT = 30.0


def as_server_user(command: list[str]) -> list[str]:
    """Return `command` run as RUN_AS when the test runs as root."""
    return ["runuser", "-u", RUN_AS, "--", *command] if os.geteuid() == 0 else command


def postgres_binaries() -> Path:
    """Return the folder of Debian's newest PostgreSQL server binaries."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        missing("no PostgreSQL server binaries (Debian: apt-get install postgresql)")
    return found[-1].parent


@dataclass
class PostgresCluster:
    """A PostgreSQL server of the test's own, with `max_connections` and no reserved slots.

    No slot is kept for superusers: the service connects as the superuser here, and every
    connection it opens counts against `max_connections`, as an application role's does.
    """

    max_connections: int
    port: int = field(default_factory=free_port)
    #: Debian's newest PostgreSQL server binaries.
    binaries: Path = field(default_factory=postgres_binaries)

    @property
    def url(self) -> str:
        """Return the URL of its `postgres` database."""
        return f"postgresql://{RUN_AS}@127.0.0.1:{self.port}/postgres"

    @contextmanager
    def running(self) -> Iterator[PostgresCluster]:
        """Create the cluster in a folder its user owns, serve it, then stop and remove it."""
        binaries = self.binaries
        with tempfile.TemporaryDirectory(prefix="cluster-") as temporary:
            folder = Path(temporary)
            user = pwd.getpwnam(RUN_AS)
            os.chown(folder, user.pw_uid, user.pw_gid)
            data = folder / "data"
            made = subprocess.run(
                as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", RUN_AS,
                                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
                capture_output=True, text=True, check=False, timeout=120,
            )  # fmt: skip
            assert made.returncode == 0, made.stdout + made.stderr
            settings = {
                "listen_addresses": "127.0.0.1",
                "unix_socket_directories": str(folder),
                "max_connections": str(self.max_connections),
                "superuser_reserved_connections": "0",
                # A test's data: nothing needs to survive a crash.
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "shared_buffers": "32MB",
            }
            command = [str(binaries / "postgres"), "-D", str(data), "-p", str(self.port)]
            for name, value in settings.items():
                command += ["-c", f"{name}={value}"]
            self.log = folder / "postgres.log"
            with self.log.open("wb") as output:
                process = subprocess.Popen(
                    as_server_user(command), stdout=output, stderr=subprocess.STDOUT
                )
            try:
                wait_until(self.answers, f"PostgreSQL on {self.port}", START_TIMEOUT)
                yield self
            finally:
                # A fast shutdown (clients are cut), sent to postgres itself: runuser, its
                # parent, does not pass SIGINT on.
                with suppress(OSError, ValueError):
                    pid = int((data / "postmaster.pid").read_text().split()[0])
                    os.kill(pid, signal.SIGINT)
                process.wait(timeout=START_TIMEOUT)

    def answers(self) -> bool:
        """Tell whether the server accepts connections."""
        command = [str(self.binaries / "pg_isready"), "-q", "-h", "127.0.0.1"]
        ready = subprocess.run([*command, "-p", str(self.port)], check=False)
        return ready.returncode == 0

    def refusals(self) -> list[str]:
        """Return the lines of its log where it refused a connection for want of a slot."""
        return [line for line in self.log.read_text().splitlines() if REFUSED.search(line)]


class Sampler:
    """Run `command`, which prints a count now and then; keep the highest count it printed.

    Lines are read with `pattern`, whose first group is the count.
    """

    def __init__(self, command: Sequence[str], pattern: str = r"^(\d+)$") -> None:
        self.pattern = re.compile(pattern)
        self.counts: list[int] = []
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        wait_until(lambda: self.counts or self.process.poll() is not None, "no sample", 30)
        assert self.counts, f"{command[0]} printed no count: {self.output[-5:]}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if found := self.pattern.search(line.strip()):
                self.counts.append(int(found.group(1)))

    def peak(self, since: int = 0) -> int:
        """Return the highest count printed from sample `since` on."""
        return max(self.counts[since:], default=0)

    def stop(self) -> None:
        """Stop the command."""
        self.process.terminate()
        self.process.wait(timeout=10)
        self.thread.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


#: Python that prints, ten times a second, the client connections the server at argv[1]
#: holds besides its own (run with the project's psycopg).
COUNT_CONNECTIONS = """\
import sys, time, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as connection:
    while True:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
        print(row[0], flush=True)
        time.sleep(0.1)
"""


def redis_clients(port: int) -> Sampler:
    """Sample a Redis server's connected clients, less the sampler's own connection."""
    redis_cli = shutil.which("redis-cli")
    if redis_cli is None:
        missing("no redis-cli (Debian: apt-get install redis-tools)")
    command = [redis_cli, "-p", str(port), "-r", "-1", "-i", "0.1", "INFO", "clients"]
    return Sampler(command, r"^connected_clients:(\d+)$")


def redis_info(port: int, name: str) -> int:
    """Return one integer field of a Redis server's INFO."""
    redis_cli = shutil.which("redis-cli") or "redis-cli"
    shown = subprocess.run(
        [redis_cli, "-p", str(port), "INFO"], capture_output=True, text=True, check=True
    )
    found = re.search(rf"^{name}:(\d+)", shown.stdout, re.MULTILINE)
    assert found, f"no {name} in Redis's INFO"
    return int(found.group(1))


@dataclass
class Backend:
    """An instance behind the balancer: its server's name there and its port."""

    name: str
    port: int


class Balancer:
    """HAProxy in front of `backends`, checking each one's /readyz as a readiness probe does.

    A server that fails `fall` checks `interval` seconds apart gets no new requests; one
    that passes one check gets them again (Kubernetes' successThreshold, 1). A connection
    that fails (nothing sent) is tried again on another server, as an ingress controller
    does; a request sent and not answered is not, so a request lost is seen as a 502.
    Round robin, and no limit per server, as kube-proxy spreads a Service's connections: a
    pod takes what it is sent, into its own backlog. (With a limit, a dead server would be
    the one with room, and every retry would go back to it.)
    """

    def __init__(
        self,
        folder: Path,
        backends: Sequence[Backend],
        interval: float,
        fall: int,
        check_timeout: float,
    ) -> None:
        binary = server_binary("haproxy")
        self.port = free_port()
        self.socket = folder / "haproxy.sock"
        interval_ms, timeout_ms = int(interval * 1000), int(check_timeout * 1000)
        servers = "".join(
            f"    server {backend.name} 127.0.0.1:{backend.port} check\n" for backend in backends
        )
        conf = folder / "haproxy.cfg"
        conf.write_text(
            "global\n"
            f"    stats socket {self.socket} mode 600 level admin\n"
            "    maxconn 2000\n"
            "    log stdout format raw local0\n"
            "defaults\n"
            "    mode http\n"
            "    log global\n"
            "    option httplog\n"
            "    timeout connect 1s\n"
            "    timeout client 30s\n"
            "    timeout server 30s\n"
            "    timeout queue 30s\n"
            f"    timeout check {timeout_ms}ms\n"
            # A server connection per client connection, as kube-proxy's: an idle one kept
            # for reuse would outlive a killed pod, and fail a request sent after it died.
            "    http-reuse never\n"
            "    retries 3\n"
            "    option redispatch 1\n"
            f"    default-server inter {interval_ms}ms fall {fall} rise 1\n"
            "frontend web\n"
            f"    bind 127.0.0.1:{self.port}\n"
            "    default_backend pods\n"
            "backend pods\n"
            "    balance roundrobin\n"
            "    option httpchk\n"
            "    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost\n"
            "    http-check expect status 200\n"
            f"{servers}"
        )
        self.log = folder / "haproxy.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [binary, "-db", "-f", str(conf)], stdout=output, stderr=subprocess.STDOUT
            )
        wait_until(self.socket.exists, f"haproxy did not start: {self.log.read_text()}", 10)

    def command(self, text: str) -> str:
        """Send one command to HAProxy's runtime API and return its answer."""
        with socket.socket(socket.AF_UNIX) as connection:
            connection.connect(str(self.socket))
            connection.sendall(text.encode() + b"\n")
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
        return received.decode()

    def stats(self) -> dict[str, dict[str, str]]:
        """Return HAProxy's statistics for each server of the `pods` backend, by name."""
        rows = csv.DictReader(io.StringIO(self.command("show stat").lstrip("# ")))
        return {row["svname"]: row for row in rows if row["pxname"] == "pods"}

    def status(self, name: str) -> str:
        """Return a server's status as HAProxy sees it: UP, DOWN, DRAIN, MAINT, ..."""
        return self.stats()[name]["status"].split()[0]

    def wait_for_status(self, name: str, status: str, timeout: float) -> float:
        """Wait until server `name` has `status`; return when (time.monotonic())."""
        wait_until(lambda: self.status(name) == status, f"{name} never {status}", timeout)
        return time.monotonic()

    def drain(self, name: str) -> None:
        """Send server `name` no new request, as a pod's endpoint removal does."""
        answer = self.command(f"set server pods/{name} state drain")
        assert answer.strip() == "", answer

    def stop(self) -> None:
        """Stop HAProxy."""
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Ended:
    """How one request ended, and when (time.monotonic())."""

    what: str  # its method and route, as "POST /api/items"
    started: float
    at: float
    status: int = 0  # 0: refused at connect, or cut after it was sent
    json: bool = False
    retry_after: str | None = None
    body: bytes = b""
    error: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether the request succeeded."""
        return 200 <= self.status < 300

    @property
    def documented(self) -> bool:
        """Tell whether it is the service's own 503: JSON, with Retry-After."""
        return self.status == 503 and self.json and self.retry_after is not None


@dataclass
class Traffic:
    """`clients` threads sending the service's requests to `port` until stop().

    Each client writes an item, reads it back, lists a page, enqueues a job and reads its
    state, in turn, each request on a fresh connection; `clients` can grow while it runs.
    """

    port: int
    clients: int = 4
    ended: list[Ended] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Traffic:
        self.grow(self.clients)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def grow(self, clients: int) -> None:
        """Run `clients` clients in all from now on."""
        while len(self._threads) < clients:
            thread = threading.Thread(target=self._client, args=(len(self._threads),), daemon=True)
            self._threads.append(thread)
            thread.start()
        self.clients = clients

    def stop(self) -> None:
        """Let each client finish its request, then stop them all."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def count(self, since: float = 0.0, until: float = float("inf")) -> Counter[int]:
        """Count the requests that ended between `since` and `until`, by status."""
        with self._lock:
            return Counter(e.status for e in self.ended if since <= e.at < until)

    def failed(self, since: float = 0.0, until: float = float("inf")) -> list[Ended]:
        """Return the requests that did not succeed, that ended between `since` and `until`."""
        with self._lock:
            return [e for e in self.ended if not e.ok and since <= e.at < until]

    def _client(self, number: int) -> None:
        sent = 0
        while not self._stopping.is_set():
            sent += 1
            name = json.dumps({"name": f"client {number} item {sent}"}).encode()
            created = self._send("POST", "/api/items", name, "POST /api/items")
            if created.status == 201:
                location = json.loads(created.body)["id"]
                self._send("GET", f"/api/items/{location}", None, "GET /api/items/<id>")
            self._send("GET", "/api/items?per_page=5", None, "GET /api/items")
            job = json.dumps({"payload": {"client": number, "job": sent}}).encode()
            enqueued = self._send("POST", "/api/jobs", job, "POST /api/jobs")
            if enqueued.status == 202:
                job_id = json.loads(enqueued.body)["id"]
                with self._lock:
                    self.jobs.append(job_id)
                self._send("GET", f"/api/jobs/{job_id}", None, "GET /api/jobs/<id>")

    def _send(self, method: str, path: str, body: bytes | None, what: str) -> Ended:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            ended = Ended(
                what,
                started,
                time.monotonic(),
                response.status,
                (response.getheader("Content-Type") or "").startswith("application/json"),
                response.getheader("Retry-After"),
                response.read(),
            )
        except (OSError, http.client.HTTPException) as error:
            ended = Ended(what, started, time.monotonic(), error=repr(error))
        finally:
            connection.close()
        with self._lock:
            self.ended.append(ended)
        return ended


def metric_counts(port: int, name: str = "http_request_duration_seconds_count") -> Counter[str]:
    """Return a served instance's request counts from its /metrics, by status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/metrics", headers={"Host": "localhost"})
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name) + 1 :].rsplit("} ", 1)
            found = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            if found["route"].startswith("/api/"):
                counts[found["status"]] += int(float(value))
    return counts


def stop_gracefully(process: subprocess.Popen[bytes], grace: float) -> int:
    """Send SIGTERM, as the kubelet does after preStop; SIGKILL past `grace` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        return -signal.SIGKILL
