"""Outage tests: a dependency of the served service goes down, and the outage stays small.

A request that needs a dependency that cannot be reached gets a prompt JSON 503 with
Retry-After, and one log line; requests that do not need it, and liveness, go on as before.
Redis is a private redis-server the test stops and starts (tests/support/redis.py); a
database that is down is a URL on a port nobody listens on.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import Rendered
from tests.support.redis import RedisServer
from tests.support.served import (
    Outage,
    Reply,
    Server,
    free_port,
    install,
    migrate,
    postgres_database,
    serve,
    wait_until,
)

pytestmark = pytest.mark.slow

#: The bound the README promises: a request that needs a dependency that is down gets its 503
#: within this many seconds, the first one included (a generous ceiling only a hang breaks).
OUTAGE_BOUND = 3.0
#: Liveness never waits on a dependency.
LIVENESS_BOUND = 2.0
#: The broker a RabbitMQ service is configured with: never reached, no job is posted.
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
#: Concurrent clients posting jobs while the broker is down: several times a worker's threads.
POSTERS = 30
JSON = {"Content-Type": "application/json"}
PROBLEMS = {"WARNING", "ERROR", "CRITICAL"}


@pytest.fixture(scope="module")
def redis_project(copie_session: Any) -> Rendered:
    """Celery on Redis, results in the same Redis, items in SQLite."""
    return install(copie_session, "celery-redis")


@pytest.fixture(scope="module")
def rabbitmq_project(copie_session: Any) -> Rendered:
    """Celery on RabbitMQ, results and items in PostgreSQL."""
    return install(copie_session, "postgresql", celery=True, celery_broker="rabbitmq")


def timed(server: Server, method: str, path: str, **headers: str) -> tuple[Reply, float]:
    """Send one request and return the reply with the seconds it took."""
    started = time.monotonic()
    body = b"{}" if method == "POST" else None
    reply = server.request(method, path, body, {**JSON, **headers}, timeout=60)
    return reply, time.monotonic() - started


def assert_prompt_503(reply: Reply, seconds: float, dependency: str) -> None:
    """Check `reply` is a JSON 503 naming `dependency`, with Retry-After, within the bound."""
    assert reply.status == 503, reply
    assert int(reply.headers["retry-after"]) >= 1
    body = reply.json()
    assert body["status"] == 503
    assert dependency in body["message"]
    assert seconds < OUTAGE_BOUND, f"{seconds:.1f} s for {reply}"


def assert_prompt(answer: tuple[Reply, float], status: int, bound: float) -> None:
    """Check a timed reply has `status` and came within `bound` seconds."""
    reply, seconds = answer
    assert reply.status == status, reply
    assert seconds < bound, f"{seconds:.1f} s for {reply}"


def problems_by_request(server: Server, since: int) -> dict[str | None, list[str]]:
    """Return the messages logged at WARNING or above after line `since`, by request id."""
    found: dict[str | None, list[str]] = {}
    for line in server.lines()[since:]:
        if line.get("level") in PROBLEMS:
            found.setdefault(line.get("request_id"), []).append(line["message"])
    return found


@pytest.mark.broker  # a redis-server binary, the test's own
def test_a_broker_outage_is_a_prompt_503_and_nothing_else_waits(
    redis_project: Rendered, tmp_path: Path
) -> None:
    """Redis stops under 30 posters: each gets a 503 in time, items and /livez go on."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with ExitStack() as stack:
        redis = stack.enter_context(RedisServer(tmp_path / "redis"))
        env = {"DATABASE_URL": url, "CELERY_BROKER_URL": redis.url}
        migrate(redis_project, url, CELERY_BROKER_URL=redis.url)
        server = stack.enter_context(serve(redis_project, tmp_path, **env))
        accepted, _ = timed(server, "POST", "/api/jobs")
        assert accepted.status == 202, accepted
        redis.stop()
        since = len(server.lines())
        ids = [f"outage-{number}" for number in range(POSTERS)]
        with ThreadPoolExecutor(POSTERS + 2) as pool:
            posts = [
                pool.submit(timed, server, "POST", "/api/jobs", **{"X-Request-ID": i}) for i in ids
            ]
            time.sleep(0.2)  # the posters are in, holding whatever they hold
            live = pool.submit(timed, server, "GET", "/livez")
            items = pool.submit(timed, server, "GET", "/api/items")
            for post in posts:
                assert_prompt_503(*post.result(), "broker")
            assert_prompt(live.result(), 200, LIVENESS_BOUND)
            assert_prompt(items.result(), 200, OUTAGE_BOUND)
        # The result store is the same Redis: reading a job is a 503 too, not a 500.
        read, seconds = timed(
            server, "GET", accepted.headers["location"], **{"X-Request-ID": "read"}
        )
        assert_prompt_503(read, seconds, "result store")
        # One line per failed request: no retry, reconnect or traceback lines from the libraries.
        logged = problems_by_request(server, since)
        assert sorted(logged, key=str) == sorted([*ids, "read"]), json.dumps(logged, indent=1)
        assert all(len(messages) == 1 for messages in logged.values()), logged
        redis.start()

        def accepted_again() -> bool:
            return timed(server, "POST", "/api/jobs")[0].status == 202

        wait_until(accepted_again, "jobs were not accepted after Redis came back", 15)
        assert timed(server, "GET", accepted.headers["location"])[0].status == 200


