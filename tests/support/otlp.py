"""An OTLP/HTTP traces receiver, as a collector would be: every span posted to it, decoded.

The receiver is a small HTTP server on 127.0.0.1 that takes `POST /v1/traces` and decodes each
body with OpenTelemetry's own protobuf messages. It keeps the raw bodies too (decompressed),
for tests that search everything a service exported for what must never leave it.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.served import serving_in_a_thread


@dataclass
class ExportedSpan:
    """One span a service exported, with its resource's attributes."""

    span: Span
    resource: dict[str, Any]

    @property
    def attributes(self) -> dict[str, Any]:
        """Return the span's attributes as plain values."""
        return attributes(self.span.attributes)


@dataclass
class Receiver:
    """An OTLP/HTTP receiver for traces: every span posted to it, decoded."""

    url: str
    spans: list[ExportedSpan] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, body: bytes) -> None:
        """Decode one export request and keep its spans."""
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.lock:
            self.bodies.append(body)
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(ExportedSpan(span, resource) for span in scope_spans.spans)

    def server_spans(self) -> list[ExportedSpan]:
        """Return the server spans received so far."""
        with self.lock:
            return [found for found in self.spans if found.span.kind == Span.SPAN_KIND_SERVER]

    def received(self) -> bytes:
        """Return every byte received so far, decompressed: what a leak would be found in."""
        with self.lock:
            return b"\n".join(self.bodies)


def status_code(span: ExportedSpan) -> Any:
    """Return the HTTP status a server span records, under either semantic convention."""
    found = span.attributes
    return found.get("http.response.status_code", found.get("http.status_code"))


def value(any_value: AnyValue) -> Any:
    """Return the plain value an OTLP AnyValue holds."""
    kind = any_value.WhichOneof("value")
    return None if kind is None else getattr(any_value, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    """Return OTLP key-value pairs as a dict."""
    return {pair.key: value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


@contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    """Run an OTLP/HTTP traces receiver on a free loopback port for the `with` block."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces":
                self.send_error(404)
                return
            receiver.take(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test's output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    with serving_in_a_thread(server):
        yield receiver
