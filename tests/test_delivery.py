"""Delivery files: CI pipelines, Kubernetes manifests and the Makefile keep their promises."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.answers import ODD_NAMES
from tests.support.commands import lint
from tests.support.projects import Rendered, matrix_sets, render

#: The CI file of each `ci` answer, and check-jsonschema's vendored schema for it.
CI_FILES = {
    "github": (".github/workflows/ci.yml", "vendor.github-workflows"),
    "gitlab": (".gitlab-ci.yml", "vendor.gitlab-ci"),
}
KUBERNETES_SETS = matrix_sets(lambda answers: bool(answers.get("kubernetes")))
#: The answer sets whose manifests run Celery: its workers and its beat.
CELERY_KUBERNETES_SETS = matrix_sets(
    lambda answers: bool(answers.get("kubernetes") and answers.get("celery"))
)
#: What every pipeline runs, in order.
CHECKS = ["uv sync --locked", "uv run ruff check", "uv run ruff format --check", "uv run mypy"]


def ci_commands(project: Rendered) -> list[str]:
    """Return every shell command the project's CI runs, in order, whatever the provider."""
    ci = project.answers.get("ci", "github")
    if ci == "none":
        return []
    config = yaml.safe_load((project.path / CI_FILES[ci][0]).read_text())
    if ci == "github":
        jobs = config["jobs"].values()
        return [step["run"] for job in jobs for step in job["steps"] if "run" in step]
    jobs = [job for job in config.values() if isinstance(job, dict)]
    return [line for job in jobs for line in job.get("script", [])]


@pytest.mark.parametrize("name", matrix_sets())
def test_ci_files_match_their_schemas(rendered: Callable[[str], Rendered], name: str) -> None:
    project = rendered(name)
    ci = project.answers.get("ci", "github")
    present = [path for path, _ in CI_FILES.values() if (project.path / path).exists()]
    if ci == "none":
        assert present == []
        return
    path, schema = CI_FILES[ci]
    assert present == [path]
    lint("check-jsonschema", "--builtin-schema", schema, path, cwd=project.path)


