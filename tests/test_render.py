"""Rendering: the file set of each answer set, Jinja only where it belongs, tasks and trust."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import Environment

from hooks.checks import ANSWERS_FILE
from hooks.dependencies import split_lists
from tests.answers import NAME_LENGTH, QUESTIONS
from tests.support.commands import copier_cli, tool
from tests.support.projects import AT_HEAD, MATRIX, TEMPLATE, Rendered, matrix_sets, render

#: Copier's Jinja left in a render; GitHub's expressions `${{ }}` are not Jinja (as the
#: validation's own check, hooks/checks.py, says).
JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")
COMMON_FILES = {
    ".copier-answers.yml",
    ".pre-commit-config.yaml",
    ".env.example",
    ".gitignore",
    ".python-version",
    "Makefile",
    "README.md",
    "gunicorn.conf.py",
    "pyproject.toml",
    "tests/__init__.py",
    "tests/test_api.py",
    "tests/test_background.py",
    "tests/conftest.py",
    "tests/plugins/__init__.py",
    "tests/features/__init__.py",
    "tests/test_config.py",
    "tests/test_dependencies.py",
    "tests/test_docs.py",
    "tests/test_doctor.py",
    "tests/test_errors.py",
    "tests/test_factory.py",
    "tests/test_gunicorn_conf.py",
    "tests/test_health.py",
    "tests/test_logs.py",
    "tests/test_memory.py",
    "tests/test_openapi.py",
    "tests/test_request_log.py",
    "tests/test_security.py",
    "tests/test_serve.py",
    "tests/test_wsgi.py",
    "tests/support/__init__.py",
    "tests/support/gunicorn_conf.py",
    "tests/support/logs.py",
    "tests/support/processes.py",
    # hooks/doctor.py itself: the template holds a symlink to it.
    "tools/doctor.py",
    # Written by the copy task (`uv lock`); the suite runs where uv and PyPI are reachable.
    "uv.lock",
}
PACKAGE_FILES = {
    "__init__.py",
    "api.py",
    "background.py",
    "config.py",
    "dependencies.py",
    "errors.py",
    "features/__init__.py",
    "health.py",
    "logs.py",
    "openapi.py",
    "py.typed",
    "request_log.py",
    "security.py",
    "serve.py",
    "wsgi.py",
}
DATABASE_FILES = {
    "src/{package}/extensions.py",
    "src/{package}/items.py",
    "src/{package}/models.py",
    "src/{package}/migrations/env.py",
    "src/{package}/migrations/script.py.mako",
    "src/{package}/migrations/versions/0001_create_items.py",
    "tests/test_extensions.py",
    "tests/test_items.py",
    "tests/support/database.py",
    "src/{package}/features/database.py",
    "tests/plugins/database.py",
    "tests/features/test_database.py",
}
#: What database=postgresql adds: the template's own tests/support/outage.py, by a symlink.
POSTGRES_FILES = {"tests/support/outage.py"}
#: What celery=true adds.
CELERY_FILES = {
    "src/{package}/jobs.py",
    "src/{package}/tasks.py",
    "src/{package}/worker.py",
    "src/{package}/features/celery.py",
    "tests/test_jobs.py",
    "tests/test_tasks.py",
    "tests/test_worker.py",
    "tests/features/test_celery.py",
    "tests/plugins/celery.py",
}
#: What metrics=true (the default) adds.
METRICS_FILES = {
    "src/{package}/metrics.py",
    "src/{package}/features/metrics.py",
    "tests/test_metrics.py",
}
#: Words that would show metrics code in a project generated without it.
# Not OpenTelemetry's meter API (`opentelemetry.metrics`), nor an autoscaler's `metrics:`.
METRICS_TRACES = re.compile(r"prometheus|(?<!opentelemetry\.)metrics(?!:$)", re.I | re.M)
#: What sentry=true adds.
# tests/support/sentry.py is the template's own stand-in, by a symlink.
SENTRY_FILES = {
    "src/{package}/sentry.py",
    "src/{package}/features/sentry.py",
    "tests/test_sentry.py",
    "tests/plugins/sentry.py",
    "tests/support/sentry.py",
    "tests/features/test_sentry.py",
}
OIDC_FILES = {
    "src/{package}/oidc.py",
    "src/{package}/features/oidc.py",
    "tests/plugins/oidc.py",
    "tests/support/oidc.py",
    "tests/support/tokens.py",
    "tests/features/test_oidc.py",
}
#: Words that would show the caller checks in a project generated without them. The views'
#: `scopes=` and `public=` are route metadata every answer has, and the README says
#: `auth=oidc` where it says what `none` means.
OIDC_TRACES = re.compile(r"(?<!auth=)oidc|jwt|jwks|dev-token|bearer realm", re.I)
#: Tests of where two features meet: files of their own, generated with both.
MEETING_FILES = {
    ("opentelemetry", "database"): "tests/test_traced_queries.py",
    ("opentelemetry", "celery"): "tests/test_traced_jobs.py",
    ("sentry", "celery"): "tests/test_reported_jobs.py",
}
#: Words that would show Sentry code in a project generated without it.
SENTRY_TRACES = re.compile(r"sentry", re.I)
#: What opentelemetry=true adds.
OTEL_FILES = {
    "src/{package}/telemetry.py",
    "src/{package}/features/opentelemetry.py",
    "tests/test_telemetry.py",
    "tests/plugins/opentelemetry.py",
    "tests/support/spans.py",
}
#: Words that would show tracing code in a project generated without it.
OTEL_TRACES = re.compile(r"opentelemetry|OTEL_|trace_id|span_id", re.I)
#: What sentry=true or opentelemetry=true adds: the scrubbing of what both send out.
SCRUB_FILES = {"src/{package}/scrub.py", "tests/test_scrub.py"}
#: The CI file of each `ci` answer (`none`: no file).
CI_FILES = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}
#: The update bot's configuration of each `ci` answer (tests/test_pipelines.py reads them).
BOT_FILES = {"github": ".github/dependabot.yml", "gitlab": "renovate.json"}
#: The weekly template update: its script, and GitHub's workflow (GitLab's is a job).
UPDATE_FILES = {
    "github": {"tools/template_update.py", ".github/workflows/template-update.yml"},
    "gitlab": {"tools/template_update.py"},
}
#: Words that would show a CI provider in a project generated with ci=none.
CI_TRACES = re.compile(r"github|gitlab|workflow|\bCI\b")
#: What kubernetes=true adds; the migrations Job with a database, the worker with Celery.
KUBERNETES_FILES = {
    "deploy/deployment.yaml",
    "deploy/examples/secret.yaml",
    "deploy/hpa.yaml",
    "deploy/pdb.yaml",
    "deploy/service.yaml",
}
#: Words that would show Kubernetes files in a project generated without them.
KUBERNETES_TRACES = re.compile(r"kubernetes|kubectl|deploy/", re.I)
#: What docker=true (the default) adds.
DOCKER_FILES = {"Dockerfile", ".dockerignore", "compose.yaml"}
#: The buffering proxy's configuration, which compose.yaml and deploy/ both use.
PROXY_FILE = "proxy/nginx.conf"
#: Words that would show container files in a project generated without them.
DOCKER_TRACES = re.compile(r"docker|hadolint|HEALTHCHECK", re.I)
#: Words that would show Celery code in a project generated without it.
CELERY_TRACES = re.compile(r"celery|kombu|broker|/api/jobs|worker\.py", re.I)
#: Words that would show database code in a project generated without a database
#: (pydantic is in every project: the API document's JSON Schemas come from it).
DATABASE_TRACES = re.compile(r"sqlalchemy|alembic|migrat|psycopg|database|DB_", re.I)


def files_of(root: Path) -> set[str]:
    """Return every file below `root`, as POSIX paths relative to it."""
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("name", list(MATRIX))
def test_rendered_file_set(rendered: Callable[[str], Rendered], name: str) -> None:
    project = rendered(name)
    package = project.package
    expected = COMMON_FILES | {f"src/{package}/{file}" for file in PACKAGE_FILES}
    database = project.answers.get("database", "sqlite") != "none"
    celery = project.answers.get("celery", False)
    if database:
        expected |= {file.format(package=package) for file in DATABASE_FILES}
    if project.answers.get("database", "sqlite") == "postgresql":
        expected |= POSTGRES_FILES
    if celery:
        expected |= {file.format(package=package) for file in CELERY_FILES}
    if project.answers.get("metrics", True):
        expected |= {file.format(package=package) for file in METRICS_FILES}
    if project.answers.get("opentelemetry", False):
        expected |= {file.format(package=package) for file in OTEL_FILES}
    if database or celery:
        expected.add(f"src/{package}/validation.py")
    if project.answers.get("sentry", False):
        expected |= {file.format(package=package) for file in SENTRY_FILES}
    if project.answers.get("sentry", False) or project.answers.get("opentelemetry", False):
        expected |= {file.format(package=package) for file in SCRUB_FILES}
    if project.answers.get("auth", "none") == "oidc":
        expected |= {file.format(package=package) for file in OIDC_FILES}
    present = {
        "database": database,
        "celery": celery,
        "sentry": project.answers.get("sentry", False),
        "opentelemetry": project.answers.get("opentelemetry", False),
    }
    expected |= {file for pair, file in MEETING_FILES.items() if all(map(present.get, pair))}
    if project.answers.get("ci", "github") != "none":
        expected.add(CI_FILES[project.answers.get("ci", "github")])
        expected.add(BOT_FILES[project.answers.get("ci", "github")])
        expected |= UPDATE_FILES[project.answers.get("ci", "github")]
    if project.answers.get("kubernetes", False):
        expected |= KUBERNETES_FILES
        if database:
            expected.add("deploy/migrate-job.yaml")
        if project.answers.get("database") == "postgresql":  # connections have a budget
            expected |= {
                "deploy/database-budget.yaml",
                "tools/connection_budget.py",
                "tests/support/budget.py",
                "tests/test_connection_budget.py",
            }
        if celery and project.answers.get("celery_broker", "redis") == "redis":  # and Redis's
            expected |= {
                "deploy/redis-budget.yaml",
                "tools/connection_budget.py",
                "tests/support/budget.py",
                "tests/test_redis_budget.py",
            }
        if celery:
            expected |= {"deploy/worker.yaml", "deploy/beat.yaml"}
    if project.answers.get("docker", True):
        expected |= DOCKER_FILES
    if project.answers.get("docker", True) or project.answers.get("kubernetes", False):
        expected.add(PROXY_FILE)
    assert files_of(project.path) == expected
    doctor = project.path / "tools" / "doctor.py"
    assert not doctor.is_symlink()
    assert doctor.read_bytes() == (TEMPLATE / "hooks" / "doctor.py").read_bytes()
    # The stand-ins are the template's own, byte for byte: one copy serves both suites.
    for stand_in in ("outage.py", "sentry.py", "oidc.py", "tokens.py"):
        copy = project.path / "tests" / "support" / stand_in
        if copy.exists():
            assert not copy.is_symlink()
            assert copy.read_bytes() == (TEMPLATE / "tests" / "support" / stand_in).read_bytes()


#: Each optional feature, the answer sets without it, and the words that would show it there.
LEFT_OUT = [
    ("celery", matrix_sets(lambda answers: not answers.get("celery")), CELERY_TRACES),
    ("metrics", matrix_sets(lambda answers: answers.get("metrics") is False), METRICS_TRACES),
    ("sentry", matrix_sets(lambda answers: not answers.get("sentry")), SENTRY_TRACES),
    ("opentelemetry", matrix_sets(lambda answers: not answers.get("opentelemetry")), OTEL_TRACES),
    ("ci", matrix_sets(lambda answers: answers.get("ci") == "none"), CI_TRACES),
    ("kubernetes", matrix_sets(lambda answers: not answers.get("kubernetes")), KUBERNETES_TRACES),
    ("docker", matrix_sets(lambda answers: answers.get("docker") is False), DOCKER_TRACES),
    ("auth", matrix_sets(lambda answers: answers.get("auth", "none") == "none"), OIDC_TRACES),
    # Celery's validation.py uses pydantic, a database word: only sets without both.
    (
        "database",
        matrix_sets(
            lambda answers: answers.get("database") == "none" and not answers.get("celery")
        ),
        DATABASE_TRACES,
    ),
]


@pytest.mark.parametrize(
    ("name", "traces"),
    [
        pytest.param(name, traces, id=f"no-{feature}/{name}")
        for feature, names, traces in LEFT_OUT
        for name in names
    ],
)
def test_a_feature_left_out_leaves_no_trace(
    rendered: Callable[[str], Rendered], name: str, traces: re.Pattern[str]
) -> None:
    assert_no_trace(rendered(name), traces)


def assert_no_trace(project: Rendered, traces: re.Pattern[str]) -> None:
    """Fail on the first generated file that mentions `traces` (the answers file aside)."""
    # doctor is the same file in every project and names every library it knows.
    for relative in files_of(project.path) - {ANSWERS_FILE, "tools/doctor.py"}:
        # The README names the template's own folder, whose path may hold any word.
        text = (project.path / relative).read_text().replace(str(TEMPLATE), "")
        found = traces.search(text)
        assert found is None, f"{relative} mentions {found.group() if found else ''}"


@pytest.mark.parametrize(
    ("name", "present", "absent"),
    [
        pytest.param("defaults", ["flask-sqlalchemy", "flask-migrate"], ["psycopg"], id="sqlite"),
        pytest.param("postgresql", ["flask-sqlalchemy", "psycopg[binary]"], [], id="postgresql"),
        pytest.param("nodb-sync-py312", [], ["sqlalchemy", "migrate"], id="none"),
    ],
)
def test_database_dependencies(
    copie: Any, name: str, present: list[str], absent: list[str]
) -> None:
    pyproject = (render(copie, name, celery=False).path / "pyproject.toml").read_text()
    for dependency in present:
        assert f'"{dependency}>=' in pyproject
    for dependency in absent:
        assert dependency not in pyproject


@pytest.mark.parametrize("name", list(MATRIX))
def test_dependency_lists_are_sorted_as_uv_sorts(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """`uv add` then inserts in place, and an update's list merge keeps the template's order."""
    _, lists = split_lists((rendered(name).path / "pyproject.toml").read_text())
    assert set(lists) >= {"project.dependencies", "dependency-groups.dev"}
    for key, found in lists.items():
        requirements = [entry.requirement for entry in found.entries]
        assert found.is_sorted(), f"{key} is not sorted as uv sorts: {requirements}"


@pytest.mark.parametrize("name", list(MATRIX))
def test_no_unrendered_jinja_and_ruff_passes(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    # The answers file records answers verbatim, and an answer may contain "{{".
    for relative in files_of(project.path) - {ANSWERS_FILE}:
        text = (project.path / relative).read_text()
        assert not JINJA.search(text), f"unrendered Jinja in {relative}"
    # No cache: other tests read the same rendered files and would find .ruff_cache.
    for command in (
        [tool("ruff"), "check", "--no-cache", "."],
        [tool("ruff"), "format", "--no-cache", "--check", "."],
    ):
        result = subprocess.run(
            command, cwd=project.path, capture_output=True, text=True, check=False, timeout=120
        )
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", list(MATRIX))
def test_the_slug_is_no_locked_distribution(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """A project named like a distribution in its own lock could not be locked: keep them apart."""
    project = rendered(name)
    locked = tomllib.loads((project.path / "uv.lock").read_text())["package"]
    slug = project.slug
    reserved = set(QUESTIONS["dependency_distribution_names"]["default"])
    missing = sorted({package["name"] for package in locked} - reserved - {slug})
    assert not missing, f"add to dependency_distribution_names (reserved_names.yml): {missing}"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="postgresql"),
        pytest.param({"database": "sqlite", "kubernetes": False}, id="sqlite"),
    ],
)
def test_the_longest_names_fit_every_line(copie: Any, overrides: dict[str, Any]) -> None:
    """A slug and a package of the most characters copier.yml takes still pass ruff."""
    longest = {"project_slug": "s" * NAME_LENGTH, "package_name": "p" * NAME_LENGTH}
    project = render(copie, "everything-on", **longest, **overrides)
    for command in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = subprocess.run(
            [tool("ruff"), *command],
            cwd=project.path,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, f"ruff {command[0]}: {result.stdout}{result.stderr}"


def test_answers_reach_the_files(copie: Any) -> None:
    project = render(copie, "gevent-py313")
    pyproject = (project.path / "pyproject.toml").read_text()
    assert 'name = "billing-api"' in pyproject
    assert 'requires-python = ">=3.13"' in pyproject
    assert '"gevent>=' in pyproject
    assert (project.path / ".python-version").read_text().strip() == "3.13"
    conf = (project.path / "gunicorn.conf.py").read_text()
    assert 'worker_class = "gevent"' in conf
    assert "worker_connections" in conf
    answers = (project.path / ".copier-answers.yml").read_text()
    assert "worker_class: gevent" in answers
    assert "validate_output" not in answers  # hidden: never recorded


def test_bandit_rules_are_on_in_every_project(copie: Any) -> None:
    """`ruff check` in every generated project includes the security rules (S, bandit's)."""
    pyproject = tomllib.loads((render(copie, "defaults").path / "pyproject.toml").read_text())
    lint = pyproject["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    ignored = {code for codes in lint["per-file-ignores"].values() for code in codes}
    assert not any(code.startswith("S") for code in lint.get("ignore", []))
    assert ignored <= {"S101", "S108", "S310", "S603"}  # tests only, each commented


def test_gevent_only_where_chosen(copie: Any) -> None:
    project = render(copie, "defaults")
    assert "gevent" not in (project.path / "pyproject.toml").read_text()
    assert 'worker_class = "gthread"' in (project.path / "gunicorn.conf.py").read_text()


def template_files() -> list[Path]:
    return [path for path in (TEMPLATE / "template").rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    "path", template_files(), ids=lambda path: path.relative_to(TEMPLATE / "template").as_posix()
)
def test_only_files_with_jinja_end_in_jinja(path: Path) -> None:
    has_jinja = bool(JINJA.search(path.read_text()))
    if path.suffix == ".jinja":
        assert has_jinja, f"{path.name} has no Jinja: drop the .jinja suffix"
    else:
        assert not has_jinja, f"{path.name} has Jinja: add the .jinja suffix"


def test_caches_in_the_template_are_not_copied(tmp_path: Path) -> None:
    source = template_copy(tmp_path)
    package = source / "template" / "src" / "{{package_name}}"
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "config.cpython-311.pyc").write_bytes(b"\0")
    (package / "stale.pyc").write_bytes(b"\0")
    (source / "template" / ".DS_Store").write_bytes(b"\0")
    destination = tmp_path / "out"
    result = copier_cli("copy", "--trust", "--defaults", str(source), str(destination))
    assert result.returncode == 0, result.stderr
    names = {path.name for path in destination.rglob("*")}
    assert not names & {"__pycache__", "stale.pyc", ".DS_Store"}


def test_copy_without_trust_is_refused(tmp_path: Path) -> None:
    destination = tmp_path / "out"
    result = copier_cli("copy", "--defaults", *AT_HEAD, str(destination))
    assert result.returncode != 0
    assert "--trust" in result.stderr
    assert not destination.exists() or not any(destination.iterdir())


def test_copy_with_skip_tasks_works(tmp_path: Path) -> None:
    destination = tmp_path / "out"
    result = copier_cli(
        "copy", "--defaults", "--trust", "--skip-tasks", *AT_HEAD, str(destination)
    )
    assert result.returncode == 0, result.stderr
    assert (destination / "src" / "example_service" / "__init__.py").is_file()
    assert "Running task" not in result.stderr


def test_validation_runs_on_copy_and_reports(tmp_path: Path) -> None:
    destination = tmp_path / "out"
    result = copier_cli("copy", "--defaults", "--trust", *AT_HEAD, str(destination))
    assert result.returncode == 0, result.stderr
    assert "no problems" in result.stderr


def template_copy(tmp_path: Path) -> Path:
    """Copy this template (its work tree, without git) to change it for one test."""
    source = tmp_path / "template-copy"
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns(".git", ".venv"))
    return source


