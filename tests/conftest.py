"""Shared fixtures: the pinned template, isolated Copier settings, rendered projects, linters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from plumbum import local

TEMPLATE = Path(__file__).resolve().parent.parent
#: This work tree as Copier's source: without a ref Copier takes the latest release tag.
AT_HEAD = ("--vcs-ref", "HEAD", str(TEMPLATE))

#: The longest project_slug copier.yml accepts (Kubernetes names stop at 63, "-migrate" added).
SLUG_LENGTH = 55
#: Project names as people type them, and the slug and package name each gives by default.
ODD_NAMES: dict[str, tuple[str, str, str]] = {
    "plain": ("Example Service", "example-service", "example_service"),
    "punctuation": ("  Billing & Payments API ", "billing-payments-api", "billing_payments_api"),
    "digit-first": ("2fast 2furious", "service-2fast-2furious", "service_2fast_2furious"),
    "digits-only": ("123", "service-123", "service_123"),
    "symbols-only": ("!!!", "service", "service"),
    "emoji-only": ("\N{ROCKET}\N{ROCKET}", "service", "service"),
    "emoji-and-word": ("\N{ROCKET} Rocket", "rocket", "rocket"),
    "accents": ("Café Ünïcode", "cafe-unicode", "cafe_unicode"),
    "ligatures": ("Straße Œuvre Ærø", "strasse-oeuvre-aero", "strasse_oeuvre_aero"),
    "dotted-and-stroked": ("İstanbul Łódź", "istanbul-lodz", "istanbul_lodz"),
    "vietnamese": ("Phở Hà Nội", "pho-ha-noi", "pho_ha_noi"),
    "combining-accent": ("Cafe\u0301 Bar", "cafe-bar", "cafe_bar"),
    "cyrillic": ("Сервис", "service", "service"),
    "cyrillic-and-digit": ("Сервис 2", "service-2", "service_2"),
    "japanese": ("日本語サービス", "service", "service"),
    "markup": (
        '2fast <2furious> \\ "TM"',
        "service-2fast-2furious-tm",
        "service_2fast_2furious_tm",
    ),
    "yaml-boolean": ("Yes", "yes", "yes"),
    "dunder": ("__init__", "init", "init"),
    "stdlib": ("JSON", "json", "json_service"),
    "keyword": ("Class", "class", "class_service"),
    "dependency": ("Flask", "flask-service", "flask_service"),
    "dependency-distribution": ("Sentry SDK", "sentry-sdk-service", "sentry_sdk_service"),
    "long": ("word " * 30, "-".join(["word"] * 11), "_".join(["word"] * 11)),
}
#: Named answer sets: every supported combination the suite renders and checks.
ANSWER_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
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
    # Every observability option on; OpenTelemetry with all three instrumentations.
    "celery-rabbitmq": {
        "celery": True,
        "celery_broker": "rabbitmq",
        "database": "postgresql",
        "opentelemetry": True,
        "sentry": True,
        "kubernetes": True,
    },
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
        "description": 'Say "hi" from C:\\temp; *not* <b>bold</b> | {{ jinja }} # no comment',
        "author_name": 'O\'Brien "Ops" [team]',
    },
}
#: Answer sets whose generated suite needs a PostgreSQL server (marker `postgres`).
NEEDS_POSTGRES = frozenset({"postgresql", "celery-rabbitmq"})
#: Answer sets whose generated suite runs a real Celery worker on a broker on 127.0.0.1
#: (marker `broker`; their own suites select it with `-m broker`).
NEEDS_BROKER = frozenset({"celery-redis", "celery-rabbitmq"})


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

    def python(self) -> str:
        """Return the interpreter for the project's python_version, or skip visibly."""
        version = self.answers.get("python_version", "3.11")
        found = interpreter(version)
        if found is None:
            pytest.skip(f"no Python {version} on this machine")
        return found


def render(copie: Any, name: str, **overrides: Any) -> Rendered:
    """Render the answer set `name` (with `overrides`) and fail loudly if Copier did."""
    answers = {**ANSWER_SETS[name], **overrides}
    result = copie.copy(extra_answers=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Rendered(name, answers, Path(result.project_dir))


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
