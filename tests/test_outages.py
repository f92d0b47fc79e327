"""Outage tests: a dependency of the served service goes down, and the outage stays small.

A request that needs a dependency that cannot be reached gets a prompt JSON 503 with
Retry-After, and one log line; requests that do not need it, and liveness, go on as before.
Redis is a private redis-server the test stops and starts (tests/support/redis.py); a
database that is down is a URL on a port nobody listens on.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.outage import Outage
from tests.support.projects import Rendered
from tests.support.redis import RedisServer
from tests.support.served import (
    Reply,
    Server,
    free_port,
    install,
    migrate,
    postgres_database,
    production_env,
    serve,
    wait_until,
)
from tests.support.workers import Deployment

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
#: Limits that let a job a worker took and never acknowledged come back within a test: Redis
#: gives it to a worker again CELERY_VISIBILITY_TIMEOUT seconds after it was taken.
JOB_LIMITS = {
    "CELERY_TASK_SOFT_TIME_LIMIT": "7",
    "CELERY_TASK_TIME_LIMIT": "8",
    "CELERY_VISIBILITY_TIMEOUT": "10",
}
#: Jobs accepted in the burst Redis crashes in (of at most BURST_POSTS), each this long.
BURST = 36
BURST_POSTS = 200
BURST_JOB_SECONDS = 0.3
#: Seconds between two posts of the burst, and how long Redis stays down in it.
POST_PAUSE = 0.1
DOWN_SECONDS = 3.0
#: Seconds every accepted job gets to succeed once Redis is back: a visibility timeout, a
#: scan for jobs past it, the burst's own run time, and slack for a loaded machine.
SETTLE = 120.0


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


@contextmanager
def durable_deployment(
    project: Rendered, folder: Path
) -> Iterator[tuple[Deployment, RedisServer]]:
    """Serve `project` on a private Redis that keeps every write it answers (broker and store)."""
    url = f"sqlite:///{folder / 'db.sqlite3'}"
    with RedisServer(folder / "redis", durable=True) as redis:
        env = {"DATABASE_URL": url, "CELERY_BROKER_URL": redis.url, **JOB_LIMITS}
        migrate(project, url, **env)
        with serve(project, folder, **env) as server:
            yield Deployment(project, server, production_env(**env), folder), redis


def states_of(deployment: Deployment, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return each job's body as `GET /api/jobs/<id>` answers it now (503s left out)."""
    found = {}
    for job_id in ids:
        reply = deployment.server.get(f"/api/jobs/{job_id}")
        if reply.status == 200:
            found[job_id] = reply.json()
    return found


def settle(deployment: Deployment, payloads: dict[str, object], timeout: float) -> None:
    """Wait until every job succeeded with its payload; fail at once on a FAILURE."""

    def all_succeeded() -> bool:
        bodies = states_of(deployment, list(payloads))
        failed = {job: body for job, body in bodies.items() if body["state"] == "FAILURE"}
        assert not failed, f"jobs read FAILURE: {failed}"
        done = {job for job, body in bodies.items() if body["state"] == "SUCCESS"}
        assert all(bodies[job]["result"] == payloads[job] for job in done), bodies
        return done == set(payloads)

    wait_until(all_succeeded, f"not every one of {len(payloads)} accepted jobs succeeded", timeout)


@pytest.mark.broker  # a redis-server binary, the test's own
def test_no_accepted_job_is_lost_when_redis_crashes_mid_burst(
    redis_project: Rendered, tmp_path: Path
) -> None:
    """Redis is killed while jobs are posted, queued and running: every 202 still succeeds."""
    with (
        durable_deployment(redis_project, tmp_path) as (deployment, redis),
        deployment.worker() as worker,
    ):
        accepted: dict[str, object] = {}

        def post_the_burst() -> None:
            for number in range(BURST_POSTS):
                if len(accepted) == BURST:
                    return
                body = json.dumps({"payload": {"n": number}, "seconds": BURST_JOB_SECONDS})
                headers = {**JSON, "X-Request-ID": f"burst-{number}"}
                reply = deployment.server.request("POST", "/api/jobs", body.encode(), headers)
                if reply.status == 202:
                    accepted[reply.json()["id"]] = {"n": number}
                else:
                    assert reply.status == 503, reply
                time.sleep(POST_PAUSE)

        wait_until(worker.ready, "the worker did not start", 60)
        poster = threading.Thread(target=post_the_burst)
        poster.start()

        def running() -> bool:
            started = [worker.ran(job, "Job started") for job in list(accepted)]
            return any(started) and len(accepted) >= BURST // 3

        wait_until(running, "the burst did not start", 60)
        redis.stop()  # SIGKILL: jobs queued, taken by the worker and running, all at once
        time.sleep(DOWN_SECONDS)
        redis.start()
        poster.join(timeout=120)
        assert not poster.is_alive()
        assert len(accepted) == BURST, f"{len(accepted)} accepted in {BURST_POSTS} posts"
        settle(deployment, accepted, SETTLE)
        assert worker.process.poll() is None, "the worker did not outlive the crash"


@pytest.mark.broker  # a redis-server binary, the test's own
def test_a_job_whose_result_cannot_be_stored_runs_again_and_never_reads_failure(
    redis_project: Rendered, tmp_path: Path
) -> None:
    """The store is down when a job ends, past its retries: the job runs again, not FAILURE."""
    with (
        durable_deployment(redis_project, tmp_path) as (deployment, redis),
        deployment.worker() as worker,
    ):
        job_id = deployment.enqueue("kept", 2, "trace-store")
        wait_until(lambda: worker.ran(job_id, "Echoing"), "the job did not start", 60)
        redis.stop()  # after STARTED was stored, before the result is

        def given_back() -> bool:
            lines = [line for line in worker.lines() if line.get("task_id") == job_id]
            return any(line["message"].endswith("runs again") for line in lines)

        wait_until(given_back, "the worker never gave the job back", 90)
        redis.start()
        settle(deployment, {job_id: "kept"}, SETTLE)
        starts = [line for line in worker.lines() if line["message"] == "Job started"]
        # At least once: a job given back may be restored by more than one worker's scan.
        assert len(starts) >= 2, "the job did not run again"
