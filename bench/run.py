"""Benchmark the generated service against a bare Flask app, side by side; print a table.

Usage (from the repository root, with the template's dev environment):

    uv run python bench/run.py              # three full runs (about 30 minutes)
    uv run python bench/run.py --runs 1     # one full run
    uv run python bench/run.py --smoke      # a minute: checks the harness makes its table

Both apps run under the same gunicorn settings (1 gthread worker, 4 threads, keep-alive 5),
pinned to one CPU while wrk runs on another (taskset, where there are two). Load runs
alternate bare, generated, bare, generated... and ratios are medians of those rounds: the
machine is shared and noisy, so only ratios measured side by side mean anything. Each full
run measures every row again from a fresh copy; the table shows every run, so the spread
between runs is in plain sight.

Beside bare Flask, one row serves what a team would build by hand (bench/handbuilt.py):
Flask with prometheus-flask-exporter and python-json-logger, with bare Flask's settings.
Another times the workers' start after `kill -HUP` (bench/hup.py), against bare Flask's.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import handbuilt
import hup

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # the hooks package: copier.yml as Copier reads it
from hooks.answers import load_questions  # noqa: E402

PACKAGE = "example_service"
#: The default project slug: the audience its tokens are for (OIDC_AUDIENCE's default).
SLUG = "example-service"
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
#: Two more with the same body, for the auth rows: one needing a scope, one public. With
#: auth=none neither is checked; with auth=oidc only the first is (/work needs a token too).
GENERATED_APP = f"""\
from {PACKAGE}.openapi import operation
from {PACKAGE}.wsgi import app


@app.get("/work")
def work() -> dict[str, str]:
    return {{"status": "ok"}}


@app.get("/work/read")
@operation({{200: dict}}, scopes=["items:read"])
def work_read() -> dict[str, str]:
    return {{"status": "ok"}}


@app.get("/work/public")
@operation({{200: dict}}, public=True)
def work_public() -> dict[str, str]:
    return {{"status": "ok"}}
"""
#: The view a token must grant a scope for, and the same view public.
PROTECTED, PUBLIC = "/work/read", "/work/public"
#: The settings both servers share; the generated one reads them from its environment.
SERVER_ENV = {"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4", "GUNICORN_KEEPALIVE": "5"}
BARE_ARGS = ["-w", "1", "-k", "gthread", "--threads", "4", "--keep-alive", "5"]
BARE_ARGS += ["--no-control-socket"]
#: No recycling at all: the steady figure.
STEADY = {"GUNICORN_MAX_REQUESTS": "0", "GUNICORN_MAX_WORKER_MEMORY": "0"}
#: The recycling generated services had before: every 1,000 requests, jitter 100.
EVERY_THOUSAND = {"GUNICORN_MAX_REQUESTS": "1000", "GUNICORN_MAX_REQUESTS_JITTER": "100"}
EVERY_THOUSAND |= {"GUNICORN_MAX_WORKER_MEMORY": "0"}
#: The access line obeys its logger's level: WARNING writes none (nor any INFO line).
NO_ACCESS_LINES = {"LOG_LEVEL": "WARNING"}
#: One project per optional feature, against the defaults: Copier answers, and what its
#: production start needs (nothing here is connected to by import + create_app or /livez).
FEATURES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "defaults (SQLite, metrics)": ({}, {}),
    "database none": ({"database": "none"}, {}),
    "metrics off": ({"metrics": "false"}, {}),
    "postgresql": (
        {"database": "postgresql"},
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres"},
    ),
    "celery (redis)": (
        {"celery": "true", "celery_broker": "redis"},
        {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"},
    ),
    "sentry": ({"sentry": "true"}, {"SENTRY_DSN": "https://public@127.0.0.1/1"}),
    "opentelemetry": (
        {"opentelemetry": "true"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
    ),
    # Keys are fetched on the first request that needs them; the auth rows serve it with
    # the issuer of a stand-in provider instead.
    "auth oidc": ({"auth": "oidc"}, {"OIDC_ISSUER": "http://127.0.0.1:9"}),
}
DEFAULTS = "defaults (SQLite, metrics)"
OIDC = "auth oidc"
TARGETS = {
    "steady": "≥ 0.90, lowest run ≥ 0.87",
    "recycled": "≥ 0.97 (within 3 %)",
    "cold": "≤ 200 ms",
    "growth": "≤ 2 MiB per 20,000",
    "p99": "≤ 1.2",
    "green": "≤ 8 s (defaults)",
    "doctor": "≥ 10,000 lines/s",
    "auth": "≥ 0.90 (verification < 10 %)",
    "handbuilt": "keep the lead (1.46 in issue 32)",
}


@dataclass
class Settings:
    """How long and how often to measure."""

    rounds: int
    seconds: int
    connections: int
    overload: int
    memory_requests: int
    repeats: int
    features: tuple[str, ...]
    green_sets: tuple[str, ...]
    green_repeats: int
    doctor_lines: int
    hups: int


FULL = Settings(
    rounds=5,
    seconds=6,
    connections=16,
    overload=64,
    memory_requests=20_000,
    repeats=5,
    features=tuple(FEATURES),
    green_sets=("defaults", "everything-off", "everything-on"),
    green_repeats=3,
    doctor_lines=50_000,
    hups=12,
)
SMOKE = Settings(
    rounds=1,
    seconds=1,
    connections=8,
    overload=16,
    memory_requests=1_000,
    repeats=1,
    features=(DEFAULTS, "metrics off", OIDC),
    green_sets=("defaults",),
    green_repeats=1,
    doctor_lines=2_000,
    hups=2,
)


def run(
    *command: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    stderr: bool = False,
) -> str:
    """Run a command, fail loudly if it fails; return its output (and its stderr if asked)."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if result.returncode:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr if stderr else result.stdout


