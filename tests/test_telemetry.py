"""Traces: a real gunicorn worker exports its spans to an OTLP/HTTP receiver run by the test.

The receiver (tests/support/otlp.py) is a small HTTP server on 127.0.0.1 that decodes each
body with OpenTelemetry's own protobuf messages, as a collector does.
"""

from __future__ import annotations

import json
import secrets
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.leaks import Planted, serve_planted
from tests.support.otlp import ExportedSpan, otlp_receiver, status_code
from tests.support.served import PACKAGE, install, migrate, production_env, serve, wait_until
from tests.support.workers import BROKERS, Deployment

pytestmark = pytest.mark.slow

#: Milliseconds between the batch processor's exports: the SDK's default is 5 s.
SCHEDULE_DELAY_MS = "100"
ITEM_ROUTE = "/api/items/<int:item_id>"
#: A delay no test waits out: spans exported all the same were flushed at shutdown.
NEVER_MS = "600000"


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
        # A sentinel after the health checks: its span is exported after any span they made
        # (one worker, one queue), so once it has arrived their absence is proven.
        assert server.get("/api/items").status == 200

        def span_named(name: str) -> Callable[[], ExportedSpan | None]:
            def find() -> ExportedSpan | None:
                spans = receiver.server_spans()
                return next((found for found in spans if found.span.name == name), None)

            return find

        span = wait_until(span_named(f"GET {ITEM_ROUTE}"), "no span for GET /api/items/<id>", 10)
        wait_until(span_named("GET /api/items"), "no span for the sentinel GET /api/items", 10)
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


def test_no_credential_or_query_string_leaves_in_a_span_when_the_database_is_down(
    copie_session: Any, tmp_path: Path
) -> None:
    project = install(
        copie_session, "defaults", database="postgresql", celery=True, opentelemetry=True
    )
    planted = Planted()
    with (
        otlp_receiver() as receiver,
        serve_planted(
            project,
            tmp_path,
            planted,
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_BSP_SCHEDULE_DELAY=SCHEDULE_DELAY_MS,
        ) as server,
    ):
        planted.send(server)

        def all_three() -> list[ExportedSpan] | None:
            spans = receiver.server_spans()
            routes = {found.attributes.get("http.route") for found in spans}
            return spans if {"/api/items", "/connect", "/leak"} <= routes else None

        spans = wait_until(all_three, "no server span for the three failing requests", 10)

    assert planted.found_in(receiver.received()) == []
    for found in spans:
        # The path stays, the query goes: under every URL-valued attribute's name.
        assert found.attributes["http.target"] in ("/api/items", "/connect", "/leak")
        assert not [value for value in found.attributes.values() if "?" in str(value)]
        assert "url.query" not in found.attributes


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
