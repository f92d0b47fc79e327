"""Commands run in a stand-in image, for Pythons this machine has no interpreter of.

uv cannot download interpreters here and pyenv stops at 3.13: a project on a newer Python is
locked, checked and tested in the stand-in image of its version (`.ci/stand-in-images`), with
this machine's uv and uv cache, the project mounted where it is.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.support.commands import own_binary
from tests.support.projects import TEMPLATE, Rendered
from tests.support.tools import missing

STAND_IN = TEMPLATE / ".ci" / "stand-in-images"
TEMPLATE_DOCKERFILE = TEMPLATE / "template" / "{% if docker %}Dockerfile{% endif %}.jinja"


def engine() -> None:
    """Require a container engine that answers."""
    if shutil.which("docker") is None:
        missing("no docker client on PATH (Debian: apt-get install docker.io)")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode:
        missing("the docker engine does not answer (start dockerd)")


def stand_in(python: str, uv: str) -> str:
    """Build (or keep) the stand-ins of Python `python` and uv `uv`; return the Python's tag."""
    built = subprocess.run(
        [str(STAND_IN), python, uv], capture_output=True, text=True, check=False, timeout=1200
    )
    assert built.returncode == 0, built.stdout + built.stderr
    tag = re.search(r"^(python:\S+): ", built.stdout, re.M)
    assert tag, f"{STAND_IN.name} named no image:\n{built.stdout}"
    return tag[1]


def base_image(project: Rendered) -> str:
    """Build the stand-ins the project's Dockerfile names; return its Python base image."""
    dockerfile = (project.path / "Dockerfile").read_text()
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.M)
    uv = re.search(r"^FROM ghcr\.io/astral-sh/uv:(\S+) AS uv$", dockerfile, re.M)
    release = re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim-(\w+)", dockerfile, re.M)
    assert python, "no ARG PYTHON_VERSION= in the Dockerfile"
    assert uv, "no FROM ghcr.io/astral-sh/uv:<tag> AS uv in the Dockerfile"
    assert release, "no FROM python:${PYTHON_VERSION}-slim-<release> in the Dockerfile"
    tag = stand_in(python[1], uv[1])
    assert tag == f"python:{python[1]}-slim-{release[1]}", f"the Dockerfile names another: {tag}"
    return tag


def machine(python: str) -> str:
    """Return a person's machine whose python3 is `python`, with git: the stand-in and git.

    For what runs as a person would on a Python this machine has none of (the README's quick
    start on the default python_version): Debian's git on the stand-in base image, built once
    (docker's layer cache keeps it while the base image is the same).
    """
    engine()
    uv = re.search(
        r"^FROM ghcr\.io/astral-sh/uv:(\S+) AS uv$", TEMPLATE_DOCKERFILE.read_text(), re.M
    )
    assert uv, "the template's Dockerfile names no uv image"
    base = stand_in(python, uv[1])
    tag = f"copier-flask-service-test/machine:{python}"
    recipe = (
        f"FROM {base}\n"
        # The mirror's sid may be older than its Release file's Valid-Until allows.
        "RUN apt-get -o Acquire::Check-Valid-Until=false update -qq"
        " && apt-get install -y -qq --no-install-recommends git"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    command = ["docker", "build", "--network=host", "--quiet", "--tag", tag, "-"]
    built = subprocess.run(
        command, input=recipe, capture_output=True, text=True, check=False, timeout=900
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return tag


def run(
    image: str,
    script: str,
    folder: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    uv: bool = True,
    timeout: float = 1200,
) -> subprocess.CompletedProcess[str]:
    """Run `script` (bash) in a container of `image`, with `folder` mounted where it is.

    On the host's network: the services the suite needs (PostgreSQL, Redis) are this
    machine's. With this machine's uv cache; with `uv`, its uv and uvx too, on the image's
    Python. git commits as this machine's user.
    """
    binary = own_binary("uv", folder)
    assert binary is not None, "no uv on PATH"
    cache = subprocess.run([binary, "cache", "dir"], capture_output=True, text=True, check=True)
    # The cache always: a uv that pip installs in the container downloads nothing twice. It
    # is another mount than the project's, so uv copies from it (hard links cannot cross).
    mounts = [
        f"--volume={folder}:{folder}",
        f"--workdir={cwd or folder}",
        f"--volume={cache.stdout.strip()}:/uv-cache",
        "--env=UV_CACHE_DIR=/uv-cache",
        "--env=UV_LINK_MODE=copy",
    ]
    gitconfig = Path.home() / ".gitconfig"
    if gitconfig.is_file():
        mounts.append(f"--volume={gitconfig}:/root/.gitconfig:ro")
    if uv:
        mounts += [
            f"--volume={binary}:/usr/local/bin/uv:ro",
            f"--volume={Path(binary).with_name('uvx')}:/usr/local/bin/uvx:ro",
            "--env=UV_PYTHON=/usr/local/bin/python",
        ]
    command = [
        # NET_ADMIN: this machine's kernel refuses a socket filter (serve.py's drain) to a
        # process without it, and the host's suites run as root.
        "docker", "run", "--rm", "--network=host", "--cap-add=NET_ADMIN", *mounts,
        "--env=UV_NO_PROGRESS=1",
        *(f"--env={name}={value}" for name, value in (env or {}).items()),
        image, "bash", "-ec", script,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)


def in_image(
    project: Rendered,
    image: str,
    script: str,
    env: dict[str, str] | None = None,
    timeout: float = 1200,
) -> str:
    """Run `script` in the project, in a container of `image`; fail with its output."""
    result = run(image, script, project.path, env=env, timeout=timeout)
    assert result.returncode == 0, f"{script}:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    return result.stdout