@functools.cache
def service_python() -> tuple[str, str]:
    """Return the python_version the services are generated with, and its interpreter here.

    copier.yml's default where this machine has it, else the newest offered version it has
    (uv cannot download one here): bare Flask runs on the same interpreter, side by side.
    """
    question = load_questions(REPOSITORY)["python_version"]
    offered = sorted(question["choices"].values(), key=lambda v: [int(n) for n in v.split(".")])
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for version in [question["default"], *reversed(offered)]:
        found = sorted(pyenv.glob(f"versions/{version}.*/bin/python")) or [
            Path(path) for path in [shutil.which(f"python{version}")] if path
        ]
        if found:
            return version, str(found[-1])
    sys.exit(f"no Python of {', '.join(offered)} on this machine")


def copier(*args: str | Path) -> list[str | Path]:
    """Return the command line that runs the template's Copier on this repository."""
    python = ("-d", f"python_version={service_python()[0]}")
    return [
        sys.executable,
        "-m",
        "copier",
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        *python,
        *args,
    ]


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
    p99_ms: float


def load(
    port: int,
    settings: Settings,
    path: str = "/livez",
    recycling: bool = False,
    headers: tuple[str, ...] = (),
) -> Load:
    """Drive GET `path` with wrk, sending `headers`; parse its throughput and latency.

    A recycling server closes the keep-alive connections of each worker it replaces, which
    wrk counts as read errors: allowed there, as any client reconnects. Nothing else is.
    """
    sent = [argument for header in headers for argument in ("-H", header)]
    output = run(
        *pinned(1), "wrk", "-t1", f"-c{settings.connections}", f"-d{settings.seconds}s",
        *sent, "--latency", f"http://127.0.0.1:{port}{path}",
    )  # fmt: skip
    errors = re.search(
        r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", output
    )
    if "Non-2xx" in output or (errors and (not recycling or any(map(int, errors.groups())))):
        sys.exit(f"wrk saw errors:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return Load(rps, latency(output, "99%"))


def throughput(
    port: int,
    settings: Settings,
    path: str = "/livez",
    recycling: bool = False,
    headers: tuple[str, ...] = (),
) -> float:
    """Return the requests per second of one `load`."""
    return load(port, settings, path, recycling, headers).rps


def tail(port: int, settings: Settings, path: str) -> float:
    """Return the p99 latency in milliseconds of one `load`."""
    return load(port, settings, path).p99_ms


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


def requests(
    port: int, count: int, path: str = "/livez", headers: dict[str, str] | None = None
) -> None:
    """Send `count` GET `path` with `headers` on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"{path} answered {response.status}")


def copy_command(into: Path, answers: dict[str, str]) -> list[str | Path]:
    """Return the `copier copy` of this repository's HEAD with `answers` into `into`."""
    given = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    return copier("--vcs-ref", "HEAD", *given, REPOSITORY, into)


def generate(into: Path, answers: dict[str, str]) -> Path:
    """Generate and install a service with `answers` (on top of the defaults) into `into`."""
    run(*copy_command(into, answers))
    run("uv", "sync", "--quiet", cwd=into)
    return into


def bare_server(gunicorn: Path, *options: str) -> list[str | Path]:
    """Return the command serving bare Flask with `gunicorn`, pinned, with extra `options`."""
    return [*pinned(0), gunicorn, *BARE_ARGS, *options, "-b", "127.0.0.1:{port}", "bare_app:app"]


def generated_server(project: Path, work: Path) -> list[str | Path]:
    """Return the command serving `project` as generated, plus the bench's GET /work, pinned."""
    gunicorn = project / ".venv" / "bin" / "gunicorn"
    return [
        *pinned(0),
        gunicorn,
        "-c",
        "gunicorn.conf.py",
        "--pythonpath",
        work,
        "generated_app:app",
    ]


def handbuilt_stack(into: Path, project: Path) -> Path:
    """Install the hand-built stack (bench/handbuilt.py) into `into`, in its own environment.

    Each library it shares with `project` is pinned to the version `project`'s lock names.
    """
    into.mkdir()
    constraints = into / "constraints.txt"
    locked = ("--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet")
    constraints.write_text(run("uv", "export", *locked, cwd=project))
    python = project / ".venv" / "bin" / "python"
    run("uv", "venv", "--quiet", "--python", python, into / ".venv")
    target = ("--python", into / ".venv" / "bin" / "python")
    run("uv", "pip", "install", "--quiet", *target, "-c", constraints, *handbuilt.REQUIREMENTS)
    (into / "handbuilt_app.py").write_text(handbuilt.APP)
    (into / "gunicorn.conf.py").write_text(handbuilt.GUNICORN_CONF)
    return into


def handbuilt_server(stack: Path) -> list[str | Path]:
    """Return the command serving the hand-built stack with bare Flask's settings, pinned."""
    gunicorn = stack / ".venv" / "bin" / "gunicorn"
    return [
        *pinned(0), gunicorn, "-c", "gunicorn.conf.py", *BARE_ARGS,
        "-b", "127.0.0.1:{port}", "handbuilt_app:app",
    ]  # fmt: skip


def handbuilt_env(stack: Path) -> dict[str, str]:
    """Return the hand-built stack's environment: an empty metrics folder, set at its start."""
    folder = Path(tempfile.mkdtemp(prefix="metrics-", dir=stack))
    return base_env() | {"PROMETHEUS_MULTIPROC_DIR": str(folder)}


def base_env() -> dict[str, str]:
    """Return the production environment every server and cold start here runs with."""
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "APP_ENV": "production"}
    return env | {"SECRET_KEY": secrets.token_urlsafe(48), "HOST": "127.0.0.1", **SERVER_ENV}