@pytest.fixture
def broken_template(tmp_path: Path) -> Path:
    """Return a copy of the template whose health.py renders with a syntax error."""
    source = template_copy(tmp_path)
    broken = source / "template" / "src" / "{{package_name}}" / "health.py"
    broken.write_text(broken.read_text() + "\ndef oops(:\n")
    return source


def test_a_broken_render_aborts_with_file_and_line(broken_template: Path, tmp_path: Path) -> None:
    destination = tmp_path / "out"
    result = copier_cli("copy", "--trust", "--defaults", str(broken_template), str(destination))
    assert result.returncode != 0
    assert "src/example_service/health.py:" in result.stderr
    # Copier removes the destination it created: no half-written project.
    assert not destination.exists()


def test_validation_can_be_switched_off(broken_template: Path, tmp_path: Path) -> None:
    destination = tmp_path / "out"
    result = copier_cli(
        "copy",
        "--trust",
        "--defaults",
        "-d",
        "validate_output=false",
        str(broken_template),
        str(destination),
    )
    assert result.returncode == 0, result.stderr
    assert (destination / "src" / "example_service" / "health.py").is_file()


def test_free_text_arrives_verbatim_in_every_format(copie: Any) -> None:
    """Quotes, backslashes and markup in answers reach TOML, YAML and Markdown unchanged."""
    project = render(copie, "odd-answers")
    answers = project.answers
    metadata = tomllib.loads((project.path / "pyproject.toml").read_text())["project"]
    assert metadata["description"] == answers["description"]
    assert metadata["authors"] == [
        {"name": answers["author_name"], "email": "platform@example.com"}
    ]
    recorded = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
    assert {key: recorded[key] for key in answers} == answers
    # What a Markdown reader shows: every backslash escape resolved (CommonMark).
    shown = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", (project.path / "README.md").read_text())
    assert shown.startswith(f"# {answers['project_name']}\n\n{answers['description']}\n")
    assert f"Owned by {answers['author_name']} <platform@example.com>." in shown


