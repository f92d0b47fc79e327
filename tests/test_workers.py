"""Celery workers of a generated service on the real brokers: ids travel, no job is lost.

For each broker, the service (celery=true, SQLite) is served by gunicorn and its jobs run by
real `celery worker` processes started from the project, each on a queue of its own test.
"""

from __future__ import annotations

import os
import secrets
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.projects import Rendered
from tests.support.served import (
    PACKAGE,
    children,
    free_port,
    install,
    migrate,
    production_env,
    serve,
    wait_until,
)
from tests.support.workers import BROKERS, Deployment

pytestmark = [pytest.mark.slow, pytest.mark.broker]

#: The example job's length in the interruption tests, and the limits that let it run.
JOB_SECONDS = 5
#: Redis gives an unacknowledged job to another worker after this; above the hard limit.
LIMITS = {
    "CELERY_TASK_SOFT_TIME_LIMIT": "7",
    "CELERY_TASK_TIME_LIMIT": "8",
    "CELERY_VISIBILITY_TIMEOUT": "10",
}


@pytest.fixture(scope="module", params=list(BROKERS))
def project(request: pytest.FixtureRequest, copie_session: Any) -> Rendered:
    """The default service with Celery on one broker, installed."""
    return install(copie_session, "defaults", celery=True, celery_broker=request.param)


@pytest.fixture
def deployment(project: Rendered, tmp_path: Path) -> Iterator[Deployment]:
    """Serve the project on a migrated SQLite database, with a queue of this test's own."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    broker = BROKERS[project.answers["celery_broker"]]
    variables = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "CELERY_QUEUE": f"test-{secrets.token_hex(6)}",
        **LIMITS,
    }
    migrate(project, url, **variables)
    with serve(project, tmp_path, **variables) as server:
        yield Deployment(project, server, production_env(**variables), tmp_path)


def test_a_job_runs_with_the_request_id_of_its_request(deployment: Deployment) -> None:
    with deployment.worker() as worker:
        job_id = deployment.enqueue({"order": 42}, 0, "trace-4a1f")
        assert deployment.result(job_id, timeout=60) == {"order": 42}
        wait_until(lambda: worker.ran(job_id, "Job ended"), "no end line", 10)
        lines = [line for line in worker.lines() if line.get("task_id") == job_id]
    messages = [line["message"] for line in lines]
    assert messages[0] == "Job started"
    succeeded = f"Task {PACKAGE}.tasks.echo[{job_id}] succeeded"
    assert any(message.startswith(succeeded) for message in messages)
    assert {line["request_id"] for line in lines} == {"trace-4a1f"}
    assert {line["task_name"] for line in lines} == {f"{PACKAGE}.tasks.echo"}
    assert {"timestamp", "level", "logger"} <= set(lines[0])


def test_a_worker_killed_mid_job_loses_nothing(deployment: Deployment) -> None:
    job_id = deployment.enqueue("survivor", JOB_SECONDS, "trace-kill")
    with deployment.worker() as first:
        wait_until(lambda: first.ran(job_id, "Echoing"), "the job did not start", 60)
        assert deployment.state(job_id) == "STARTED"
        os.killpg(first.process.pid, signal.SIGKILL)  # the worker and its pool, mid-job
        first.process.wait(timeout=10)
    assert not first.ran(job_id, "Job ended")
    assert deployment.state(job_id) == "STARTED"  # what it last was: no worker says otherwise
    with deployment.worker() as second:
        # Acked late: the broker gives the job back (RabbitMQ when the connection drops,
        # Redis after CELERY_VISIBILITY_TIMEOUT) and the new worker runs it to the end.
        assert deployment.result(job_id, timeout=60) == "survivor"
        assert second.ran(job_id, "Job started")


def test_a_pool_process_killed_mid_job_loses_nothing(deployment: Deployment) -> None:
    with deployment.worker() as worker:
        job_id = deployment.enqueue("survivor", JOB_SECONDS, "trace-oom")
        wait_until(lambda: worker.ran(job_id, "Echoing"), "the job did not start", 60)
        (pool,) = children(worker.process.pid)
        os.kill(pool, signal.SIGKILL)  # the kernel's OOM killer: the pool process alone
        # Rejected, not failed (reject on worker lost): the broker gives the job back at
        # once, and the worker's new pool process runs it to the end.
        assert deployment.result(job_id, timeout=60) == "survivor"
        starts = [line for line in worker.lines() if line.get("task_id") == job_id]
        assert [line["message"] for line in starts].count("Job started") == 2


def test_sigterm_lets_the_running_job_finish(deployment: Deployment) -> None:
    with deployment.worker() as worker:
        job_id = deployment.enqueue("finished", JOB_SECONDS, "trace-term")
        wait_until(lambda: worker.ran(job_id, "Job started"), "the job did not start", 60)
        worker.process.send_signal(signal.SIGTERM)  # what a deploy or `docker stop` sends
        assert worker.process.wait(timeout=JOB_SECONDS + 30) == 0
        assert worker.ran(job_id, "Job ended: SUCCESS")
    assert deployment.result(job_id, timeout=10) == "finished"


def test_the_worker_serves_its_jobs_metrics(deployment: Deployment) -> None:
    port = free_port()
    metrics = {"CELERY_METRICS_PORT": str(port)}
    folder = deployment.folder / "worker-metrics"
    with deployment.worker(PROMETHEUS_MULTIPROC_DIR=str(folder), **metrics) as worker:
        job_id = deployment.enqueue("counted", 0, "trace-metrics")
        assert deployment.result(job_id, timeout=60) == "counted"
        succeeded = f'celery_tasks_total{{state="succeeded",task="{PACKAGE}.tasks.echo"}} 1.0'

        def scraped() -> bool:
            assert worker.process.poll() is None, worker.log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as got:
                    return succeeded in got.read().decode().splitlines()
            except OSError:
                return False

        wait_until(scraped, "the worker's metrics never counted the job", 30)
    # Without a folder of its own the pool's counts would be lost: the worker refuses.
    with deployment.worker(**metrics) as refused:
        assert refused.process.wait(timeout=60) != 0
        assert "PROMETHEUS_MULTIPROC_DIR" in refused.log.read_text()
