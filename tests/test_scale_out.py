"""Scale-out, simulated on one machine: instances behind a balancer, at the connection budget.

The generated service with Kubernetes, PostgreSQL and Celery (Redis) runs as its manifests
run it, scaled down to fit two cores: INSTANCES gunicorn masters (the web pods) of WORKERS
workers with THREADS threads, and one Celery worker with the manifest's pool processes.
HAProxy stands for the Service and its endpoints: it sends requests only to instances whose
/readyz passes, checked at the readiness probe's period and failure threshold. PostgreSQL is
a server of the test's own whose `max_connections` is what the service's own
tools/connection_budget.py adds up for these numbers: a connection the tool did not count
is refused there, and fails a request. Redis is the test's own too, with `maxclients` at
the budget tools/connection_budget.py states for it.

Three runs, each on a cluster of its own, print what they counted:
- ramp: clients grow until every instance has as many requests as it serves at once, and
  more wait; every request succeeds, or is the service's own documented 503, and each
  instance's /metrics counted every request it answered;
- kill: SIGKILL to an instance under load; the balancer's check takes it out, and only
  requests in flight on it fail;
- rolling: each instance replaced in turn under load, as a rolling update does it (a new
  pod ready first, then the old one's endpoint removed, its preStop sleep, SIGTERM): no
  request fails.

Times are the manifests' divided by SCALE: the probe's period and the preStop sleep. What
the runs cannot show (the scheduler, the network, a node lost) is in the README's
"Capacity".
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cluster import (
    COUNT_CONNECTIONS,
    Backend,
    Balancer,
    PostgresCluster,
    Sampler,
    Traffic,
    metric_counts,
    redis_clients,
    redis_info,
    stop_gracefully,
)
from tests.support.projects import Rendered
from tests.support.redis import RedisServer
from tests.support.served import (
    PACKAGE,
    Server,
    free_port,
    install,
    migrate,
    production_env,
    serve,
    wait_until,
)

pytestmark = pytest.mark.slow

#: The web pods, and each one's gunicorn workers and threads.
INSTANCES = 3
WORKERS = 2
THREADS = 2
#: The manifests' seconds (probe period, preStop sleep) are divided by this here.
SCALE = 5
#: Connections the test keeps for itself: the sampler of PostgreSQL's connections.
RESERVE = 1
#: The property that carries a run's counts to the session's summary (conftest.py).
COUNTS = "counts"


@pytest.fixture(scope="module")
def project(copie_session: Any) -> Rendered:
    """Kubernetes, PostgreSQL, Celery on Redis and metrics, installed."""
    return install(
        copie_session, "defaults", kubernetes=True, database="postgresql", celery=True,
        celery_broker="redis", metrics=True,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def counts(
    capsys: pytest.CaptureFixture[str], record_property: Callable[[str, object], None]
) -> Iterator[None]:
    """Keep what a run printed for the end of the session (conftest.py), passed or failed."""
    yield
    printed = capsys.readouterr().out
    record_property(COUNTS, printed)
    with capsys.disabled():  # and still show it now, under -s
        print(printed, end="")


@dataclass(frozen=True)
class Manifests:
    """What the simulation follows from deploy/: the readiness probe and a pod's stop."""

    period: float
    failures: int
    timeout: float
    prestop: float
    grace: float
    surge: int
    job_processes: int

    @classmethod
    def read(cls, project: Rendered) -> Manifests:
        """Read them from the project's deployment.yaml and worker.yaml."""
        web = yaml.safe_load((project.path / "deploy/deployment.yaml").read_text())
        pod = web["spec"]["template"]["spec"]
        (container,) = (item for item in pod["containers"] if item["name"] == "web")
        probe = container["readinessProbe"]
        sleep = container["lifecycle"]["preStop"]["exec"]["command"]
        assert sleep[0] == "sleep", sleep
        jobs = yaml.safe_load((project.path / "deploy/worker.yaml").read_text())
        (worker,) = jobs["spec"]["template"]["spec"]["containers"]
        command = worker["command"]
        return cls(
            period=probe["periodSeconds"],
            failures=probe["failureThreshold"],
            timeout=probe["timeoutSeconds"],
            prestop=float(sleep[1]),
            grace=pod["terminationGracePeriodSeconds"],
            surge=web["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            job_processes=int(command[command.index("--concurrency") + 1]),
        )


def budgets(project: Rendered, folder: Path) -> tuple[int, int]:
    """Return the PostgreSQL and Redis connections tools/connection_budget.py counts here.

    The tool reads a copy of deploy/ with the simulation's numbers in it: the autoscaler's
    maximum at INSTANCES, each pod's workers and threads, and the test's own reserve.
    """
    root = folder / "simulated"
    shutil.copytree(project.path / "deploy", root / "deploy")
    for name in ("src", "gunicorn.conf.py"):
        (root / name).symlink_to(project.path / name)

    def edit(name: str, change: Any) -> None:
        path = root / "deploy" / name
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document))

    def web(document: dict[str, Any]) -> None:
        (container,) = (
            item for item in document["spec"]["template"]["spec"]["containers"]
            if item["name"] == "web"
        )  # fmt: skip
        env = [item for item in container["env"] if item["name"] != "WEB_CONCURRENCY"]
        env += [{"name": "WEB_CONCURRENCY", "value": str(WORKERS)}]
        container["env"] = [*env, {"name": "GUNICORN_THREADS", "value": str(THREADS)}]

    edit("hpa.yaml", lambda document: document["spec"].update(maxReplicas=INSTANCES))
    edit("deployment.yaml", web)
    # Budgets the sums cannot reach, so that the tool prints the sums and passes.
    for name, prefix in (("database-budget.yaml", "DB"), ("redis-budget.yaml", "REDIS")):
        limits = {
            f"{prefix}_CONNECTION_BUDGET": "100000",
            f"{prefix}_CONNECTION_RESERVE": str(RESERVE),
        }
        edit(name, lambda document, limits=limits: document["data"].update(limits))
    counted = project.run(".venv/bin/python", "tools/connection_budget.py", str(root))
    assert counted.returncode == 0, counted.stdout + counted.stderr
    database, redis = (
        int(line.split()[0]) for line in counted.stdout.splitlines() if " in all" in line
    )
    print(f"tools/connection_budget.py counts {database} PostgreSQL connections, {redis} Redis")
    return database, redis


