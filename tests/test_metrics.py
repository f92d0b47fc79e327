"""Metrics of a generated service under real gunicorn workers: every request counted once.

The default service (metrics on) is served with two workers; requests on fresh connections
land on both. /metrics must count each exactly once however many workers served them, and
stay monotonic when a worker is killed or recycled, with a bounded number of value files.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.support.projects import Rendered
from tests.support.served import Server, install, serve, wait_until

pytestmark = pytest.mark.slow

#: The kinds of value file a web worker writes (the request histogram is its one metric),
#: and the archive each has for dead workers.
KINDS = ("histogram",)
ARCHIVES = {f"{kind}_archive.db" for kind in KINDS}
#: The sample a request nobody routes adds to.
UNMATCHED = re.compile(
    r"^http_request_duration_seconds_count"
    r'\{method="GET",route="<unmatched>",status="404"\} (\S+)$',
    re.M,
)


@pytest.fixture(scope="module")
def project(copie_session: Any) -> Rendered:
    """The default answers, which switch metrics on."""
    return install(copie_session, "defaults")


def unmatched(server: Server) -> float:
    """Scrape /metrics and return how many 404s it counts."""
    reply = server.get("/metrics")
    assert reply.status == 200, reply
    assert reply.headers["content-type"].startswith("text/plain")
    found = UNMATCHED.search(reply.body.decode())
    return float(found.group(1)) if found else 0.0


def send(server: Server, requests: int) -> None:
    """Send `requests` GETs nobody routes, each on a connection of its own."""
    for _ in range(requests):
        assert server.get("/nowhere").status == 404


def value_files(server: Server) -> set[str]:
    """Return the names of the value files in the master's metrics folder."""
    # The default the generated gunicorn.conf.py gives PROMETHEUS_MULTIPROC_DIR.
    folder = Path(f"/dev/shm/example-service-metrics-{server.process.pid}")  # noqa: S108
    return {path.name for path in folder.glob("*.db")}


def test_two_workers_count_every_request_once_and_a_killed_one_loses_nothing(
    project: Rendered, tmp_path: Path
) -> None:
    with serve(project, tmp_path, WEB_CONCURRENCY="2", GUNICORN_MAX_REQUESTS="0") as server:
        workers = server.wait_for_workers(lambda pids: len(pids) == 2, "two workers")
        sent = 0

        def both_counting() -> bool:
            # Which worker accepts is the kernel's choice: on a busy machine one can take a
            # whole batch, so send until each has counted some (each writes its own file).
            nonlocal sent
            send(server, 20)
            sent += 20
            return {f"histogram_{pid}.db" for pid in workers} <= value_files(server)

        wait_until(both_counting, "both workers counting requests", 60)
        assert unmatched(server) == sent  # the sum over both files is exact
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        server.wait_for_workers(
            lambda pids: len(pids) == 2 and victim not in pids, "the killed worker replaced"
        )
        # What the dead worker counted is in the archive, and its files are gone.
        assert unmatched(server) == sent
        assert f"histogram_{victim}.db" not in value_files(server)
        assert "histogram_archive.db" in value_files(server)
        send(server, 40)
        assert unmatched(server) == sent + 40


def test_recycled_workers_keep_counts_and_leave_no_files(
    project: Rendered, tmp_path: Path
) -> None:
    """Recycling every 10 requests: 15 workers die, the folder keeps only the live ones."""
    recycle = {"GUNICORN_MAX_REQUESTS": "10", "GUNICORN_MAX_REQUESTS_JITTER": "0"}
    with serve(project, tmp_path, WEB_CONCURRENCY="2", **recycle) as server:
        seen: list[float] = []
        for _ in range(5):
            send(server, 30)
            seen.append(unmatched(server))  # each scrape is a request too, not counted
        assert seen == sorted(seen), f"counts went down: {seen}"

        def settled() -> set[str] | None:
            files = value_files(server)
            live = {f"{kind}_{pid}.db" for pid in server.workers() for kind in KINDS}
            return files if files <= live | ARCHIVES else None

        files = wait_until(settled, "dead workers' files folded into the archive", 10)
        assert len(files) <= 2 * len(KINDS) + len(ARCHIVES)
        assert unmatched(server) == 150
