"""A worker's start after `kill -HUP`: how long until the master's new workers serve.

bench/run.py serves the generated service with its own gunicorn.conf.py, and bare Flask
with a config of its own, both with two workers, and sends each master SIGHUP in turn.
gunicorn re-reads its config, forks new workers and stops the old ones; each worker notes
when it was forked (`post_fork`) and when it booted (`post_worker_init`, its app loaded,
the last step before it serves) in the file BENCH_BOOTED names. One HUP's figure is the
time from the signal until every new worker booted; each worker's fork to boot is noted
too. The notes are two hooks run after the service's own: one `open` and `write` each.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

#: The hooks that note each worker's start, after any the config defines itself.
HOOKS = '''
import os as _bench_os
import time as _bench_time

_bench_service_hooks = {name: globals().get(name) for name in ("post_fork", "post_worker_init")}


def post_fork(server, worker):
    """Note when the master forked this worker; run the service's own hook."""
    worker.bench_forked = _bench_time.monotonic()
    if _bench_service_hooks["post_fork"] is not None:
        _bench_service_hooks["post_fork"](server, worker)


def post_worker_init(worker):
    """Run the service's own hook; note this worker's pid, fork and boot."""
    if _bench_service_hooks["post_worker_init"] is not None:
        _bench_service_hooks["post_worker_init"](worker)
    with open(_bench_os.environ["BENCH_BOOTED"], "a") as booted:
        booted.write(f"{_bench_os.getpid()} {worker.bench_forked} {_bench_time.monotonic()}\\n")
'''
#: bare Flask's config: the hooks alone (its settings are on the command line).
BARE_CONF = HOOKS
#: The generated service's own gunicorn.conf.py (the project is the current directory),
#: run as gunicorn runs it, then the hooks. A HUP reads both again, as it reads the file.
GENERATED_CONF = (
    'exec(compile(open("gunicorn.conf.py", "rb").read(), "gunicorn.conf.py", "exec"))\n' + HOOKS
)
#: How long one HUP may take before the measure gives up.
PATIENCE_SECONDS = 60.0
T = TypeVar("T")


def until(probe: Callable[[], T | None], failure: str) -> T:
    """Return what `probe` returns once it is not None; raise TimeoutError after patience."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(failure)
        time.sleep(0.01)
    return found


@dataclass
class Reloads:
    """A served master's HUPs, and what each of its workers noted in `booted`."""

    master: int
    booted: Path
    workers: int
    #: Every new worker's fork to boot, in ms.
    starts: list[float] = field(default_factory=list)

    def booted_workers(self) -> dict[int, tuple[float, float]]:
        """Return each worker that booted so far: its pid, fork and boot (monotonic)."""
        if not self.booted.exists():
            return {}
        noted = {}
        for line in self.booted.read_text().splitlines():
            pid, forked, booted = line.split()
            noted[int(pid)] = (float(forked), float(booted))
        return noted

    def settle(self) -> set[int]:
        """Wait until `workers` workers booted and every other one left; return them."""

        def alive() -> set[int] | None:
            pids = {pid for pid in self.booted_workers() if Path(f"/proc/{pid}").exists()}
            return pids if len(pids) == self.workers else None

        return until(alive, f"{self.workers} workers of {self.master} never settled")

    def hup(self) -> float:
        """Send SIGHUP; return the ms until every new worker booted (the old ones left)."""
        old = set(self.booted_workers())
        sent = time.monotonic()
        os.kill(self.master, signal.SIGHUP)

        def replaced() -> dict[int, tuple[float, float]] | None:
            new = {pid: at for pid, at in self.booted_workers().items() if pid not in old}
            if len(new) < self.workers or any(Path(f"/proc/{pid}").exists() for pid in old):
                return None
            return new

        new = until(replaced, f"the workers of {self.master} were not replaced")
        self.starts += [(booted - forked) * 1000 for forked, booted in new.values()]
        return (max(booted for _, booted in new.values()) - sent) * 1000
