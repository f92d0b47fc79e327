"""Sentry, served: a real gunicorn worker sends a real envelope to a stand-in on 127.0.0.1.

The stand-in (tests/support/sentry.py) is a plain HTTP server started by the test; the
service's DSN points at it, so sentry-sdk's own transport posts the envelope. The test reads
the event out of it: the exception, the request id tag, and none of the client's secrets.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.leaks import Planted, serve_planted
from tests.support.projects import Rendered
from tests.support.sentry import PROJECT_ID, StandIn, sentry_stand_in
from tests.support.served import PACKAGE, install, migrate, production_env, serve, wait_until
from tests.support.workers import BROKERS, Deployment

pytestmark = pytest.mark.slow

#: A view module served beside the generated package: a bug in a view.
SENTRY_APP = f'''\
from {PACKAGE}.wsgi import app



class PlantedError(Exception):
    """What the bug raises: a name no other event has."""


@app.get("/boom")
def boom() -> str:
    raise PlantedError("planted")
'''


#: How many times the flaky view fails: a short outage's worth.
REPEATS = 200
#: A view that fails the same way on every call, logging an ERROR line first, as a driver does
#: while its server is down; and one that fails another way, to mark the end.
FLAKY_APP = f'''\
import logging

from {PACKAGE}.wsgi import app

log = logging.getLogger("flaky_app")


class FlakyError(Exception):
    """What the flaky view raises."""


class LastError(Exception):
    """What the last request raises."""


@app.get("/flaky/<int:number>")
def flaky(number: int) -> str:
    log.error("attempt %d failed: the server is down", number)
    raise FlakyError(f"attempt {{number}} failed")


@app.get("/last")
def last() -> str:
    raise LastError("the end")
'''


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """Run the stand-in for Sentry on a loopback port for one test."""
    with sentry_stand_in() as server:
        yield server


@pytest.fixture(scope="module")
def sentry_project(copie_session: Any) -> Rendered:
    """The default answers with sentry on."""
    return install(copie_session, "defaults", sentry=True)


@pytest.fixture(scope="module")
def everything_project(copie_session: Any) -> Rendered:
    """Every option the findings were measured with: PostgreSQL, Celery, Sentry, traces."""
    return install(
        copie_session,
        "defaults",
        database="postgresql",
        celery=True,
        sentry=True,
        opentelemetry=True,
    )


@pytest.fixture(scope="module")
def celery_project(copie_session: Any) -> Rendered:
    """Celery on Redis, with sentry on."""
    return install(copie_session, "celery-redis")


def test_a_worker_sends_an_unhandled_exception_without_secrets(
    sentry_project: Rendered, stand_in: StandIn, tmp_path: Path
) -> None:
    (tmp_path / "sentry_app.py").write_text(SENTRY_APP)
    key = secrets.token_hex(16)
    cookie, token, query = (secrets.token_hex(16) for _ in range(3))
    app = ["--pythonpath", str(tmp_path), "sentry_app:app"]
    with serve(sentry_project, tmp_path, *app, SENTRY_DSN=stand_in.dsn(key)) as server:
        reply = server.request(
            "GET",
            f"/boom?token={query}",
            headers={"Cookie": f"session={cookie}", "Authorization": f"Bearer {token}"},
        )
        assert reply.status == 500
        (event,) = wait_until(stand_in.events, "no event reached the stand-in", 15)

    path, headers, _ = stand_in.posts[0]
    assert path == f"/api/{PROJECT_ID}/envelope/"
    assert f"sentry_key={key}" in headers["X-Sentry-Auth"]
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("PlantedError", "planted")
    assert exception["mechanism"] == {"type": "flask", "handled": False}
    assert event["tags"]["request_id"] == reply.headers["x-request-id"]
    assert (event["environment"], event["release"]) == ("production", "example-service@0.1.0")
    # The client's secrets: no cookies, headers filtered, no query string, anywhere.
    assert "cookies" not in event["request"]
    assert "query_string" not in event["request"]
    sent_headers = {name.lower(): value for name, value in event["request"]["headers"].items()}
    assert sent_headers.get("authorization") in (None, "[Filtered]")
    assert sent_headers.get("cookie") in (None, "[Filtered]")
    everything = b"".join(stand_in.bodies())
    for secret in (cookie, token, query):
        assert secret.encode() not in everything


@pytest.mark.broker
def test_a_celery_pool_process_sends_a_failing_job_with_its_request_id(
    celery_project: Rendered, stand_in: StandIn, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    variables = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": BROKERS["redis"],
        "CELERY_QUEUE": f"test-{secrets.token_hex(6)}",
        # The example job fails when it sleeps past the soft limit: SoftTimeLimitExceeded.
        "CELERY_TASK_SOFT_TIME_LIMIT": "1",
        "CELERY_TASK_TIME_LIMIT": "5",
        "CELERY_VISIBILITY_TIMEOUT": "10",
    }
    migrate(celery_project, url, **variables)
    variables["SENTRY_DSN"] = stand_in.dsn(secrets.token_hex(16))
    with serve(celery_project, tmp_path, **variables) as server:
        deployment = Deployment(celery_project, server, production_env(**variables), tmp_path)
        # One prefork pool process: it starts its own client after the fork.
        with deployment.worker():
            job_id = deployment.enqueue("late", 3, "trace-sentry-job")
            (event,) = wait_until(stand_in.events, "no event reached the stand-in", 30)

    (exception,) = event["exception"]["values"]
    assert exception["type"] == "SoftTimeLimitExceeded"
    assert exception["mechanism"] == {"type": "celery", "handled": False}
    assert event["tags"]["request_id"] == "trace-sentry-job"
    assert event["tags"]["celery_task_id"] == job_id


def test_no_credential_query_or_header_reaches_sentry_when_the_database_is_down(
    everything_project: Rendered, stand_in: StandIn, tmp_path: Path
) -> None:
    planted = Planted()
    dsn = stand_in.dsn(secrets.token_hex(16))
    with serve_planted(everything_project, tmp_path, planted, SENTRY_DSN=dsn) as server:
        planted.send(server)

        def all_three() -> list[dict[str, Any]] | None:
            events = stand_in.events()
            kinds = {exception_type(event) for event in events}
            return events if {"OperationalError", "PlantedError"} <= kinds else None

        events = wait_until(all_three, "the failures did not reach the stand-in", 15)

    assert planted.found_in(stand_in.received()) == []
    (items, *_) = [event for event in events if exception_type(event) == "OperationalError"]
    assert items["request"]["url"].endswith("/connect")
    assert "query_string" not in items["request"]
    headers = {name.lower(): value for name, value in items["request"]["headers"].items()}
    # An allowlist: known harmless headers as sent, every other one's value replaced.
    assert headers["accept"] == "application/json"
    assert headers["x-auth-token"] == headers["x-partner-key"] == "[Filtered]"
    assert headers.get("authorization") in (None, "[Filtered]")
    assert headers.get("cookie") in (None, "[Filtered]")
    # Frame variables are not sent: they hold what libraries hold, in any shape.
    frames = [
        frame
        for event in events
        for exception in event.get("exception", {}).get("values", [])
        for frame in (exception.get("stacktrace") or {}).get("frames", [])
    ]
    assert frames
    assert not [frame for frame in frames if "vars" in frame]


def test_an_outage_is_one_event_per_failure_not_one_per_request(
    sentry_project: Rendered, stand_in: StandIn, tmp_path: Path
) -> None:
    (tmp_path / "flaky_app.py").write_text(FLAKY_APP)
    app = ["--pythonpath", str(tmp_path), "flaky_app:app"]
    dsn = stand_in.dsn(secrets.token_hex(16))
    with serve(sentry_project, tmp_path, *app, SENTRY_DSN=dsn) as server:
        for number in range(REPEATS):
            assert server.get(f"/flaky/{number}").status == 500
        assert server.get("/last").status == 500
        # One transport thread sends events in order: once the last is in, all are.
        wait_until(
            lambda: "LastError" in {exception_type(event) for event in stand_in.events()},
            "the last failure did not reach the stand-in",
            30,
        )

    flaky = [event for event in stand_in.events() if exception_type(event) != "LastError"]
    # Each request logs one ERROR line and fails with one exception: two kinds of event,
    # each let through once in the window (one gunicorn worker).
    kinds = [(event.get("logger"), exception_type(event)) for event in flaky]
    assert 1 <= len(flaky) <= 2, f"{len(flaky)} events for {REPEATS} failing requests: {kinds}"


def exception_type(event: dict[str, Any]) -> str | None:
    """Return the type of the event's outermost exception, if it has one."""
    values = event.get("exception", {}).get("values") or [{}]
    found: str | None = values[-1].get("type")
    return found
