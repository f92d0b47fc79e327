"""The generated nginx in front of a served project, and the slow clients it must absorb.

`Nginx` runs the project's own `proxy/nginx.conf` as a process of the test, with only what
a machine outside a container needs changed: the upstream `web:8000` (compose's service, a
host alias in the pod) becomes the test's gunicorn, the port a free one, and /tmp a folder
of the test's own. `SlowClients` holds connections open that send a byte a second, and
`Prober` asks for /livez on fresh connections meanwhile, timing every answer.
"""

from __future__ import annotations

import http.client
import os
import selectors
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.projects import Rendered
from tests.support.served import free_port, wait_until
from tests.support.tools import server_binary

#: Where the generated files name gunicorn, and where nginx listens in its container.
UPSTREAM = "server web:8000;"
LISTEN = "listen 8080;"


def proxy_conf(project: Rendered, folder: Path, upstream_port: int, port: int) -> Path:
    """Write the project's nginx.conf for this machine into `folder`, and return its path."""
    text = (project.path / "proxy/nginx.conf").read_text()
    for fixed in (UPSTREAM, LISTEN):
        assert text.count(fixed) == 1, f"proxy/nginx.conf should say {fixed!r} once"
    text = text.replace(UPSTREAM, f"server 127.0.0.1:{upstream_port};")
    text = text.replace(LISTEN, f"listen 127.0.0.1:{port};")
    text = text.replace(" /tmp/", f" {folder}/")
    conf = folder / "nginx.conf"
    conf.write_text(text)
    return conf


@dataclass
class Nginx:
    """An nginx master serving the generated configuration on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def tail(self) -> str:
        """Return the end of nginx's error log, for failure messages."""
        return "\n".join(self.log.read_text().splitlines()[-20:])


@contextmanager
def nginx(project: Rendered, folder: Path, upstream_port: int) -> Iterator[Nginx]:
    """Run the project's proxy/nginx.conf in front of gunicorn on `upstream_port`."""
    binary = server_binary("nginx")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = proxy_conf(project, folder, upstream_port, port)
    directives = "daemon off;"
    if os.geteuid() == 0:
        # As root, nginx's workers would switch to a user who cannot enter the test's folder.
        directives += " user root;"
    log = folder / "nginx.log"
    command = [binary, "-e", "stderr", "-c", str(conf), "-p", f"{folder}/", "-g", directives]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Nginx(process, port, log)
    try:

        def listening() -> bool:
            assert process.poll() is None, f"nginx exited:\n{server.tail()}"
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, "nginx did not listen", 10)
        yield server
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class SlowClients:
    """`count` connections that each send a request a byte a second, and never finish it.

    `ramp` seconds after the start, all are open.

    A connection the server closes (or answers) is opened again at once, as an attacker
    would: the pressure stays at `count` for as long as the clients run.
    """

    def __init__(self, port: int, count: int, request: bytes, per_second: int = 40) -> None:
        self.port = port
        self.count = count
        self.request = request
        # Opened over a few seconds, as clients arrive: all at once, one gunicorn worker
        # would accept nearly all of them and leave the others' threads free.
        self.per_second = per_second
        self.ramp = -(-count // per_second)
        #: Connections the server ended, and how long each had lived.
        self.ended: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _open(self, selector: selectors.BaseSelector, index: int) -> Slow:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.setblocking(False)
        # Anything to read is the server's answer (a 408) or its close.
        selector.register(sock, selectors.EVENT_READ, index)
        return Slow(sock, time.monotonic())

    def _end(self, selector: selectors.BaseSelector, connection: Slow) -> None:
        self.ended.append(time.monotonic() - connection.opened)
        selector.unregister(connection.sock)
        connection.sock.close()

    def _run(self) -> None:
        # One thread for all of them: each second, one more byte on every connection.
        with selectors.DefaultSelector() as selector:
            connections: list[Slow] = []
            while not self._stop.wait(1.0):
                for _ in range(min(self.per_second, self.count - len(connections))):
                    connections.append(self._open(selector, len(connections)))
                ended = {key.data for key, _ in selector.select(timeout=0)}
                for index, connection in enumerate(connections):
                    if index not in ended:
                        try:
                            connection.sock.send(self.request[connection.sent :][:1])
                            connection.sent += 1
                            continue
                        except OSError:
                            pass
                    self._end(selector, connection)
                    connections[index] = self._open(selector, index)
            for connection in connections:
                selector.unregister(connection.sock)
                connection.sock.close()


@dataclass
class Slow:
    """One slow client's connection: its socket, when it was opened, the bytes it sent."""

    sock: socket.socket
    opened: float
    sent: int = 0


def slow_header() -> bytes:
    """Return a request header that never ends: a byte a second lasts over an hour."""
    return b"GET /livez HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: " + b"a" * 4000


@dataclass
class Prober:
    """GET /livez on a fresh connection every `interval` seconds; time every answer."""

    port: int
    interval: float = 0.5
    timeout: float = 5.0
    #: Seconds each probe took to get a 200, or None when it got none within `timeout`.
    latencies: list[float | None] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Prober:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                connection.request("GET", "/livez", headers={"Host": "localhost"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
            finally:
                connection.close()
            took = time.monotonic() - started
            self.latencies.append(took if ok else None)
            self._stop.wait(max(0.0, self.interval - took))

    def summary(self) -> str:
        """Return the probes in one line: how many, how many failed, the slowest answer."""
        answered = [latency for latency in self.latencies if latency is not None]
        slowest = f"{max(answered):.3f} s" if answered else "none"
        failed = len(self.latencies) - len(answered)
        return f"{len(self.latencies)} probes of /livez, {failed} unanswered, slowest {slowest}"


def slow_post(port: int, path: str, body: bytes, results: list[tuple[int, bytes, float]]) -> None:
    """POST `body` a byte a second as JSON, and append (status, body, seconds) to `results`."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode())
        for byte in body:
            time.sleep(1.0)
            sock.sendall(bytes([byte]))
        response = http.client.HTTPResponse(sock)
        response.begin()
        results.append((response.status, response.read(), time.monotonic() - started))