@dataclass
class Cluster:
    """The simulated deployment: its servers, its instances and the balancer before them."""

    project: Rendered
    folder: Path
    manifests: Manifests
    database: PostgresCluster
    redis: RedisServer
    stack: ExitStack
    #: What every instance's environment adds to production's.
    env: dict[str, str]
    #: A slot for each pod the runs start: the first INSTANCES, and as many replacements.
    slots: list[Backend]
    lb: Balancer
    running: dict[str, Server] = field(default_factory=dict)

    def start(self, slot: Backend) -> Server:
        """Start the instance of `slot` (a new pod); it gets traffic once /readyz passes."""
        server = self.stack.enter_context(
            serve(self.project, self.folder, PORT=str(slot.port), **self.env)
        )
        self.running[slot.name] = server
        return server

    def delete(self, name: str) -> int:
        """Stop instance `name` as Kubernetes deletes a pod; return gunicorn's exit status.

        Its endpoint is removed (the balancer drains it) while the preStop sleep runs; then
        SIGTERM, and SIGKILL past the grace period.
        """
        self.lb.drain(name)
        time.sleep(self.manifests.prestop / SCALE)
        server = self.running.pop(name)
        return stop_gracefully(server.process, self.manifests.grace - self.manifests.prestop)

    def detection(self) -> float:
        """Return the most seconds the balancer takes to stop sending to a dead instance."""
        interval = self.manifests.period / SCALE
        return self.manifests.failures * (interval + self.manifests.timeout) + interval


