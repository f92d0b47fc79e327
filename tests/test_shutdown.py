"""A graceful stop under load: every request the kernel accepted is answered, none is cut.

A SIGTERM to the master used to close the listening socket with connections still in its
accept queue: the kernel reset them, after their clients had connected and sent a request.
Here clients keep opening fresh connections before, during and after the stop; each request
must end answered, or refused at connect() (nothing sent), never cut after sending.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.load import Load
from tests.support.projects import Rendered
from tests.support.served import install, migrate, serve, wait_until

pytestmark = pytest.mark.slow

#: GUNICORN_GRACEFUL_TIMEOUT here, and the seconds the master may take past it.
GRACEFUL_TIMEOUT = 10
SHUTDOWN_MARGIN = 10


@pytest.fixture(
    scope="module",
    params=[
        pytest.param({}, id="gthread"),
        pytest.param({"worker_class": "sync"}, id="sync"),
        pytest.param({"worker_class": "gevent", "python_version": "3.13"}, id="gevent"),
    ],
)
def project(request: pytest.FixtureRequest, copie_session: Any) -> Rendered:
    """The default answers, served by each worker class."""
    return install(copie_session, "defaults", **request.param)


def test_a_stop_under_load_answers_every_request_it_accepted(
    project: Rendered, tmp_path: Path
) -> None:
    with serve(
        project, tmp_path, WEB_CONCURRENCY="2", GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT)
    ) as server:
        with Load(server.host, server.port, clients=8) as load:
            wait_until(lambda: load.count()["answered"] >= 200, "no load got through", 30)
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            returncode = server.process.wait(timeout=GRACEFUL_TIMEOUT + SHUTDOWN_MARGIN)
            stopped = time.monotonic()
            time.sleep(0.5)  # clients now meet a closed port
        before, after = load.count(until=signalled), load.count(since=stopped)
    assert returncode == 0, server.tail()
    assert load.dropped() == [], f"{load.count()}; the first cut: {load.dropped()[:3]}"
    assert before["answered"] >= 200
    assert before["refused"] == 0
    assert after["refused"] > 0
    assert after["answered"] == 0


def test_readiness_goes_unready_while_the_stop_drains(project: Rendered, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrate(project, url)
    with serve(project, tmp_path, DATABASE_URL=url, GUNICORN_DRAIN_SECONDS="3") as server:
        assert server.get("/readyz").status == 200
        server.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        unready = server.wait_for("/readyz", 503, timeout=2)
        alive = server.get("/livez")
        returncode = server.process.wait(timeout=GRACEFUL_TIMEOUT + SHUTDOWN_MARGIN)
        stopped_after = time.monotonic() - signalled
    assert unready.json()["failed"] == ["stopping"]
    assert alive.status == 200
    assert returncode == 0, server.tail()
    # It served through the drain period, then stopped promptly.
    assert 3 <= stopped_after < 3 + SHUTDOWN_MARGIN
