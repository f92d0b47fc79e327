"""Traces: a real gunicorn worker exports its spans to an OTLP/HTTP receiver run by the test.

The receiver is a small HTTP server on 127.0.0.1 that takes `POST /v1/traces` and decodes each
body with OpenTelemetry's own protobuf messages, as a collector does.
"""

from __future__ import annotations

import gzip
import json
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.served import PACKAGE, install, migrate, production_env, serve, wait_until
from tests.support.workers import BROKERS, Deployment

pytestmark = pytest.mark.slow

#: Milliseconds between the batch processor's exports: the SDK's default is 5 s.
SCHEDULE_DELAY_MS = "100"
ITEM_ROUTE = "/api/items/<int:item_id>"
#: A delay no test waits out: spans exported all the same were flushed at shutdown.
NEVER_MS = "600000"


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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, body: bytes) -> None:
        """Decode one export request and keep its spans."""
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.lock:
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(ExportedSpan(span, resource) for span in scope_spans.spans)

    def server_spans(self) -> list[ExportedSpan]:
        """Return the server spans received so far."""
        with self.lock:
            return [found for found in self.spans if found.span.kind == Span.SPAN_KIND_SERVER]


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_worker_exports_the_span_of_each_request(copie_session: Any, tmp_path: Path) -> None:
    project = install(copie_session, "defaults", opentelemetry=True)
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrate(project, database_url)
    with (
        otlp_receiver() as receiver,
        serve(
            project,
            tmp_path,
            DATABASE_URL=database_url,
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_BSP_SCHEDULE_DELAY=SCHEDULE_DELAY_MS,
        ) as server,
    ):
        body = json.dumps({"name": "traced"}).encode()
        created = server.request("POST", "/api/items", body, {"Content-Type": "application/json"})
        assert created.status == 201, created
        item_id = created.json()["id"]
        read = server.request("GET", f"/api/items/{item_id}", headers={"X-Request-ID": "otel-1"})
        assert read.status == 200
        for _ in range(3):
            assert server.get("/livez").status == 200
            assert server.get("/readyz").status == 200

        def read_span() -> ExportedSpan | None:
            spans = receiver.server_spans()
            return next((found for found in spans if found.span.name == f"GET {ITEM_ROUTE}"), None)

        span = wait_until(read_span, "no server span for GET /api/items/<id> arrived", 10)
        access = server.logged(lambda line: line.get("request_id") == "otel-1")

    assert span.attributes["http.route"] == ITEM_ROUTE
    assert status_code(span) == 200
    assert span.resource["service.name"] == "example-service"
    assert access["trace_id"] == span.span.trace_id.hex()
    assert access["span_id"] == span.span.span_id.hex()
    # The query of that request is a span of its trace; health checks made no span at all.
    assert any(
        found.span.trace_id == span.span.trace_id and found.span.kind == Span.SPAN_KIND_CLIENT
        for found in receiver.spans
    )
    routes = {found.attributes.get("http.route") for found in receiver.server_spans()}
    assert routes == {"/api/items", ITEM_ROUTE}
    traced_paths = {json.dumps(found.attributes) for found in receiver.spans}
    assert not any("livez" in path or "readyz" in path for path in traced_paths)


@pytest.mark.broker
def test_a_job_runs_in_the_trace_of_the_request_that_enqueued_it(
    copie_session: Any, tmp_path: Path
) -> None:
    project = install(copie_session, "defaults", celery=True, opentelemetry=True)
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    variables = {
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKERS["redis"],
        "CELERY_QUEUE": f"test-{secrets.token_hex(6)}",
    }
    migrate(project, database_url, **variables)
    with otlp_receiver() as receiver:
        traced = {**variables, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
        with serve(
            project, tmp_path, **traced, OTEL_BSP_SCHEDULE_DELAY=SCHEDULE_DELAY_MS
        ) as server:
            # The worker's spans leave only when its pool process flushes them at shutdown.
            worker_env = production_env(**traced, OTEL_BSP_SCHEDULE_DELAY=NEVER_MS)
            deployment = Deployment(project, server, worker_env, tmp_path)
            with deployment.worker() as worker:
                job_id = deployment.enqueue("traced", 0, "otel-job")
                assert deployment.result(job_id, timeout=60) == "traced"
                wait_until(lambda: worker.ran(job_id, "Job ended"), "no end line", 10)
                worker.process.send_signal(signal.SIGTERM)
                assert worker.process.wait(timeout=30) == 0
                lines = [line for line in worker.lines() if line.get("task_id") == job_id]

            def span_named(name: str) -> ExportedSpan | None:
                return next((found for found in receiver.spans if found.span.name == name), None)

            run = wait_until(lambda: span_named(f"run/{PACKAGE}.tasks.echo"), "no job span", 10)
            post = wait_until(lambda: span_named("POST /api/jobs"), "no request span", 10)
    assert run.span.trace_id == post.span.trace_id
    (echoing,) = [line for line in lines if line["message"].startswith("Echoing")]
    assert echoing["request_id"] == "otel-job"
    assert echoing["trace_id"] == run.span.trace_id.hex()
    assert echoing["span_id"] == run.span.span_id.hex()
