"""bench/run.py in smoke mode: the harness runs end to end and prints its table.

A benchmark, not a timed test: nothing here asserts a number, only that each is measured.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.support.projects import TEMPLATE
from tests.support.tools import missing

pytestmark = pytest.mark.slow

ROWS = [
    "steady throughput, GET /work counted by metrics",
    "the same on GET /livez",
    "throughput with recycling as generated",
    "throughput recycling every 1,000 requests",
    "latency p99 at 64 connections",
    "worker memory growth",
    "worker RSS after 2,000 requests",
    "cold start, import + create_app",
    "time-to-green: copier copy + uv run pytest, defaults",
    "doctor: lines per second",
    "without access lines (LOG_LEVEL=WARNING)",
    "with metrics off (metrics=false)",
    "cold start added by metrics off",
    "worker RSS added by metrics off",
    "authenticated GET (auth=oidc, an RS256 token",
    "the same with an ES256 token / with the RS256 token",
    "the same authenticated GET / the same view with auth=none",
    "the public view with auth=oidc / the same with auth=none",
    "cold start added by auth oidc",
    "worker RSS added by auth oidc",
    "generated / hand-built (Flask, prometheus-flask-exporter",
    "a worker's start after kill -HUP, 2 workers",
    "each new worker's fork to its boot",
]


def smoke(script: str) -> str:
    """Run a benchmark script with --smoke from the repository; return what it printed."""
    result = subprocess.run(
        [sys.executable, script, "--smoke"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_smoke_run_prints_every_row() -> None:
    if shutil.which("wrk") is None:
        missing("wrk is not installed (apt-get install wrk; .ci/run installs it)")
    rows = [line for line in smoke("bench/run.py").splitlines() if line.startswith("| ")]
    for name in ROWS:
        (row,) = [line for line in rows if name in line]
        assert any(character.isdigit() for character in row.split("|")[2]), row


def test_doctor_smoke_run_times_a_generated_corpus() -> None:
    output = smoke("bench/doctor.py")
    rows = [line for line in output.splitlines() if line.startswith("| doctor: ")]
    assert len(rows) == 2, output
    lines = int(rows[0].split()[4])
    assert lines >= 5_000  # the corpus was built, and doctor read all of it
    assert float(rows[1].split("|")[2].replace(",", "")) > 0
