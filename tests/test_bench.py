"""bench/run.py in smoke mode: the harness runs end to end and prints its table.

A benchmark, not a timed test: nothing here asserts a number, only that each is measured.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import TEMPLATE

pytestmark = pytest.mark.slow

ROWS = [
    "throughput ratio, GET /livez (not counted), JSON logs on",
    "throughput ratio with metrics on, GET /work counted",
    "latency p99",
    "worker memory growth",
    "cold start: import + create the app",
    "copier copy --defaults: with / without tasks",
    "time-to-green",
]


def test_smoke_run_prints_every_row() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk; .ci/run installs it)")
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for name in ROWS:
        (row,) = [line for line in rows if name in line]
        assert any(character.isdigit() for character in row.split("|")[2]), row


def test_doctor_smoke_run_times_a_generated_corpus() -> None:
    result = subprocess.run(
        [sys.executable, "bench/doctor.py", "--smoke"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| doctor: ")]
    assert len(rows) == 2, result.stdout
    lines = int(rows[0].split()[4])
    assert lines >= 5_000  # the corpus was built, and doctor read all of it
    assert float(rows[1].split("|")[2].replace(",", "")) > 0