@contextmanager
def cluster(project: Rendered, folder: Path) -> Iterator[Cluster]:
    """Run the simulated deployment: INSTANCES instances, one job worker, the balancer."""
    manifests = Manifests.read(project)
    assert manifests.surge == 1, "the simulation starts one new pod at a time"
    connections, clients = budgets(project, folder)
    with ExitStack() as stack:
        database = stack.enter_context(PostgresCluster(connections).running())
        redis = stack.enter_context(RedisServer(folder / "redis", maxclients=clients))
        env = {
            "DATABASE_URL": database.url,
            "CELERY_BROKER_URL": redis.url,
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_THREADS": str(THREADS),
        }
        migrate(project, database.url, **env)
        slots = [Backend(f"pod-{n}", free_port()) for n in range(1, 2 * INSTANCES + 1)]
        balancer = Balancer(
            folder,
            slots,
            interval=manifests.period / SCALE,
            fall=manifests.failures,
            check_timeout=manifests.timeout,
        )
        stack.callback(balancer.stop)
        world = Cluster(project, folder, manifests, database, redis, stack, env, slots, balancer)
        stack.enter_context(jobs(project, folder, world.env, manifests.job_processes))
        for slot in world.slots[:INSTANCES]:
            world.start(slot)
        for slot in world.slots[:INSTANCES]:
            world.lb.wait_for_status(slot.name, "UP", 30)
        yield world


