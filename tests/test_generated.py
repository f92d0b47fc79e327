"""Generated projects install with uv and pass their own tests, ruff and mypy --strict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import ExitStack
from typing import Any

import pytest

from tests.answers import QUESTIONS
from tests.support.projects import (
    MATRIX,
    TEMPLATE,
    Rendered,
    check,
    its_tools_and_suite_pass,
    needs_broker,
    needs_postgres,
    render,
)
from tests.support.served import postgres_database

RESERVED_LISTS = ("python_keywords", "stdlib_module_names", "dependency_module_names")

pytestmark = pytest.mark.slow


#: Prints every top-level name importable from the environment's site-packages.
LIST_IMPORTABLE = """
import importlib.metadata, json, pkgutil, re, sysconfig
paths = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
names = {module.name for module in pkgutil.iter_modules(sorted(paths))}
names |= set(importlib.metadata.packages_distributions())
print(json.dumps(sorted(name for name in names if re.fullmatch("[a-z_][a-z0-9_]*", name))))
"""


def assert_every_importable_name_is_reserved(project: Rendered) -> None:
    """Fail, naming them, on the environment's modules package_name may still shadow."""
    importable = set(json.loads(check(project, ".venv/bin/python", "-c", LIST_IMPORTABLE)))
    package = project.package
    reserved = {name for key in RESERVED_LISTS for name in QUESTIONS[key]["default"]}
    missing = sorted(importable - reserved - {package})
    assert not missing, f"add to dependency_module_names in includes/reserved_names.yml: {missing}"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[
                *([pytest.mark.postgres] if needs_postgres(answers) else []),
                *([pytest.mark.broker] if needs_broker(answers) else []),
            ],
        )
        for name, answers in MATRIX.items()
    ],
)
def test_generated_project_passes_its_own_checks(copie: Any, name: str) -> None:
    project = render(copie, name)
    check(project, "uv", "sync", "--quiet")
    with ExitStack() as stack:
        if needs_postgres(project.answers):
            # A database of its own to name the suite's databases after: two generated
            # suites running side by side must not drop each other's `<name>_test_gw0`.
            project.env["DATABASE_URL"] = stack.enter_context(postgres_database(project))
        passes_its_own_checks(project)


def passes_its_own_checks(project: Rendered) -> None:
    """Check the installed `project` with its own tools and suite."""
    assert_every_importable_name_is_reserved(project)
    its_tools_and_suite_pass(project)


def test_generated_suite_survives_a_polluted_environment(copie: Any) -> None:
    """A stray .env and production settings in the shell must not change the tests."""
    project = render(copie, "defaults")
    (project.path / ".env").write_text("APP_ENV=production\nSECRET_KEY=changeme\nLOG_FORMAT=xml\n")
    check(project, "uv", "sync", "--quiet")
    polluted = {
        "APP_ENV": "production",
        "LOG_LEVEL": "LOUD",
        "PORT": "http",
        "DATABASE_URL": "mysql://nowhere/db",
    }
    result = subprocess.run(
        ["uv", "run", "--no-sync", "pytest", "-q", "-p", "randomly", "-n", "2"],
        cwd=project.path,
        env={k: v for k, v in {**os.environ, **polluted}.items() if k != "SECRET_KEY"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_hooks_cli_runs_the_generated_suite(copie: Any) -> None:
    project = render(copie, "defaults")
    result = subprocess.run(
        [sys.executable, "-m", "hooks", "validate", str(project.path), "--run-tests"],
        cwd=TEMPLATE,
        env={**os.environ, "UV_PYTHON": project.python()},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_the_memory_test_catches_a_leak(copie: Any) -> None:
    """The generated leak test fails, and points at the line, when /livez leaks 1 KiB."""
    project = render(copie, "defaults")
    health = project.path / "src" / "example_service" / "health.py"
    text = health.read_text().replace(
        '    return {"status": "ok"}',
        '    _LEAKED.append(bytes(1024))  # a leak on purpose\n    return {"status": "ok"}',
        1,
    )
    health.write_text(text + "\n_LEAKED: list[bytes] = []\n")
    check(project, "uv", "sync", "--quiet")
    result = project.run(
        "uv", "run", "--no-sync", "pytest", "-q", "-n", "0", "tests/test_memory.py"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the heap grew by" in result.stdout
    assert "health.py" in result.stdout.partition("largest allocations")[2]
