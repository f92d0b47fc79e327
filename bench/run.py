"""Benchmark the generated service against a bare Flask app, side by side; print a table.

Usage (from the repository root, with the template's dev environment):

    uv run python bench/run.py            # the full run (a few minutes)
    uv run python bench/run.py --smoke    # seconds: checks the harness makes its table

Both apps run under the same gunicorn settings (1 gthread worker, 4 threads, keep-alive 5,
no worker recycling), pinned to one CPU while wrk runs on another (taskset, where there are
two). Load runs alternate bare, generated, bare, generated... and ratios are medians of pairs:
the machine is shared and noisy, so only ratios measured side by side mean anything.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = "example_service"
BARE_APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/livez")
def live() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/work")
def work() -> dict[str, str]:
    return {"status": "ok"}
"""
#: The generated service with the bare app's /work: a view its metrics count (/livez is not).
GENERATED_APP = f"""\
from {PACKAGE} import create_app

app = create_app()


@app.get("/work")
def work() -> dict[str, str]:
    return {{"status": "ok"}}
"""
#: The settings both servers share; the generated one reads them from its environment.
SERVER_ENV = {"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4", "GUNICORN_KEEPALIVE": "5"}
SERVER_ENV |= {"GUNICORN_MAX_REQUESTS": "0"}
BARE_ARGS = ["-w", "1", "-k", "gthread", "--threads", "4", "--keep-alive", "5"]
BARE_ARGS += ["--max-requests", "0", "--no-control-socket"]
TARGETS = {
    "throughput": "≥ 0.85 (stretch 0.90)",
    "memory": "≤ 2 MiB",
    "cold": "≤ 300 ms",
    "green": "≤ 10 s",
}


@dataclass
class Settings:
    """How long and how often to measure."""

    pairs: int
    seconds: int
    connections: int
    memory_requests: int
    repeats: int


FULL = Settings(pairs=5, seconds=10, connections=16, memory_requests=20_000, repeats=5)
SMOKE = Settings(pairs=1, seconds=2, connections=8, memory_requests=2_000, repeats=1)


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command, fail loudly if it fails, and return its output."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def timed(*command: str | Path, cwd: Path | None = None) -> float:
    """Return the seconds `command` took."""
    started = time.perf_counter()
    run(*command, cwd=cwd)
    return time.perf_counter() - started


def copier(*args: str | Path) -> list[str | Path]:
    """Return the command line that runs the template's Copier on this repository."""
    return [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet", *args]


def pinned(cpu: int) -> list[str]:
    """Return a taskset prefix pinning to `cpu`, or nothing on a one-CPU machine."""
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) > 1:
        return ["taskset", "-c", str(cpu)]
    return []


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    """A server started by `serving`: the port it answers on, and its process id."""

    port: int
    pid: int


