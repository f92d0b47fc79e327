"""Container files: hadolint on every Dockerfile, the compose-spec schema on every compose.yaml."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.support.commands import lint
from tests.support.projects import DEFAULT_PYTHON, Rendered, matrix_sets, render

DOCKER_SETS = matrix_sets(lambda answers: answers.get("docker", True))
#: nginx in the foreground, its errors on stderr before it has read the configuration.
NGINX_COMMAND = ["nginx", "-e", "stderr", "-g", "daemon off;"]


@pytest.mark.parametrize("name", DOCKER_SETS)
def test_hadolint_accepts_the_dockerfile(rendered: Callable[[str], Rendered], name: str) -> None:
    project = rendered(name)
    lint("hadolint", "--no-color", "--failure-threshold", "info", "Dockerfile", cwd=project.path)


@pytest.mark.parametrize("name", DOCKER_SETS)
def test_the_dockerfile_keeps_its_promises(rendered: Callable[[str], Rendered], name: str) -> None:
    project = rendered(name)
    dockerfile = (project.path / "Dockerfile").read_text()
    version = project.answers.get("python_version", DEFAULT_PYTHON)
    release = "bookworm" if version in {"3.11", "3.12"} else "trixie"
    assert f"ARG PYTHON_VERSION={version}\n" in dockerfile
    assert dockerfile.count(f"FROM python:${{PYTHON_VERSION}}-slim-{release}") == 2
    assert "uv sync --locked --no-dev" in dockerfile
    assert "UV_COMPILE_BYTECODE=1" in dockerfile
    # The last stage runs as the unprivileged user, gunicorn as PID 1 (exec form).
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER 10001:10001$", final, re.M)
    # The launcher checks the environment, then execs gunicorn in its place.
    assert re.search(r'^CMD \["python", "-m", "\w+\.serve"\]\Z', final.rstrip(), re.M)
    assert "/livez" in final
    assert "uv" not in re.findall(r"^COPY .*$", final, re.M)[0]
    writable = "sqlite" if project.answers.get("database", "sqlite") == "sqlite" else None
    assert ("/app/instance" in final) == bool(writable or project.answers.get("celery"))


def test_dockerignore_keeps_secrets_and_local_state_out(copie: Any) -> None:
    ignored = set((render(copie, "defaults").path / ".dockerignore").read_text().splitlines())
    assert {".env", ".git", ".venv", "tests", ".pytest_cache", "instance"} <= ignored


@pytest.mark.parametrize("name", DOCKER_SETS)
def test_compose_file_follows_the_compose_spec(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    lint("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml",
         cwd=project.path)  # fmt: skip


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="sqlite"),
        pytest.param({"database": "postgresql", "celery": True}, id="postgresql-redis"),
        pytest.param({"database": "none", "celery": True}, id="nodb-redis"),
        pytest.param({"celery": True, "celery_broker": "rabbitmq"}, id="sqlite-rabbitmq"),
    ],
)
def test_compose_starts_the_web_after_healthy_dependencies(
    copie: Any, overrides: dict[str, Any]
) -> None:
    project = render(copie, "defaults", **overrides)
    text = (project.path / "compose.yaml").read_text()
    services = yaml.safe_load(text)["services"]
    database = project.answers.get("database", "sqlite")
    celery = project.answers.get("celery", False)
    expected = {"web", "proxy"} | ({"migrate"} if database != "none" else set())
    expected |= {"db"} if database == "postgresql" else set()
    expected |= {"worker", "beat", "broker"} if celery else set()
    assert set(services) == expected
    for name, service in services.items():
        assert service.get("env_file", ".env") == ".env"
        if "image" in service and name != "proxy":  # a dependency: healthy before use
            assert service["healthcheck"]["test"][0] == "CMD"
    conditions = {
        name: condition["condition"]
        for name, condition in services["web"].get("depends_on", {}).items()
    }
    assert conditions == {
        name: "service_completed_successfully" if name == "migrate" else "service_healthy"
        for name in expected - {"web", "proxy", "worker", "beat"}
    }
    # No secret in the file: settings and secrets come from .env.
    assert not re.search(r"SECRET_KEY:|PASSWORD:|://[^/@\s]+:[^/@\s]+@", text)


@pytest.mark.parametrize("name", DOCKER_SETS)
def test_compose_publishes_the_proxy_not_gunicorn(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """Clients reach gunicorn only through nginx, which runs proxy/nginx.conf as it is."""
    project = rendered(name)
    services = yaml.safe_load((project.path / "compose.yaml").read_text())["services"]
    web, proxy = services["web"], services["proxy"]
    assert "ports" not in web
    assert web["environment"]["PROXY_COUNT"] == "1"
    assert re.fullmatch(r"nginx:\d+\.\d+", proxy["image"]), "the official image, pinned"
    conf = (project.path / "proxy/nginx.conf").read_text()
    assert "listen 8080;" in conf
    assert proxy["ports"] == ["127.0.0.1:8000:8080"]
    # `web` is the compose service; 8000 is gunicorn's PORT.
    assert "server web:8000;" in conf
    assert proxy["volumes"] == ["./proxy/nginx.conf:/etc/nginx/nginx.conf:ro"]
    assert proxy["command"] == NGINX_COMMAND
    assert proxy["depends_on"]["web"] == {"condition": "service_healthy", "restart": True}
    # As in the pods: not root, a read-only root, /tmp for what nginx writes.
    assert proxy["user"] == "10001:10001"
    assert proxy["read_only"] is True
    assert proxy["tmpfs"] == ["/tmp"]  # noqa: S108 (a mount point)