def cold_starts(work: Path, projects: dict[str, Path], settings: Settings) -> dict[str, float]:
    """Return the median ms of importing wsgi (environment checked, app made), alternated."""
    code = (
        "import time; t = time.perf_counter(); from {package}.wsgi import app; "
        "print(time.perf_counter() - t)"
    )
    bare_code = (
        "import time; t = time.perf_counter(); import bare_app; print(time.perf_counter() - t)"
    )
    python = projects[DEFAULTS] / ".venv" / "bin" / "python"
    seconds: dict[str, list[float]] = {name: [] for name in [*projects, "bare"]}
    for _ in range(settings.repeats):
        seconds["bare"].append(float(run(python, "-c", bare_code, cwd=work)))
        for name, project in projects.items():
            env = base_env() | FEATURES[name][1]
            interpreter = project / ".venv" / "bin" / "python"
            output = run(interpreter, "-c", code.format(package=PACKAGE), cwd=project, env=env)
            seconds[name].append(float(output))
    return {name: statistics.median(values) * 1000 for name, values in seconds.items()}


def worker_memories(work: Path, projects: dict[str, Path]) -> dict[str, float]:
    """Return one warmed-up worker's RSS in MiB, per project and for bare Flask."""
    memories = {}
    bare = bare_server(projects[DEFAULTS] / ".venv" / "bin" / "gunicorn")
    with serving(bare, work, base_env()) as served:
        requests(served.port, 2_000)
        memories["bare"] = worker_memory(served.pid) / 2**20
    for name, project in projects.items():
        command = generated_server(project, work)
        with serving(command, project, base_env() | STEADY | FEATURES[name][1]) as served:
            requests(served.port, 2_000)
            memories[name] = worker_memory(served.pid) / 2**20
    return memories


