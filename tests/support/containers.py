"""Commands run in a stand-in image, for Pythons this machine has no interpreter of.

uv cannot download interpreters here and pyenv stops at 3.13: a project on a newer Python is
locked, checked and tested in the stand-in image of its version (`.ci/stand-in-images`), with
this machine's uv and uv cache, the project mounted where it is.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from tests.support.commands import own_binary
from tests.support.projects import TEMPLATE, Rendered
from tests.support.tools import missing

STAND_IN = TEMPLATE / ".ci" / "stand-in-images"


def engine() -> None:
    """Require a container engine that answers."""
    if shutil.which("docker") is None:
        missing("no docker client on PATH (Debian: apt-get install docker.io)")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode:
        missing("the docker engine does not answer (start dockerd)")


def base_image(project: Rendered) -> str:
    """Build the stand-ins the project's Dockerfile names; return its Python base image."""
    dockerfile = (project.path / "Dockerfile").read_text()
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.M)
    uv = re.search(r"^FROM ghcr\.io/astral-sh/uv:(\S+) AS uv$", dockerfile, re.M)
    release = re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim-(\w+)", dockerfile, re.M)
    assert python, "no ARG PYTHON_VERSION= in the Dockerfile"
    assert uv, "no FROM ghcr.io/astral-sh/uv:<tag> AS uv in the Dockerfile"
    assert release, "no FROM python:${PYTHON_VERSION}-slim-<release> in the Dockerfile"
    command = [str(STAND_IN), python[1], uv[1]]
    built = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1200)
    assert built.returncode == 0, built.stdout + built.stderr
    return f"python:{python[1]}-slim-{release[1]}"


def in_image(
    project: Rendered,
    image: str,
    script: str,
    env: dict[str, str] | None = None,
    timeout: float = 1200,
) -> str:
    """Run `script` (sh) in the project, in a container of `image`; fail with its output.

    On the host's network: the services the suite needs (PostgreSQL, Redis) are this
    machine's, at the addresses `env` and the suite's defaults give.
    """
    uv = own_binary("uv", project.path)
    assert uv is not None, "no uv on PATH"
    cache = subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=True)
    folder = str(project.path)
    command = [
        # NET_ADMIN: this machine's kernel refuses a socket filter (serve.py's drain) to a
        # process without it, and the host's suites run as root.
        "docker", "run", "--rm", "--network=host", "--cap-add=NET_ADMIN",
        f"--volume={folder}:{folder}", f"--workdir={folder}",
        f"--volume={uv}:/usr/local/bin/uv:ro",
        f"--volume={cache.stdout.strip()}:/uv-cache", "--env=UV_CACHE_DIR=/uv-cache",
        "--env=UV_PYTHON=/usr/local/bin/python", "--env=UV_NO_PROGRESS=1",
        *(f"--env={name}={value}" for name, value in (env or {}).items()),
        image, "sh", "-ec", script,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    assert result.returncode == 0, f"{script}:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    return result.stdout
