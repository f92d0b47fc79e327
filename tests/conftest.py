"""Shared fixtures: the pinned template, isolated Copier settings, rendered projects, linters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from plumbum import local

from tests.answers import ODD_TEXT, matrix
from tests.support.tools import missing

TEMPLATE = Path(__file__).resolve().parent.parent
#: This work tree as Copier's source: without a ref Copier takes the latest release tag.
AT_HEAD = ("--vcs-ref", "HEAD", str(TEMPLATE))

#: Every answer set the per-project and render checks run over: the defaults, everything on,
#: everything off, then the covering array of every pair of answers (tests/answers.py).
MATRIX: dict[str, dict[str, Any]] = matrix()
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


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Pin pytest-copie to this repository's template, wherever pytest was started."""
    config.option.template = str(TEMPLATE)


@pytest.fixture(scope="session", autouse=True)
def _isolated_copier_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hide the user's own Copier settings and git identity; show uv every Python here."""
    settings = tmp_path_factory.mktemp("copier-settings") / "settings.yml"
    settings.write_text("{}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COPIER_SETTINGS_PATH", str(settings))
        for variable in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
            patch.setenv(variable, "Template Tests")
        for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
            patch.setenv(variable, "tests@example.com")
        # The copy task's `uv lock` needs a Python of the project's version on PATH (uv would
        # download one, which this machine cannot): pyenv's shims answer for one version only.
        found = tmp_path_factory.mktemp("pythons")
        for version in ("3.11", "3.12", "3.13"):
            binary = interpreter(version)
            if binary is not None:
                (found / f"python{version}").symlink_to(binary)
        # pyenv's shim for uv follows a project's .python-version (3.12) to a Python that has
        # no uv, and fails: the copy task's `uv lock` and every `uv run` need uv itself.
        for command in ("uv", "uvx"):
            binary = own_binary(command, found)
            if binary is not None:
                (found / command).symlink_to(binary)
        path = f"{found}{os.pathsep}{os.environ['PATH']}"
        patch.setenv("PATH", path)
        # Copier runs tasks with plumbum's environment, a copy of os.environ taken at import.
        patch.setitem(local.env, "PATH", path)  # type: ignore[arg-type]  # a mutable mapping
        yield


def own_binary(command: str, cwd: Path) -> str | None:
    """Return where `command` really is, behind pyenv's shim if one answers for it."""
    found = shutil.which(command)
    if found is None or "shims" not in Path(found).parts:
        return found
    # From a folder with no .python-version, pyenv names its global version's binary.
    result = subprocess.run(
        ["pyenv", "which", command], cwd=cwd, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else found


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

    def run(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run `command` in the project, with uv pointed at the project's Python version."""
        env = {**os.environ, "UV_PYTHON": self.python(), "UV_NO_PROGRESS": "1", **self.env}
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run(
            command,
            cwd=self.path,
            env=env,
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
        version = self.answers.get("python_version", "3.11")
        found = interpreter(version)
        if found is None:
            missing(f"no Python {version} on this machine (pyenv install {version})")
        return found


def render(copie: Any, name: str, **overrides: Any) -> Rendered:
    """Render the answer set `name` (with `overrides`) and fail loudly if Copier did."""
    answers = {**ANSWER_SETS[name], **overrides}
    result = copie.copy(extra_answers=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Rendered(name, answers, Path(result.project_dir))


@pytest.fixture(scope="session")
def rendered(copie_session: Any) -> Callable[[str], Rendered]:
    """Render each answer set once per test process, for tests that only read the files."""
    cache: dict[str, Rendered] = {}

    def get(name: str) -> Rendered:
        if name not in cache:
            cache[name] = render(copie_session, name)
        return cache[name]

    return get


def copier_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run Copier's command line as a person would."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def tool(name: str) -> str:
    """Return the path of a command installed in this environment (check-jsonschema, ...)."""
    path = Path(sys.executable).with_name(name)
    # The linters are dev dependencies: a machine without one must fail, never skip.
    assert path.is_file(), f"{name} is missing: `uv sync` installs it"
    return str(path)


def lint(*command: str, cwd: Path) -> None:
    """Run a linter installed here on files of a project; fail with what it said."""
    result = subprocess.run(
        [tool(command[0]), *command[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"