def rounds_of(measures: list[Callable[[], float]], rounds: int) -> list[tuple[float, ...]]:
    """Take every measure once per round, starting one later each round; return the rounds.

    Rotating the order spreads whatever the machine does at the start or end of a round
    over every server, instead of charging it to the same one each time.
    """
    taken = []
    for round_ in range(rounds):
        figures = [0.0] * len(measures)
        for step in range(len(measures)):
            index = (round_ + step) % len(measures)
            figures[index] = measures[index]()
        taken.append(tuple(figures))
    return taken


def served_rows(
    work: Path, projects: dict[str, Path], hand_built: Path, settings: Settings
) -> dict[str, str]:
    """Serve bare, generated and hand-built side by side: throughput, recycling, latency."""
    rows: dict[str, str] = {}
    project = projects[DEFAULTS]
    gunicorn = project / ".venv" / "bin" / "gunicorn"
    bare_thousand = bare_server(gunicorn, "--max-requests", "1000", "--max-requests-jitter", "100")
    ours = generated_server(project, work)
    env = base_env()
    with ExitStack() as stack:
        bare = stack.enter_context(serving(bare_server(gunicorn), work, env))
        steady = stack.enter_context(serving(ours, project, env | STEADY))
        recycled = stack.enter_context(serving(ours, project, env))  # recycling as generated
        thousand = stack.enter_context(serving(ours, project, env | EVERY_THOUSAND))
        bare_1000 = stack.enter_context(serving(bare_thousand, work, env))
        # What two features cost, to say what reaching bare Flask would give up.
        quiet = stack.enter_context(serving(ours, project, env | STEADY | NO_ACCESS_LINES))
        no_metrics_project = projects["metrics off"]
        no_metrics = stack.enter_context(
            serving(generated_server(no_metrics_project, work), no_metrics_project, env | STEADY)
        )
        # What a team would build by hand (bench/handbuilt.py), against the steady service.
        by_hand = stack.enter_context(
            serving(handbuilt_server(hand_built), hand_built, handbuilt_env(hand_built))
        )
        servers = (bare, steady, recycled, thousand, bare_1000, quiet, no_metrics, by_hand)
        for server in servers:
            requests(server.port, 500)  # warm-up
        work_rounds = rounds_of(
            [
                functools.partial(throughput, server.port, settings, "/work", index in (3, 4))
                for index, server in enumerate(servers)
            ],
            settings.rounds,
        )
        livez_rounds = rounds_of(
            [functools.partial(throughput, server.port, settings) for server in (bare, steady)],
            settings.rounds,
        )
        overload = dataclasses.replace(settings, connections=settings.overload)
        latency_rounds = rounds_of(
            [functools.partial(tail, server.port, overload, "/work") for server in (bare, steady)],
            settings.rounds,
        )
        before = worker_memory(steady.pid)
        requests(steady.port, settings.memory_requests)
        growth = (worker_memory(steady.pid) - before) / 2**20
    steady_ratios = [r[1] / r[0] for r in work_rounds]
    rows["steady"] = with_range(steady_ratios) + (
        f"; {statistics.median(r[1] for r in work_rounds):.0f} / "
        f"{statistics.median(r[0] for r in work_rounds):.0f} req/s"
    )
    rows["livez"] = with_range([r[1] / r[0] for r in livez_rounds])
    rows["recycled"] = with_range([r[2] / r[1] for r in work_rounds])
    rows["thousand"] = with_range([r[3] / r[1] for r in work_rounds])
    rows["bare_thousand"] = with_range([r[4] / r[0] for r in work_rounds])
    rows["quiet"] = with_range([r[5] / r[0] for r in work_rounds])
    rows["no_metrics"] = with_range([r[6] / r[0] for r in work_rounds])
    rows["handbuilt"] = with_range([r[1] / r[7] for r in work_rounds]) + (
        f"; {statistics.median(r[1] for r in work_rounds):.0f} / "
        f"{statistics.median(r[7] for r in work_rounds):.0f} req/s"
    )
    p99 = [ours_ / base for base, ours_ in latency_rounds]
    rows["p99"] = with_range(p99) + (
        f"; {statistics.median(r[1] for r in latency_rounds):.1f} / "
        f"{statistics.median(r[0] for r in latency_rounds):.1f} ms"
    )
    rows["growth"] = f"{growth:+.2f} MiB over {settings.memory_requests:,}"
    return rows