@contextmanager
def jobs(project: Rendered, folder: Path, env: dict[str, str], processes: int) -> Iterator[None]:
    """Run `celery worker`, with `processes` pool processes, and `celery beat`, as deploy/ does."""
    celery = [str(project.path / ".venv/bin/celery"), "-A", f"{PACKAGE}.worker"]
    commands = {"worker": ["worker", "--concurrency", str(processes)], "beat": ["beat"]}
    started: list[subprocess.Popen[bytes]] = []
    # Beat keeps its schedule in the instance folder (an emptyDir in the pod).
    (project.path / "instance").mkdir(exist_ok=True)
    try:
        for name, arguments in commands.items():
            with (folder / f"{name}.log").open("wb") as output:
                started.append(
                    subprocess.Popen(
                        [*celery, *arguments],
                        cwd=project.path,
                        env=production_env(**env),
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield
        for process, name in zip(started, commands, strict=True):
            assert process.poll() is None, (folder / f"{name}.log").read_text()[-2000:]
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def group_runs(group: int) -> bool:
    """Tell whether a process of process group `group` still runs (not a zombie).

    A zombie's sockets are closed. The whole group, not the workers seen before the kill: a
    worker forked meanwhile (one recycled) holds the listening socket too.
    """
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended while we read it
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False


@contextmanager
def sampled(world: Cluster) -> Iterator[tuple[Sampler, Sampler]]:
    """Sample PostgreSQL's and Redis's connections while the block runs."""
    database = Sampler(
        [str(world.project.path / ".venv/bin/python"), "-c", COUNT_CONNECTIONS, world.database.url]
    )
    redis = redis_clients(world.redis.port)
    try:
        yield database, redis
    finally:
        database.stop()
        redis.stop()


def assert_within_budgets(world: Cluster, database: Sampler, redis: Sampler) -> None:
    """Check neither server refused a connection, and print the peaks."""
    print(
        f"PostgreSQL: peak {database.peak()} connections of max_connections "
        f"{world.database.max_connections} (less {RESERVE} for the sampler); "
        f"Redis: peak {redis.peak()} clients of maxclients {world.redis.maxclients} "
        f"(less {RESERVE} for the sampler)"
    )
    assert world.database.refusals() == []
    assert redis_info(world.redis.port, "rejected_connections") == 0


def assert_jobs_ran(world: Cluster, traffic: Traffic) -> None:
    """Check every job the runs enqueued succeeded: none was lost on the way."""
    lb = world.lb

    def state(job: str) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=10)
        try:
            connection.request("GET", f"/api/jobs/{job}")
            return str(json.loads(connection.getresponse().read())["state"])
        finally:
            connection.close()

    pending = list(traffic.jobs)
    assert pending, "no job was enqueued"

    def all_done() -> bool:
        pending[:] = [job for job in pending if state(job) != "SUCCESS"]
        return not pending

    wait_until(all_done, f"{len(pending)} jobs never succeeded", 60)
    print(f"jobs: {len(traffic.jobs)} enqueued, all succeeded")


def test_a_ramp_to_saturation_fails_nothing_but_documented_503s(
    project: Rendered, tmp_path: Path
) -> None:
    with cluster(project, tmp_path) as world, sampled(world) as (database, redis):
        with Traffic(world.lb.port, clients=2) as traffic:
            for clients in (2, 6, 12, 24):
                traffic.grow(clients)
                time.sleep(3)
        counted = traffic.count()
        print(f"ramp: {sum(counted.values())} requests, by status: {dict(counted)}")
        stats = world.lb.stats()
        most = {name: int(stats[name]["smax"]) for name in world.running}
        print(f"most requests at once per instance: {most} (each serves {WORKERS * THREADS})")
        assert all(held >= WORKERS * THREADS for held in most.values()), most
        failed = traffic.failed()
        assert [ended for ended in failed if not ended.documented] == []
        metrics: Counter[str] = Counter()
        for server in world.running.values():
            metrics += metric_counts(server.port)
        assert metrics == Counter({str(status): n for status, n in counted.items()})
        assert_within_budgets(world, database, redis)
        assert_jobs_ran(world, traffic)


def test_a_killed_instance_fails_only_the_requests_it_held(
    project: Rendered, tmp_path: Path
) -> None:
    with cluster(project, tmp_path) as world, sampled(world) as (database, redis):
        victim = world.slots[0].name
        with Traffic(world.lb.port, clients=12) as traffic:
            time.sleep(3)
            server = world.running.pop(victim)
            signalled = time.monotonic()
            os.killpg(server.process.pid, signal.SIGKILL)
            # Dead, not just signalled: until then its listening socket still takes connections.
            server.process.wait(timeout=10)
            wait_until(lambda: not group_runs(server.process.pid), "the killed pod lingers", 10)
            dead = time.monotonic()
            down = world.lb.wait_for_status(victim, "DOWN", world.detection() + 5)
            time.sleep(3)
        failed = traffic.failed()
        print(
            f"kill: {sum(traffic.count().values())} requests, {len(failed)} failed; dead "
            f"{dead - signalled:.2f} s after SIGKILL, out of the balancer "
            f"{down - signalled:.1f} s after it; by status: {dict(traffic.count())}"
        )
        # Only requests in flight on the killed instance: sent before it died, and cut there
        # (the balancer's 502); none before the kill, none sent once it was gone.
        held = [e for e in failed if signalled <= e.at and e.started < dead and e.status == 502]
        assert failed == held, (
            [(e.what, e.status, e.started - signalled, e.at - signalled) for e in failed],
            dead - signalled,
            [line for line in world.lb.log.read_text().splitlines() if " 502 " in line],
        )
        assert traffic.count(since=down)[200] > 0
        assert_within_budgets(world, database, redis)


def test_a_rolling_replacement_under_load_fails_no_request(
    project: Rendered, tmp_path: Path
) -> None:
    with cluster(project, tmp_path) as world, sampled(world) as (database, redis):
        with Traffic(world.lb.port, clients=12) as traffic:
            time.sleep(2)
            for old, new in zip(world.slots[:INSTANCES], world.slots[INSTANCES:], strict=True):
                world.start(new)
                world.lb.wait_for_status(new.name, "UP", 30)
                assert world.delete(old.name) == 0
            time.sleep(2)
        counted = traffic.count()
        print(f"rolling: {sum(counted.values())} requests, by status: {dict(counted)}")
        assert traffic.failed() == []
        served = {name: int(row["stot"]) for name, row in world.lb.stats().items()}
        print(f"requests per pod: {served}")
        assert all(served[slot.name] > 0 for slot in world.slots)
        assert_within_budgets(world, database, redis)
        assert_jobs_ran(world, traffic)
