"""A stand-in for Sentry's ingest endpoint, and the envelope parser that reads what it got.

The stand-in is a plain HTTP server on 127.0.0.1; a service's DSN points at it, so sentry-sdk's
own transport posts each envelope, compressed as it chooses. Tests read the events out of it,
and search every byte it received (decompressed) for what must never leave a process. It needs
the standard library only, so it serves a test process and a served service alike.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The project id in the DSN; the envelope endpoint is /api/<id>/envelope/.
PROJECT_ID = 42


class StandIn(ThreadingHTTPServer):
    """Sentry's ingest endpoint, as far as a client sees it: keeps every body posted."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Ingest)
        self.posts: list[tuple[str, dict[str, str], bytes]] = []

    def dsn(self, key: str = "public") -> str:
        """Return the DSN of a project here with the public `key`."""
        return f"http://{key}@127.0.0.1:{self.server_address[1]}/{PROJECT_ID}"

    def bodies(self) -> list[bytes]:
        """Return the body of every post so far, decompressed."""
        return [decoded(headers, body) for _, headers, body in self.posts]

    def received(self) -> bytes:
        """Return every byte received so far, decompressed: what a leak would be found in."""
        return b"\n".join(self.bodies())

    def items(self, kind: str) -> list[dict[str, Any]]:
        """Return the payload of every envelope item of `kind` received so far."""
        return [
            json.loads(payload)
            for body in self.bodies()
            for header, payload in envelope_items(body)
            if header.get("type") == kind
        ]

    def events(self) -> list[dict[str, Any]]:
        """Return every error event received so far."""
        return self.items("event")


class _Ingest(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Write no line per post to the test's stderr."""


def decoded(headers: dict[str, str], body: bytes) -> bytes:
    """Return `body` decompressed as its Content-Encoding says."""
    encoding = headers.get("Content-Encoding", "identity")
    # sentry-sdk gzips, or uses brotli when that is installed (not in a generated service).
    assert encoding in {"gzip", "identity"}, f"an envelope in {encoding}: decode it here"
    return gzip.decompress(body) if encoding == "gzip" else body


def envelope_items(body: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """Split an envelope: a header line, then items, each a header line and a payload.

    A payload is `length` bytes when the item header gives it, else the rest of the line.
    """
    items = []
    rest = body.partition(b"\n")[2]
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        header = json.loads(line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return items


@contextmanager
def sentry_stand_in() -> Iterator[StandIn]:
    """Run a stand-in for Sentry on a free loopback port for the `with` block."""
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