def auth_rows(work: Path, projects: dict[str, Path], settings: Settings) -> dict[str, str]:
    """Serve an authenticated GET against the same view unchecked, side by side.

    A stand-in provider (tests/support/oidc.py) runs in this process with an RS256 and an
    ES256 key; the auth=oidc service trusts it, with its settings' defaults. Every request
    carries a token granting the view's scope (RS256 unless the row says ES256), so each
    server parses the same request: the public view and the auth=none service ignore it.
    """
    sys.path.insert(0, str(REPOSITORY))
    from tests.support.oidc import IdentityProvider, SigningKey

    keys = [SigningKey.new("rs256", "RS256"), SigningKey.new("es256", "ES256")]
    provider = IdentityProvider(SLUG, keys=keys).start()
    day = int(time.time()) + 86_400  # outlives the run (the provider's default is 5 minutes)
    tokens = {key.algorithm: provider.sign(key, scope="items:read", exp=day) for key in keys}
    headers = {name: (f"Authorization: Bearer {token}",) for name, token in tokens.items()}
    env = base_env() | STEADY
    none_project, oidc_project = projects[DEFAULTS], projects[OIDC]
    try:
        with ExitStack() as stack:
            none = stack.enter_context(
                serving(generated_server(none_project, work), none_project, env)
            )
            oidc_env = env | {"OIDC_ISSUER": provider.issuer}
            oidc = stack.enter_context(
                serving(generated_server(oidc_project, work), oidc_project, oidc_env)
            )
            served = [
                (none.port, PROTECTED, headers["RS256"]),  # not checked: auth=none
                (oidc.port, PUBLIC, headers["RS256"]),
                (oidc.port, PROTECTED, headers["RS256"]),
                (oidc.port, PROTECTED, headers["ES256"]),
            ]
            for port, path, (header,) in served:  # warm-up; the first token fetches the keys
                name, _, value = header.partition(": ")
                requests(port, 500, path, {name: value})
            taken = rounds_of(
                [
                    functools.partial(throughput, port, settings, path, headers=sent)
                    for port, path, sent in served
                ],
                settings.rounds,
            )
    finally:
        provider.stop()
    rs256 = [r[2] / r[1] for r in taken]
    added = [(1 / r[2] - 1 / r[1]) * 1e6 for r in taken]
    es256 = [r[3] / r[2] for r in taken]
    es_added = [(1 / r[3] - 1 / r[2]) * 1e6 for r in taken]
    rates = f"{statistics.median(r[2] for r in taken):.0f} / "
    rates += f"{statistics.median(r[1] for r in taken):.0f} req/s"
    return {
        "auth": f"{with_range(rs256)}; {rates}, {statistics.median(added):+.0f} µs a request",
        "auth_es256": f"{with_range(es256)}; {statistics.median(es_added):+.0f} µs a request",
        "auth_none": with_range([r[2] / r[0] for r in taken]),
        "auth_hook": with_range([r[1] / r[0] for r in taken]),
    }


def hup_rows(work: Path, project: Path, settings: Settings) -> dict[str, str]:
    """Time the workers' start after `kill -HUP` (bench/hup.py): defaults and bare, in turn.

    Two workers each, not pinned: nothing else runs meanwhile, and a worker start is what the
    machine's cores give it. The generated service is served as it is generated, its own
    gunicorn.conf.py and settings; bare Flask with the same flags as its other rows.
    """
    (work / "bare_hup.conf.py").write_text(hup.BARE_CONF)
    (work / "generated_hup.conf.py").write_text(hup.GENERATED_CONF)
    gunicorn = project / ".venv" / "bin" / "gunicorn"
    bare: list[str | Path] = [gunicorn, "-c", work / "bare_hup.conf.py", *BARE_ARGS, "-w", "2"]
    bare += ["-b", "127.0.0.1:{port}", "bare_app:app"]
    generated: list[str | Path] = [gunicorn, "-c", work / "generated_hup.conf.py"]
    generated += ["--pythonpath", work]
    generated += ["generated_app:app"]
    env = base_env()
    served = [
        (generated, project, env | STEADY | {"WEB_CONCURRENCY": "2"}, "generated"),
        (bare, work, env, "bare"),
    ]
    with ExitStack() as stack:
        reloads: list[hup.Reloads] = []
        measures: list[Callable[[], float]] = []
        for command, cwd, server_env, name in served:
            booted = work / f"booted-{name}"
            server = stack.enter_context(
                serving(command, cwd, server_env | {"BENCH_BOOTED": str(booted)})
            )
            reloads.append(hup.Reloads(server.pid, booted, workers=2))
            measures.append(functools.partial(reload_and_ask, reloads[-1], server.port))
        for reload in reloads:
            reload.settle()
        taken = rounds_of(measures, settings.hups)
    return {
        "hup": " / ".join(spread([r[index] for r in taken], "ms", 0) for index in (0, 1)),
        "hup_fork": " / ".join(spread(reload.starts, "ms", 0) for reload in reloads),
    }