@pytest.mark.parametrize("name", matrix_sets(lambda answers: answers.get("ci") != "none"))
def test_ci_runs_every_check_with_the_services_it_needs(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    answers = project.answers
    commands = ci_commands(project)
    assert [command for command in commands if command in CHECKS] == CHECKS
    tests = [command for command in commands if command.startswith("uv run pytest")]
    text = (project.path / CI_FILES[answers.get("ci", "github")][0]).read_text()
    if answers.get("celery"):
        assert_worker_tests_run_on_a_broker_service(answers, tests, text)
    else:
        assert tests == ["uv run pytest"]
    database = answers.get("database", "sqlite")
    assert bool(re.search(r"(image|name): postgres:\d", text)) == (database == "postgresql")
    assert ("DATABASE_URL: postgresql+psycopg://postgres@" in text) == (database == "postgresql")
    if answers.get("ci", "github") == "github":
        assert ('ports: ["5432:5432"]' in text) == (database == "postgresql")
    migrate = [command for command in commands if command.endswith("db upgrade")]
    assert len(migrate) == (database != "none")
    builds = [command for command in commands if command.startswith("docker build")]
    assert len(builds) == answers.get("docker", True)
    # uv's cache survives between runs.
    assert "enable-cache: true" in text or "$UV_CACHE_DIR" in text


def assert_worker_tests_run_on_a_broker_service(
    answers: dict[str, Any], tests: list[str], text: str
) -> None:
    """The real-worker tests run, against a broker service the suite can reach."""
    assert tests == ['uv run pytest -m "broker or not broker"']
    broker = answers.get("celery_broker", "redis")
    assert re.search(rf"(image|name): {broker}:\d", text)
    if answers.get("ci", "github") == "gitlab":
        # GitHub's service ports are on 127.0.0.1, where the suite looks by default; a
        # GitLab service has a host name, which the suite reads from TEST_BROKER_URL.
        assert f"TEST_BROKER_URL: {'redis' if broker == 'redis' else 'amqp'}://" in text
        assert "@broker:" in text or "//broker:" in text
    else:
        port = {"redis": 6379, "rabbitmq": 5672}[broker]
        assert f'ports: ["{port}:{port}"]' in text  # published, or 127.0.0.1 has nothing


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_gitlab_runs_the_worker_tests_on_a_broker_service(copie: Any, broker: str) -> None:
    database = "postgresql" if broker == "rabbitmq" else "sqlite"
    project = render(copie, "defaults", ci="gitlab", celery=True, celery_broker=broker,
                     database=database)  # fmt: skip
    tests = [command for command in ci_commands(project) if command.startswith("uv run pytest")]
    text = (project.path / ".gitlab-ci.yml").read_text()
    assert_worker_tests_run_on_a_broker_service(project.answers, tests, text)
    lint("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml",
         cwd=project.path)  # fmt: skip


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_no_docker_builds_no_image(copie: Any, ci: str) -> None:
    project = render(copie, "defaults", ci=ci, docker=False)
    assert not any("docker" in command for command in ci_commands(project))
    assert "docker" not in (project.path / "Makefile").read_text()


def make_commands(project: Rendered, target: str) -> list[str]:
    """Return what `make -n target` would run in the project."""
    result = subprocess.run(
        ["make", "-n", target], cwd=project.path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("name", ["defaults", "nodb-sync-py312"])
def test_every_everyday_command_is_one_line_over_uv(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    database = project.answers.get("database", "sqlite") != "none"
    listed = subprocess.run(
        ["make"], cwd=project.path, capture_output=True, text=True, check=True
    ).stdout
    targets = [line.split("\t")[0] for line in listed.splitlines() if line]
    assert targets == [
        "help",
        "install",
        "lint",
        "format",
        "test",
        "serve",
        *(["migrate"] if database else []),
        "image",
    ]
    # Every target `make` lists, read from that list: one left out here would go unchecked.
    for target in targets[1:]:  # `help` is make's own grep over the Makefile
        commands = make_commands(project, target)
        assert len(commands) == 1, (target, commands)
        assert commands[0].startswith(("uv ", "docker build ")), commands
    assert "uv run flask --app" in make_commands(project, "serve")[0]


def manifests(project: Rendered) -> dict[str, dict[str, Any]]:
    """Return every manifest in deploy/, by its path there."""
    return {
        path.relative_to(project.path / "deploy").as_posix(): yaml.safe_load(path.read_text())
        for path in sorted((project.path / "deploy").rglob("*.yaml"))
    }


def pod_specs(project: Rendered) -> dict[str, dict[str, Any]]:
    """Return the pod template of every Deployment and Job, by file."""
    return {
        path: manifest["spec"]["template"]["spec"]
        for path, manifest in manifests(project).items()
        if manifest["kind"] in {"Deployment", "Job"}
    }


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}


def container_named(pod: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the container `name` of a pod template."""
    (found,) = [item for item in pod["containers"] if item["name"] == name]
    assert isinstance(found, dict)
    return found


@pytest.mark.parametrize("name", KUBERNETES_SETS)
def test_manifests_are_valid_kubernetes(rendered: Callable[[str], Rendered], name: str) -> None:
    project = rendered(name)
    found = manifests(project)
    expected = {"deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml", "examples/secret.yaml"}
    if project.answers.get("database", "sqlite") != "none":
        expected.add("migrate-job.yaml")
    if project.answers.get("database", "sqlite") == "postgresql":
        expected.add("database-budget.yaml")
    if project.answers.get("celery"):
        expected |= {"worker.yaml", "beat.yaml"}
        if project.answers.get("celery_broker", "redis") == "redis":
            expected.add("redis-budget.yaml")
    assert set(found) == expected
    files = [str(path) for path in (project.path / "deploy").rglob("*.yaml")]
    lint("kubernetes-validate", "--strict", *files, cwd=project.path)
    assert_names_the_api_server_accepts(found)


#: What the API server takes as an object's name (an RFC 1123 label: the schemas leave it
#: out), as a Service's name (an RFC 1035 label: a letter first) and as a label's value.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
SERVICE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def assert_names_the_api_server_accepts(found: dict[str, dict[str, Any]]) -> None:
    """Fail on a name or label value a cluster would refuse, which no schema checks."""
    for path, manifest in found.items():
        name = manifest["metadata"]["name"]
        pattern = SERVICE_NAME if manifest["kind"] == "Service" else DNS_LABEL
        assert isinstance(name, str), f"{path}: name {name!r} is no string"
        assert pattern.fullmatch(name), f"{path}: {manifest['kind']} name {name!r}"
        templates = [manifest.get("spec", {}).get("template", {}).get("metadata", {})]
        for metadata in [manifest["metadata"], *templates]:
            for key, value in metadata.get("labels", {}).items():
                assert isinstance(value, str), f"{path}: label {key}={value!r} is no string"
                assert LABEL_VALUE.fullmatch(value), f"{path}: label {key}={value!r}"


@pytest.mark.parametrize("name", ["digits-only", "yaml-boolean", "long"])
def test_odd_names_give_files_the_tools_accept(copie: Any, name: str) -> None:
    """A slug like "yes", or one of 55 characters, is a string and a name in every file."""
    project_name = ODD_NAMES[name][0]
    switches = {"database": "postgresql", "celery": True, "kubernetes": True, "ci": "gitlab"}
    project = render(copie, "defaults", project_name=project_name, **switches)
    root = project.path
    lint("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml",
         cwd=root)  # fmt: skip
    lint("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml", cwd=root)
    files = [str(path) for path in (root / "deploy").rglob("*.yaml")]
    lint("kubernetes-validate", "--strict", *files, cwd=root)
    assert_names_the_api_server_accepts(manifests(project))
    compose = yaml.safe_load((root / "compose.yaml").read_text())
    assert compose["name"] == ODD_NAMES[name][1]


def web_setting_default(project: Rendered, name: str) -> int:
    """Return the default of the server setting `name`, as serve.py reads it."""
    (serve,) = project.path.glob("src/*/serve.py")
    (default,) = re.findall(rf'whole\("{name}", (\d+)', serve.read_text())
    return int(default)


def web_setting(project: Rendered, name: str) -> int:
    """Return the web container's `name`: the manifest's value, or the server's default."""
    web = container_named(pod_specs(project)["deployment.yaml"], "web")
    return int(env_of(web).get(name, web_setting_default(project, name)))


@pytest.mark.parametrize("name", KUBERNETES_SETS)
def test_termination_grace_outlasts_prestop_and_graceful_timeout(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    pod = pod_specs(project)["deployment.yaml"]
    web = container_named(pod, "web")
    graceful = web_setting(project, "GUNICORN_GRACEFUL_TIMEOUT")
    command = web["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(command[1]) + graceful


@pytest.mark.parametrize("name", CELERY_KUBERNETES_SETS)
def test_a_worker_pod_outlasts_its_longest_job(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """SIGTERM lets the running jobs finish: the grace period is above the hard time limit."""
    project = rendered(name)
    pod = pod_specs(project)["worker.yaml"]
    (declared,) = project.path.glob("src/*/features/celery.py")  # the job queue's settings
    setting = r'Setting\("CELERY_TASK_TIME_LIMIT", \w+, default=(\d+)\)'
    (default,) = re.findall(setting, declared.read_text())
    limit = int(env_of(container_named(pod, "worker")).get("CELERY_TASK_TIME_LIMIT", default))
    assert pod["terminationGracePeriodSeconds"] > limit


@pytest.mark.parametrize("name", CELERY_KUBERNETES_SETS)
def test_exactly_one_beat_runs_even_through_a_rollout(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """Two beats send every periodic job twice: one replica, Recreate, nothing scales it."""
    project = rendered(name)
    found = manifests(project)
    beat = found["beat.yaml"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    scaled = {
        manifest["spec"]["scaleTargetRef"]["name"]
        for manifest in found.values()
        if manifest["kind"] == "HorizontalPodAutoscaler"
    }
    assert beat["metadata"]["name"] not in scaled
    labels = beat["spec"]["template"]["metadata"]["labels"]
    for path, manifest in found.items():
        selector = manifest.get("spec", {}).get("selector", {})
        chosen = selector.get("matchLabels", selector)
        if path != "beat.yaml" and chosen:  # a Service, budget or Deployment taking beat's pods
            assert not chosen.items() <= labels.items(), path
    # The command the README gives and compose runs, in the image.
    command = container_named(beat["spec"]["template"]["spec"], "beat")["command"]
    assert command == ["celery", "-A", f"{project.package}.worker", "--quiet", "beat"]
    assert "uv run " + " ".join(command) in (project.path / "README.md").read_text()


def cpus(quantity: str) -> float:
    """Return a Kubernetes CPU quantity ("500m", "1") in CPUs."""
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


@pytest.mark.parametrize("name", KUBERNETES_SETS)
def test_web_concurrency_follows_the_cpu_limit(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """WEB_CONCURRENCY is what the server would choose for the limit: 2 * CPUs + 1."""
    project = rendered(name)
    (serve,) = project.path.glob("src/*/serve.py")
    assert "2 * usable_cpus() + 1" in serve.read_text()
    web = container_named(pod_specs(project)["deployment.yaml"], "web")
    limit = math.ceil(cpus(web["resources"]["limits"]["cpu"]))
    assert int(env_of(web)["WEB_CONCURRENCY"]) == 2 * limit + 1


@pytest.mark.parametrize("name", CELERY_KUBERNETES_SETS)
def test_a_worker_runs_one_pool_process_per_cpu_of_its_limit(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """Celery's default concurrency counts the node's CPUs, not the container's limit."""
    worker = container_named(pod_specs(rendered(name))["worker.yaml"], "worker")
    command = worker["command"]
    concurrency = int(command[command.index("--concurrency") + 1])
    assert concurrency == math.ceil(cpus(worker["resources"]["limits"]["cpu"]))


#: The answer sets whose manifests run a PostgreSQL service: the connections have a budget.
POSTGRESQL_KUBERNETES_SETS = matrix_sets(
    lambda answers: bool(answers.get("kubernetes")) and answers.get("database") == "postgresql"
)


def generated_tool(project: Rendered, name: str) -> ModuleType:
    """Return the generated `tools/<name>.py` as a module, read from its file."""
    spec = importlib.util.spec_from_file_location(
        f"{project.package}_{name}", project.path / "tools" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where its dataclasses look themselves up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", POSTGRESQL_KUBERNETES_SETS)
def test_the_connections_fit_the_database_budget(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """Every pool at its fullest, at the autoscaler's maximum and mid-rollout, plus the rest.

    The template shipped 10 web pods of 3 workers with 5 + 10 pooled connections each: 495
    at once mid-rollout, against PostgreSQL's 100.
    """
    project = rendered(name)
    tool = generated_tool(project, "connection_budget")
    deployed = tool.pods(project.path)
    found = tool.terms(project.path, deployed)
    assert found is not None
    terms, budget, reserve = found
    total = sum(term.connections for term in terms) + reserve
    assert total <= budget, [(term.what, term.count, term.each) for term in terms]
    # Where Redis carries the jobs, its clients too (the simulation in test_scale_out.py
    # holds the tool's count of them against a real Redis).
    redis = tool.redis_terms(project.path, deployed)
    answers = project.answers
    assert (redis is not None) == (
        answers.get("celery", False) and answers.get("celery_broker", "redis") == "redis"
    )
    if redis is not None:
        clients, limit, kept = redis
        assert sum(term.connections for term in clients) + kept <= limit
    hpa = manifests(project)["hpa.yaml"]["spec"]
    web = [term for term in terms if term.what.startswith("web workers")]
    workers = web_setting(project, "WEB_CONCURRENCY")
    assert web[0].count == (hpa["maxReplicas"] + 1) * workers  # maxSurge 1
    readme = (project.path / "README.md").read_text()
    assert f"keeps 2 to {hpa['maxReplicas']} of them" in readme


REDIS_KUBERNETES_SETS = matrix_sets(
    lambda answers: (
        bool(answers.get("kubernetes"))
        and bool(answers.get("celery"))
        and answers.get("celery_broker", "redis") == "redis"
    )
)


@pytest.mark.parametrize("name", REDIS_KUBERNETES_SETS)
def test_the_readme_works_out_redis_clients_as_the_tool_counts_them(
    rendered: Callable[[str], Rendered], name: str, tmp_path: Path
) -> None:
    """The README's two worked examples are the tool's own sums for those manifests."""
    project = rendered(name)
    tool = generated_tool(project, "connection_budget")
    root = tmp_path / "service"
    shutil.copytree(project.path / "deploy", root / "deploy")
    for linked in ("src", "gunicorn.conf.py"):
        (root / linked).symlink_to(project.path / linked)

    def total(web_pods: int, worker_pods: int) -> int:
        for manifest, field, value in (("hpa.yaml", "maxReplicas", web_pods),
                                       ("worker.yaml", "replicas", worker_pods)):  # fmt: skip
            path = root / "deploy" / manifest
            document = yaml.safe_load(path.read_text())
            document["spec"][field] = value
            path.write_text(yaml.safe_dump(document))
        found = tool.redis_terms(root, tool.pods(root))
        assert found is not None
        clients, _, reserve = found
        return int(sum(term.connections for term in clients) + reserve)

    readme = (project.path / "README.md").read_text()
    assert "- Redis connections" in readme
    # The examples are for gthread's 4 threads, as the README says.
    if project.answers.get("worker_class", "gthread") == "gthread":
        assert f"+ 2 + 5: {total(10, 2):,} connections" in readme
        assert f"+ 2 + 5:\n    {total(100, 10):,} connections" in readme


def mebibytes(quantity: str) -> float:
    """Return a Kubernetes memory quantity ("512Mi", "1Gi") in MiB."""
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


#: What the gunicorn master holds beside its workers, measured: about 40 MiB.
MASTER_MIB = 40


@pytest.mark.parametrize("name", KUBERNETES_SETS)
def test_worker_memory_limit_fits_the_container_limit(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """Every worker at GUNICORN_MAX_WORKER_MEMORY, plus the master, fits the pod's limit."""
    project = rendered(name)
    web = container_named(pod_specs(project)["deployment.yaml"], "web")
    per_worker = web_setting(project, "GUNICORN_MAX_WORKER_MEMORY")
    workers = int(env_of(web)["WEB_CONCURRENCY"])
    limit = mebibytes(web["resources"]["limits"]["memory"])
    # 0 turns the check off: workers would grow until the kernel kills the pod.
    assert per_worker > 0, "GUNICORN_MAX_WORKER_MEMORY is off: no worker is ever replaced"
    assert per_worker * workers + MASTER_MIB <= limit


@pytest.mark.parametrize("name", KUBERNETES_SETS)
def test_pods_run_as_non_root_on_a_read_only_root(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    slug = (project.path / "pyproject.toml").read_text().split('name = "')[1].split('"')[0]
    for path, pod in pod_specs(project).items():
        assert pod["securityContext"]["runAsNonRoot"] is True, path
        assert pod["automountServiceAccountToken"] is False, path
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, path
            assert security["allowPrivilegeEscalation"] is False, path
            assert security["capabilities"]["drop"] == ["ALL"], path
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], path  # noqa: S108 (a mount point)
            if container["name"] == "proxy":
                continue  # nginx: no secret, no setting (test_the_proxy_fronts_the_web_pods)
            assert container["envFrom"] == [{"secretRef": {"name": slug}}], path
            assert env_of(container)["APP_ENV"] == "production"
            if path == "migrate-job.yaml":
                continue
            assert "emptyDir" in volumes[mounts["/app/instance"]], path
            if path != "beat.yaml":  # beat writes neither of these
                # gunicorn's heartbeat files and prometheus' value files: on a RAM disk.
                shm = volumes[mounts["/dev/shm"]]  # noqa: S108 (a mount point)
                assert shm["emptyDir"]["medium"] == "Memory", path


@pytest.mark.parametrize("name", KUBERNETES_SETS)
def test_probes_and_secrets(rendered: Callable[[str], Rendered], name: str) -> None:
    project = rendered(name)
    web = container_named(pod_specs(project)["deployment.yaml"], "web")
    for probe, path in [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")]:
        get = web[probe]["httpGet"]
        assert get["path"] == path
        # TRUSTED_HOSTS would refuse the pod IP the kubelet sends as Host otherwise.
        assert get["httpHeaders"] == [{"name": "Host", "value": "localhost"}]
    found = manifests(project)
    assert "replicas" not in found["deployment.yaml"]["spec"]  # the autoscaler owns it
    assert found["hpa.yaml"]["spec"]["minReplicas"] >= 2
    secret = found["examples/secret.yaml"]
    assert set(secret["stringData"].values()) == {""}, "no secret value is ever committed"
    assert "SECRET_KEY" in secret["stringData"]
    assert ("DATABASE_URL" in secret["stringData"]) == (
        project.answers.get("database") == "postgresql"
    )
    assert ("CELERY_BROKER_URL" in secret["stringData"]) == bool(project.answers.get("celery"))


#: The answer sets that generate proxy/nginx.conf: compose and Kubernetes both run it.
PROXY_SETS = matrix_sets(
    lambda answers: bool(answers.get("docker", True) or answers.get("kubernetes"))
)


def nginx_directives(project: Rendered) -> list[tuple[str, str]]:
    """Return every simple directive of proxy/nginx.conf, as (name, arguments), in order."""
    text = re.sub(r"#.*", "", (project.path / "proxy/nginx.conf").read_text())
    return [(name, value.strip()) for name, value in re.findall(r"(\w+)\s+([^;{}]*);", text)]


@pytest.mark.parametrize("name", PROXY_SETS)
def test_the_proxy_buffers_whole_requests(rendered: Callable[[str], Rendered], name: str) -> None:
    """nginx reads whole requests in bounded time, and tells the app what PROXY_COUNT=1 trusts."""
    project = rendered(name)
    found = nginx_directives(project)
    settings = dict(found)
    for timeout in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert 0 < int(settings[timeout].removesuffix("s")) <= 30, timeout
    assert settings["proxy_request_buffering"] == "on"
    assert settings["proxy_buffering"] == "on"
    assert settings["server_tokens"] == "off"
    # MAX_CONTENT_LENGTH's default: the app's own 413 and nginx's agree.
    config = next((project.path / "src").glob("*/config.py")).read_text()
    assert "MAX_CONTENT_LENGTH = 1024 * 1024\n" in config
    assert settings["client_max_body_size"] == "1m"
    # Kept-alive connections to gunicorn, closed before gunicorn's keepalive closes them.
    assert settings["server"] == "web:8000"
    assert int(settings["keepalive"]) > 0
    gunicorn_keepalive = web_setting_default(project, "GUNICORN_KEEPALIVE")
    assert int(settings["keepalive_timeout"].removesuffix("s")) < gunicorn_keepalive
    assert web_setting_default(project, "PORT") == 8000
    headers = {value.split()[0].lower(): value.split(None, 1)[1:] for key, value in found
               if key == "proxy_set_header"}  # fmt: skip
    assert headers["x-forwarded-for"] == ["$proxy_add_x_forwarded_for"]
    assert headers["x-forwarded-proto"] == ["$forwarded_proto"]
    assert headers["x-forwarded-host"] == ["$forwarded_host"]
    assert headers["x-forwarded-port"] == ['""']  # the container's port is no client's
    assert headers["x-request-id"] == ["$http_x_request_id"]
    assert headers["connection"] == ['""']  # what keeps upstream connections alive
    assert ("listen", "8080") in found
    assert not any(key in {"user", "daemon"} for key, _ in found)  # non-root, foreground
    temp_paths = [value for key, value in found if key.endswith("_temp_path")] + [settings["pid"]]
    assert len(temp_paths) == 6
    assert all(path.startswith("/tmp/") for path in temp_paths)  # noqa: S108 (read-only root)


@pytest.mark.parametrize("name", KUBERNETES_SETS)
def test_the_proxy_fronts_the_web_pods(rendered: Callable[[str], Rendered], name: str) -> None:
    """The Service sends to nginx, which sends to this pod's gunicorn, from the one config file."""
    project = rendered(name)
    found = manifests(project)
    pod = pod_specs(project)["deployment.yaml"]
    web = container_named(pod, "web")
    proxy = container_named(pod, "proxy")
    assert re.fullmatch(r"nginx:\d+\.\d+", proxy["image"]), "the official image, pinned"
    assert proxy["command"] == ["nginx", "-e", "stderr", "-g", "daemon off;"]
    (port,) = proxy["ports"]
    assert port["containerPort"] == 8080  # proxy/nginx.conf's listen
    (service_port,) = found["service.yaml"]["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    # proxy/nginx.conf's `web:8000` is this pod's gunicorn.
    assert pod["hostAliases"] == [{"ip": "127.0.0.1", "hostnames": ["web"]}]
    (web_port,) = web["ports"]
    assert web_port["containerPort"] == int(env_of(web)["PORT"]) == 8000
    assert env_of(web)["PROXY_COUNT"] == "1"
    # The one copy of the configuration, as a ConfigMap the README's commands make from it.
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: mount for mount in proxy["volumeMounts"]}
    conf = mounts["/etc/nginx/nginx.conf"]
    assert conf["subPath"] == "nginx.conf"
    assert conf["readOnly"] is True
    configmap = volumes[conf["name"]]["configMap"]["name"]
    assert configmap == f"{project.slug}-proxy"
    readme = (project.path / "README.md").read_text()
    assert f"kubectl create configmap {configmap} --from-file=proxy/nginx.conf" in readme
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]  # noqa: S108 (a mount point)
    # Ready when /readyz answers through nginx; alive while nginx accepts connections.
    readiness = proxy["readinessProbe"]["httpGet"]
    assert (readiness["path"], readiness["port"]) == ("/readyz", port["name"])
    assert readiness["httpHeaders"] == [{"name": "Host", "value": "localhost"}]
    assert proxy["livenessProbe"]["tcpSocket"]["port"] == port["name"]
    # nginx accepts connections as long as gunicorn does, and its requests in flight finish
    # (SIGQUIT, the image's stop signal) before the kubelet's SIGKILL.
    assert proxy["lifecycle"] == web["lifecycle"]
    prestop = int(proxy["lifecycle"]["preStop"]["exec"]["command"][1])
    shutdown = dict(nginx_directives(project))["worker_shutdown_timeout"]
    assert prestop + int(shutdown.removesuffix("s")) < pod["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("kubernetes", [True, False], ids=["kubernetes", "no-kubernetes"])
@pytest.mark.parametrize("ci", ["github", "gitlab", "none"])
@pytest.mark.parametrize("docker", [True, False], ids=["docker", "no-docker"])
def test_every_combination_of_the_delivery_switches_passes_the_linters(
    copie: Any, docker: bool, ci: str, kubernetes: bool
) -> None:
    """All twelve: each file a switch adds is accepted by its linter, whatever the others."""
    switches = {"docker": docker, "ci": ci, "kubernetes": kubernetes}
    # PostgreSQL and Celery: the most files (a migrations Job, a worker, compose services).
    project = render(copie, "defaults", database="postgresql", celery=True, **switches)
    root = project.path
    assert (root / "Dockerfile").exists() == docker
    if docker:
        lint("hadolint", "--no-color", "--failure-threshold", "info", "Dockerfile", cwd=root)
        lint("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml",
             cwd=root)  # fmt: skip
    for answer, (path, schema) in CI_FILES.items():
        assert (root / path).exists() == (ci == answer)
        if ci == answer:
            lint("check-jsonschema", "--builtin-schema", schema, path, cwd=root)
            builds = [line for line in ci_commands(project) if line.startswith("docker build")]
            assert len(builds) == docker
    assert (root / "deploy").exists() == kubernetes
    if kubernetes:
        files = [str(path) for path in (root / "deploy").rglob("*.yaml")]
        lint("kubernetes-validate", "--strict", *files, cwd=root)
