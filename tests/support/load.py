"""A bounded load that tells how each request ended: answered, refused, or cut after sending.

Each client thread opens a fresh connection per request and sends it whole, until told to
stop. A request either gets a complete HTTP answer, or fails at connect() (refused, or no
handshake in time): the client knows nothing was sent and may retry elsewhere. Anything else
(a reset, an EOF or a timeout after the request was sent) is a request the server accepted
and dropped: the outcome a graceful stop must never produce.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

#: Seconds a client waits for the handshake, and then for the whole answer.
CONNECT_TIMEOUT = 2.0
ANSWER_TIMEOUT = 10.0


@dataclass
class Outcome:
    """How one request ended, and when (time.monotonic())."""

    kind: str  # "answered", "refused" or "dropped"
    at: float
    detail: str = ""


@dataclass
class Load:
    """`clients` threads sending `GET path` to `host`:`port` until stop()."""

    host: str
    port: int
    path: str = "/livez"
    clients: int = 8
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Let each client finish its request, then stop them all."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=CONNECT_TIMEOUT + ANSWER_TIMEOUT + 5)

    def count(self, since: float = 0.0, until: float = float("inf")) -> Counter[str]:
        """Count the outcomes of requests that ended between `since` and `until`."""
        with self._lock:
            return Counter(o.kind for o in self.outcomes if since <= o.at < until)

    def dropped(self) -> list[Outcome]:
        """Return the requests the server accepted and never answered."""
        with self._lock:
            return [o for o in self.outcomes if o.kind == "dropped"]

    def _client(self) -> None:
        while not self._stopping.is_set():
            outcome = self.send_one()
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.kind == "refused":
                time.sleep(0.01)  # nobody listens: no need to spin

    def send_one(self) -> Outcome:
        """Send one request on a fresh connection and classify how it ended."""
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            try:
                sock.connect((self.host, self.port))
            except OSError as error:  # refused, or no handshake: nothing was sent
                return Outcome("refused", time.monotonic(), repr(error))
            sock.settimeout(ANSWER_TIMEOUT)
            request = f"GET {self.path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            try:
                sock.sendall(request.encode())
                response = http.client.HTTPResponse(sock)
                response.begin()
                response.read()  # the whole body, as Content-Length says
            except (OSError, http.client.HTTPException) as error:
                return Outcome("dropped", time.monotonic(), repr(error))
            return Outcome("answered", time.monotonic(), str(response.status))
        finally:
            sock.close()