def reload_and_ask(reloads: hup.Reloads, port: int) -> float:
    """HUP once and check a new worker answers; return the ms until all new workers booted."""
    took = reloads.hup()
    if not answers(port):
        sys.exit(f"nothing answered on port {port} after a HUP")
    return took


def with_range(values: list[float]) -> str:
    """Format ratios as their median and, when there are several, their range."""
    median = f"{statistics.median(values):.2f}"
    return median if len(values) == 1 else f"{median} ({min(values):.2f} to {max(values):.2f})"


def time_to_green(work: Path, settings: Settings) -> dict[str, str]:
    """Time `copier copy` + `uv run pytest` (warm uv cache) per named answer set."""
    sys.path.insert(0, str(REPOSITORY))
    from tests.answers import NAMED

    outside_any_venv = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    rows = {}
    for name in settings.green_sets:
        answers = {key: str(value).lower() for key, value in NAMED[name].items()}
        generate(work / f"warm-{name}", answers)  # warms uv's cache for the timed runs
        seconds = []
        for attempt in range(settings.green_repeats):
            service = work / f"green-{name}-{attempt}"
            started = time.perf_counter()
            run(*copy_command(service, answers))
            run("uv", "run", "pytest", "-q", cwd=service, env=outside_any_venv, timeout=1800)
            seconds.append(time.perf_counter() - started)
        rows[name] = spread(seconds, "s", 1)
    return rows