@contextmanager
def serving(parts: list[str | Path], cwd: Path, env: dict[str, str]) -> Iterator[Served]:
    """Start a server on a free port (PORT in env, or {port} in command); yield it."""
    port = free_port()
    command = [str(part).replace("{port}", str(port)) for part in parts]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,  # the generated app's JSON logs stay ON, written to nothing
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{' '.join(command)} did not serve")
            time.sleep(0.1)
        yield Served(port, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def answers(port: int) -> bool:
    """Tell whether GET /livez on `port` answers 200."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/livez")
        return connection.getresponse().status == 200
    except OSError:
        return False


@dataclass
class Load:
    """One wrk run's results."""

    rps: float
    p50_ms: float
    p99_ms: float


def load(port: int, settings: Settings, path: str = "/livez") -> Load:
    """Drive GET `path` with wrk and parse its throughput and latency percentiles."""
    output = run(
        *pinned(1), "wrk", "-t1", f"-c{settings.connections}", f"-d{settings.seconds}s",
        "--latency", f"http://127.0.0.1:{port}{path}",
    )  # fmt: skip
    if "Non-2xx" in output or "Socket errors" in output:
        sys.exit(f"wrk saw errors:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return Load(rps, latency(output, "50%"), latency(output, "99%"))


def latency(output: str, percentile: str) -> float:
    """Return one of wrk's latency percentiles, in milliseconds."""
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def worker_memory(master: int) -> int:
    """Return the RSS in bytes of the one gunicorn worker whose master is process `master`."""
    # By parent, not by command line or environment: setproctitle rewrites both.
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if int(re.search(r"PPid:\s+(\d+)", text).group(1)) == master:  # type: ignore[union-attr]
            return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) * 1024  # type: ignore[union-attr]
    sys.exit("no gunicorn worker found")


def requests(port: int, count: int) -> None:
    """Send `count` GET /livez on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        connection.request("GET", "/livez")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"/livez answered {response.status}")


def main() -> None:
    """Measure, and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds, to check the table")
    smoke = parser.parse_args().smoke
    settings = SMOKE if smoke else FULL
    for tool in ("wrk", "uv"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed: apt-get install wrk / pip install uv")
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        rows = measure(work, settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(rows, smoke))


def measure(work: Path, settings: Settings) -> dict[str, str]:
    """Run every measurement and return the table's cells."""
    rows: dict[str, str] = {}
    # copier copy, with and without the validation task.
    with_tasks, without = [], []
    for attempt in range(settings.repeats):
        with_tasks.append(timed(*copier("--vcs-ref", "HEAD", REPOSITORY, work / f"t{attempt}")))
        without.append(
            timed(*copier("--skip-tasks", "--vcs-ref", "HEAD", REPOSITORY, work / f"s{attempt}"))
        )
    rows["copy"] = f"{statistics.median(with_tasks):.2f} s / {statistics.median(without):.2f} s"
    # Time-to-green as the README's quick start runs it: `copier copy`, then `uv run pytest`
    # (which syncs the environment from uv's warm cache, then runs the generated suite).
    run("uv", "sync", "--quiet", cwd=work / "t0")  # warms uv's cache for the timed runs
    # As from a shell with no virtual environment active (the README's advice).
    outside_any_venv = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    green = []
    for attempt in range(settings.repeats):
        started = time.perf_counter()
        service = work / f"service{attempt}"
        run(*copier("--vcs-ref", "HEAD", REPOSITORY, service))
        run("uv", "run", "pytest", "-q", cwd=service, env=outside_any_venv)
        green.append(time.perf_counter() - started)
    rows["green"] = spread(green, "s", 1)
    python = service / ".venv" / "bin" / "python"
    gunicorn = service / ".venv" / "bin" / "gunicorn"
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "APP_ENV": "production"}
    env |= {"SECRET_KEY": secrets.token_urlsafe(48), "HOST": "127.0.0.1", **SERVER_ENV}
    # Cold start: import plus create_app(), in a fresh interpreter each time.
    code = (
        "import time; t = time.perf_counter(); from example_service import create_app; "
        "create_app(); print(time.perf_counter() - t)"
    )
    cold = [float(run(python, "-c", code, cwd=service, env=env)) for _ in range(settings.repeats)]
    (work / "bare_app.py").write_text(BARE_APP)
    (work / "generated_app.py").write_text(GENERATED_APP)
    bare_code = (
        "import time; t = time.perf_counter(); import bare_app; print(time.perf_counter() - t)"
    )
    bare_cold = [float(run(python, "-c", bare_code, cwd=work)) for _ in range(settings.repeats)]
    rows["cold"] = (
        f"{statistics.median(cold) * 1000:.0f} ms / {statistics.median(bare_cold) * 1000:.0f} ms"
    )
    bare_command: list[str | Path] = [*pinned(0), gunicorn, *BARE_ARGS]
    bare_command += ["-b", "127.0.0.1:{port}", "bare_app:app"]
    generated_command: list[str | Path] = [*pinned(0), gunicorn, "-c", "gunicorn.conf.py"]
    generated_command += ["--pythonpath", work, "generated_app:app"]
    with (
        serving(bare_command, work, env) as bare,
        serving(generated_command, service, env) as generated,
    ):
        for port in (bare.port, generated.port):
            requests(port, 500)  # warm-up
        pairs = [
            (load(bare.port, settings), load(generated.port, settings))
            for _ in range(settings.pairs)
        ]
        counted = [
            (load(bare.port, settings, "/work"), load(generated.port, settings, "/work"))
            for _ in range(settings.pairs)
        ]
        before = worker_memory(generated.pid)
        requests(generated.port, settings.memory_requests)
        growth = worker_memory(generated.pid) - before
    ratios = [ours.rps / base.rps for base, ours in pairs]
    rows["throughput"] = f"{statistics.median(ratios):.2f}"
    counted_ratios = [ours.rps / base.rps for base, ours in counted]
    rows["metrics"] = (
        f"{statistics.median(counted_ratios):.2f} (pairs {min(counted_ratios):.2f} to "
        f"{max(counted_ratios):.2f}; {statistics.median(p[1].rps for p in counted):.0f} / "
        f"{statistics.median(p[0].rps for p in counted):.0f} req/s)"
    )
    rows["rps"] = (
        f"{statistics.median(p[1].rps for p in pairs):.0f} / "
        f"{statistics.median(p[0].rps for p in pairs):.0f}"
    )
    rows["p50"] = (
        f"{statistics.median(p[1].p50_ms for p in pairs):.2f} / "
        f"{statistics.median(p[0].p50_ms for p in pairs):.2f} ms"
    )
    rows["p99"] = (
        f"{statistics.median(p[1].p99_ms for p in pairs):.2f} / "
        f"{statistics.median(p[0].p99_ms for p in pairs):.2f} ms"
    )
    rows["memory"] = f"{growth / 1024 / 1024:+.2f} MiB over {settings.memory_requests} requests"
    return rows


def spread(values: list[float], unit: str, digits: int) -> str:
    """Format a median with the lowest and highest of several runs."""
    low, median, high = min(values), statistics.median(values), max(values)
    return f"{median:.{digits}f} {unit} ({low:.{digits}f} to {high:.{digits}f})"


def table(rows: dict[str, str], smoke: bool) -> str:
    """Format the measurements as a markdown table."""
    lines = [
        f"Benchmark{' (smoke: too short to mean anything)' if smoke else ''}: "
        f"{os.cpu_count()} CPUs, {sys.platform}, Python {sys.version.split()[0]}",
        "",
        "| measure | generated / bare | target |",
        "| --- | --- | --- |",
        f"| throughput ratio, GET /livez (not counted), JSON logs on (median of pairs) "
        f"| {rows['throughput']} "
        f"| {TARGETS['throughput']} |",
        f"| requests/s | {rows['rps']} | |",
        f"| latency p50 | {rows['p50']} | |",
        f"| latency p99 | {rows['p99']} | |",
        f"| worker memory growth | {rows['memory']} | {TARGETS['memory']} per 20,000 |",
        f"| cold start: import + create the app | {rows['cold']} | {TARGETS['cold']} |",
        f"| copier copy --defaults: with / without tasks | {rows['copy']} | |",
        f"| time-to-green: copier copy + uv run pytest, warm uv cache (median, range) "
        f"| {rows['green']} | {TARGETS['green']} |",
        f"| throughput ratio with metrics on, GET /work counted (median of pairs) "
        f"| {rows['metrics']} | {TARGETS['throughput']} |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
