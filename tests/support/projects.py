"""The template at HEAD, its named answer sets, and the projects rendered from them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.answers import HOST_PYTHON, ODD_TEXT, QUESTIONS, matrix
from tests.support.tools import missing

TEMPLATE = Path(__file__).resolve().parents[2]
#: This work tree as Copier's source: without a ref Copier takes the latest release tag.
AT_HEAD = ("--vcs-ref", "HEAD", str(TEMPLATE))

#: Every answer set the per-project and render checks run over: the defaults, everything on,
#: everything off, then the covering array of every pair of answers (tests/answers.py).
MATRIX: dict[str, dict[str, Any]] = matrix()
#: The Python a project gets when its answers name none.
DEFAULT_PYTHON: str = QUESTIONS["python_version"]["default"]
#: Answer sets that scenario tests render by name (a served database, a Python, free text).
SCENARIOS: dict[str, dict[str, Any]] = {
    "postgresql": {
        "database": "postgresql",
        "opentelemetry": True,
        "ci": "gitlab",
        "kubernetes": True,
    },
    "nodb-sync-py312": {
        "database": "none",
        "worker_class": "sync",
        "python_version": "3.12",
        "celery": True,
        "sentry": True,
        "kubernetes": True,
    },
    "celery-redis": {"celery": True, "sentry": True},
    # A resource server: callers need a token of the identity provider OIDC_ISSUER names.
    "oidc": {"auth": "oidc"},
    "gevent-py313": {
        "worker_class": "gevent",
        "python_version": "3.13",
        "project_name": "Billing API",
        "package_name": "billing",
    },
    # Free text as people type it: quotes, backslashes, markup; it must arrive verbatim.
    "odd-answers": {
        "metrics": False,
        "ci": "none",
        "docker": False,
        "project_name": '2fast <2furious> \\ "TM"',
        **ODD_TEXT,
    },
}
#: Every answer set `render` knows by name.
ANSWER_SETS: dict[str, dict[str, Any]] = {**MATRIX, **SCENARIOS}


def needs_postgres(answers: dict[str, Any]) -> bool:
    """Return whether the generated suite of `answers` needs a PostgreSQL server."""
    return bool(answers.get("database") == "postgresql")


def needs_broker(answers: dict[str, Any]) -> bool:
    """Return whether the generated suite of `answers` runs real Celery workers on a broker."""
    return bool(answers.get("celery"))


def matrix_sets(where: Callable[[dict[str, Any]], bool] = lambda answers: True) -> list[str]:
    """Return the names of the matrix's answer sets whose answers satisfy `where`."""
    return [name for name, answers in MATRIX.items() if where(answers)]


def interpreter(version: str) -> str | None:
    """Return a Python `version` interpreter on this machine, or None."""
    found = shutil.which(f"python{version}")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv_root.glob(f"versions/{version}.*/bin/python"), reverse=True)
    if candidates:
        # pyenv's shims answer only for the selected version: use the binary itself.
        return str(candidates[0])
    return found


@dataclass
class Rendered:
    """A project rendered from one named answer set."""

    name: str
    answers: dict[str, Any]
    path: Path
    #: Extra environment variables for the commands run in the project.
    env: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """Return a person's shell here: no virtualenv, uv on the project's Python, `env`."""
        env = {**os.environ, "UV_PYTHON": self.python(), "UV_NO_PROGRESS": "1", **self.env}
        env.pop("VIRTUAL_ENV", None)
        return env

    def run(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run `command` in the project, with uv pointed at the project's Python version."""
        return subprocess.run(
            command,
            cwd=self.path,
            env=self.environment(),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    @property
    def package(self) -> str:
        """Return the name of the project's package, as copier.yml derived it."""
        (package,) = (path.name for path in (self.path / "src").iterdir())
        return package

    @property
    def slug(self) -> str:
        """Return the project's slug, its distribution name."""
        return str(tomllib.loads((self.path / "pyproject.toml").read_text())["project"]["name"])

    def python(self) -> str:
        """Return the interpreter for the project's python_version, or skip (fail in CI)."""
        version = self.answers.get("python_version", HOST_PYTHON)
        found = interpreter(version)
        if found is None:
            missing(f"no Python {version} on this machine (pyenv install {version})")
        return found


def render(copie: Any, name: str, **overrides: Any) -> Rendered:
    """Render the answer set `name` (with `overrides`) and fail loudly if Copier did."""
    answers = {"python_version": HOST_PYTHON, **ANSWER_SETS[name], **overrides}
    result = copie.copy(extra_answers=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Rendered(name, answers, Path(result.project_dir))


def check(project: Rendered, *command: str) -> str:
    """Run `command` in `project` and fail with its output unless it succeeds."""
    result = project.run(*command)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def its_tools_and_suite_pass(project: Rendered) -> None:
    """Run the installed `project`'s ruff, mypy and suite; fail with what they said."""
    check(project, "uv", "run", "--no-sync", "ruff", "check")
    check(project, "uv", "run", "--no-sync", "ruff", "format", "--check")
    check(project, "uv", "run", "--no-sync", "mypy")
    # With a broker here, the generated suite's opt-in worker tests run too.
    select = ["-m", "broker or not broker"] if needs_broker(project.answers) else []
    output = check(project, "uv", "run", "--no-sync", "pytest", "-q", "-n", "2", *select)
    assert " passed" in output
    assert "skipped" not in output