def doctor_speed(work: Path, settings: Settings) -> str:
    """Return doctor's lines per second over a generated corpus, one CPU (bench/doctor.py)."""
    import doctor

    corpus = work / "doctor-corpus"
    doctor.build_corpus(doctor.generate(work / "doctor"), corpus, settings.doctor_lines)
    lines = doctor.count_lines(corpus)
    seconds = statistics.median(doctor.time_runs(corpus, max(1, settings.repeats // 2)))
    return f"{lines / seconds:,.0f} lines/s ({lines:,} lines in {seconds:.2f} s)"


def measure(work: Path, settings: Settings) -> dict[str, str]:
    """Run every measurement once and return the table's cells."""
    (work / "bare_app.py").write_text(BARE_APP)
    (work / "generated_app.py").write_text(GENERATED_APP)
    projects = {
        name: generate(work / f"project-{index}", FEATURES[name][0])
        for index, name in enumerate(settings.features)
    }
    hand_built = handbuilt_stack(work / "handbuilt", projects[DEFAULTS])
    rows = served_rows(work, projects, hand_built, settings)
    rows |= hup_rows(work, projects[DEFAULTS], settings)
    if OIDC in projects:
        rows |= auth_rows(work, projects, settings)
    cold = cold_starts(work, projects, settings)
    rows["cold"] = f"{cold[DEFAULTS]:.0f} ms / {cold['bare']:.0f} ms"
    for name in settings.features[1:]:
        rows[f"cold {name}"] = f"{cold[name] - cold[DEFAULTS]:+.0f} ms"
    memories = worker_memories(work, projects)
    rows["memory"] = f"{memories[DEFAULTS]:.1f} / {memories['bare']:.1f} MiB"
    for name in settings.features[1:]:
        rows[f"memory {name}"] = f"{memories[name] - memories[DEFAULTS]:+.1f} MiB"
    for name, value in time_to_green(work, settings).items():
        rows[f"green {name}"] = value
    rows["doctor"] = doctor_speed(work, settings)
    return rows


def spread(values: list[float], unit: str, digits: int) -> str:
    """Format a median with the lowest and highest of several runs."""
    low, median, high = min(values), statistics.median(values), max(values)
    return f"{median:.{digits}f} {unit} ({low:.{digits}f} to {high:.{digits}f})"


#: The table's rows: (key in the measured cells, what the row says, target key or "").
ROWS = [
    (
        "steady",
        "steady throughput, GET /work counted by metrics, JSON access lines on, "
        "no recycling: generated / bare (median of rounds, range)",
        "steady",
    ),
    ("livez", "the same on GET /livez (not counted)", ""),
    ("quiet", "the same without access lines (LOG_LEVEL=WARNING) / bare", ""),
    ("no_metrics", "the same with metrics off (metrics=false) / bare", ""),
    (
        "handbuilt",
        "steady throughput on the same counted GET /work: generated / hand-built (Flask, "
        "prometheus-flask-exporter multiprocess, python-json-logger access lines with a "
        "request id; median of rounds, range)",
        "handbuilt",
    ),
    (
        "recycled",
        "throughput with recycling as generated (by memory, 512 MiB) / steady",
        "recycled",
    ),
    ("thousand", "throughput recycling every 1,000 requests (the old default) / steady", ""),
    ("bare_thousand", "bare Flask recycling every 1,000 requests / bare steady", ""),
    (
        "auth",
        "authenticated GET (auth=oidc, an RS256 token granting the view's scope) / the same "
        "view public, same service and request (median of rounds, range)",
        "auth",
    ),
    ("auth_es256", "the same with an ES256 token / with the RS256 token", ""),
    ("auth_none", "the same authenticated GET / the same view with auth=none (the defaults)", ""),
    ("auth_hook", "the public view with auth=oidc / the same with auth=none", ""),
    ("p99", "latency p99 at 64 connections, one worker: generated / bare", "p99"),
    ("growth", "worker memory growth (RSS), steady", "growth"),
    ("memory", "worker RSS after 2,000 requests: defaults / bare", ""),
    (
        "hup",
        "a worker's start after kill -HUP, 2 workers: SIGHUP until every new worker booted "
        "(post_worker_init), defaults / bare (median of HUPs, range)",
        "",
    ),
    ("hup_fork", "the same, each new worker's fork to its boot: defaults / bare", ""),
    ("cold", "cold start, import + create_app: defaults / bare", "cold"),
    ("green defaults", "time-to-green: copier copy + uv run pytest, defaults", "green"),
    ("green everything-off", "time-to-green, everything-off", ""),
    ("green everything-on", "time-to-green, everything-on", ""),
    ("doctor", "doctor: lines per second on a generated corpus, one CPU", "doctor"),
]


def table(runs: list[dict[str, str]], smoke: bool) -> str:
    """Format every run's measurements as one markdown table, a column per run."""
    header = "| measure | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " | target |"
    lines = [
        f"Benchmark{' (smoke: too short to mean anything)' if smoke else ''}: "
        f"{os.cpu_count()} CPUs, {sys.platform}, services on Python {service_python()[0]}",
        "",
        header,
        "| --- |" + " --- |" * (len(runs) + 1),
    ]
    feature_rows = [
        (
            key,
            f"{'cold start' if key.startswith('cold ') else 'worker RSS'} added by "
            f"{key.split(' ', 1)[1]}, against the defaults",
            "",
        )
        for key in runs[0]
        if key.startswith(("cold ", "memory "))
    ]
    for key, label, target in [*ROWS, *feature_rows]:
        if key not in runs[0]:
            continue
        cells = " | ".join(run_[key] for run_ in runs)
        lines.append(f"| {label} | {cells} | {TARGETS.get(target, '')} |")
    return "\n".join(lines)


def main() -> None:
    """Measure, and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a minute, to check the table")
    parser.add_argument("--runs", type=int, default=3, help="full runs, each from a fresh copy")
    arguments = parser.parse_args()
    settings = SMOKE if arguments.smoke else FULL
    for tool in ("wrk", "uv"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed: apt-get install wrk / pip install uv")
    # Every uv command (the copy task's lock, the installs) on the services' Python.
    os.environ["UV_PYTHON"] = service_python()[1]
    runs = []
    for _ in range(1 if arguments.smoke else arguments.runs):
        work = Path(tempfile.mkdtemp(prefix="bench-"))
        try:
            runs.append(measure(work, settings))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(table(runs, arguments.smoke), file=sys.stderr, flush=True)  # progress
    print(table(runs, arguments.smoke))


if __name__ == "__main__":
    main()
