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

from tests.conftest import Rendered
from tests.support.sentry import PROJECT_ID, StandIn, sentry_stand_in
from tests.support.served import PACKAGE, install, migrate, production_env, serve, wait_until
from tests.support.workers import BROKERS, Deployment

pytestmark = pytest.mark.slow

#: A view module served beside the generated package: a bug in a view.
SENTRY_APP = f'''\
from {PACKAGE} import create_app

app = create_app()


class PlantedError(Exception):
    """What the bug raises: a name no other event has."""


@app.get("/boom")
def boom() -> str:
    raise PlantedError("planted")
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