def test_a_database_outage_is_a_prompt_503(rabbitmq_project: Rendered, tmp_path: Path) -> None:
    """PostgreSQL does not answer: items and the job store answer 503 in time, /readyz too."""
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/down"
    with serve(
        rabbitmq_project, tmp_path, DATABASE_URL=down, CELERY_BROKER_URL=RABBITMQ_URL
    ) as server:
        since = len(server.lines())
        for attempt in range(3):  # the first finds out; the next ones are told at once
            reply, seconds = timed(server, "GET", "/api/items", **{"X-Request-ID": f"i{attempt}"})
            assert_prompt_503(reply, seconds, "database")
        path = f"/api/jobs/{uuid.uuid4()}"
        reply, seconds = timed(server, "GET", path, **{"X-Request-ID": "job"})
        assert_prompt_503(reply, seconds, "result store")
        logged = problems_by_request(server, since)
        assert sorted(logged, key=str) == ["i0", "i1", "i2", "job"], json.dumps(logged, indent=1)
        assert all(len(messages) == 1 for messages in logged.values()), logged
        assert_prompt(timed(server, "GET", "/readyz"), 503, OUTAGE_BOUND)
        assert_prompt(timed(server, "GET", "/livez"), 200, LIVENESS_BOUND)


@pytest.mark.postgres
def test_items_answer_503_through_a_postgresql_outage_and_come_back(
    rabbitmq_project: Rendered, tmp_path: Path
) -> None:
    """PostgreSQL drops every connection and refuses new ones, then returns: 200, 503, 200."""
    with ExitStack() as stack:
        direct = stack.enter_context(postgres_database(rabbitmq_project))
        migrate(rabbitmq_project, direct, CELERY_BROKER_URL=RABBITMQ_URL)
        real = urlsplit(direct)
        outage = stack.enter_context(Outage((real.hostname or "127.0.0.1", real.port or 5432)))
        credentials = real.netloc.rpartition("@")[0]
        proxy = f"127.0.0.1:{outage.port}"
        url = real._replace(netloc=f"{credentials}@{proxy}" if credentials else proxy).geturl()
        env = {"DATABASE_URL": url, "CELERY_BROKER_URL": RABBITMQ_URL}
        server = stack.enter_context(serve(rabbitmq_project, tmp_path, **env))
        assert timed(server, "GET", "/api/items")[0].status == 200
        outage.cut()
        for _ in range(3):  # a pooled connection fails its ping, a new one is refused
            assert_prompt_503(*timed(server, "GET", "/api/items"), "database")
        outage.restore()

        def back() -> bool:
            return timed(server, "GET", "/api/items")[0].status == 200

        wait_until(back, "items did not come back with the database", 15)