#: What the copy task writes after rendering (`uv lock`): listed, not rendered.
WRITTEN_BY_THE_TASK = {"uv.lock"}


def layout_of(readme: str) -> tuple[set[str], set[str]]:
    """Return the top-level entries and the package's files the README's Layout block lists."""
    block = re.search(r"^## Layout\n\n```\n(.*?)```", readme, flags=re.S | re.M)
    assert block, "no Layout block in the generated README"
    top, package = set(), set()
    for line in block[1].splitlines():
        path = line.split()[0]
        if line.startswith("    "):
            package.add(path.rstrip("/"))
        elif not path.startswith("src/"):
            top.add(path.split("/")[0])
    return top, package


@pytest.mark.parametrize("name", ["defaults", "everything-on", "everything-off"])
def test_the_readme_layout_lists_every_generated_file(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    top, package = layout_of((project.path / "README.md").read_text())
    files = files_of(project.path)
    assert top == {file.split("/")[0] for file in files} - {"src"} | WRITTEN_BY_THE_TASK
    in_package = {file.split("/")[2] for file in files if file.startswith("src/")}
    assert package == in_package


@dataclass(frozen=True)
class Listed:
    """A line of the top README's "What is generated": a path and the answers it needs."""

    path: str
    in_package: bool
    when: str | None

    def holds(self, answers: dict[str, Any]) -> bool:
        """Tell whether `answers` generate this entry (Copier's condition, read as Jinja)."""
        if self.when is None:
            return True
        return bool(Environment(autoescape=True).compile_expression(self.when)(**answers))


def listed_in_the_readme() -> list[Listed]:
    """Return the entries of the top README's "What is generated" block."""
    readme = (TEMPLATE / "README.md").read_text()
    block = re.search(r"^## What is generated\n\n```\n(.*?)```", readme, flags=re.S | re.M)
    assert block, "no block under '## What is generated' in README.md"
    entries = []
    for line in block[1].splitlines():
        in_package = line.startswith("    ") and not line.startswith("     ")
        if line.startswith(" ") and not in_package:
            continue  # a description's second line
        when = re.search(r"\[([^\]]+)\]$", line)
        entries.append(Listed(line.split()[0], in_package, when[1] if when else None))
    return entries


@pytest.mark.parametrize("name", list(MATRIX))
def test_the_readme_lists_what_each_answer_set_generates(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    """Each entry the answers call for is generated, no other is, and nothing goes unlisted."""
    project = rendered(name)
    answers = yaml.safe_load((project.path / ANSWERS_FILE).read_text())
    entries = listed_in_the_readme()
    top = [
        entry for entry in entries if not entry.in_package and entry.path != "src/<package_name>/"
    ]
    for entry in top:
        if entry.path not in WRITTEN_BY_THE_TASK:
            generated = (project.path / entry.path.rstrip("/")).exists()
            assert generated == entry.holds(answers), entry
    listed = {entry.path.split("/")[0] for entry in top if entry.holds(answers)}
    assert {path.name for path in project.path.iterdir()} - {"src"} <= listed
    package = {
        entry.path.rstrip("/") for entry in entries if entry.in_package and entry.holds(answers)
    }
    found = {path.name for path in (project.path / "src" / project.package).iterdir()}
    assert found - {"__pycache__"} == package
