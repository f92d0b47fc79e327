"""A platform's answers in one file (examples/platform-presets.yml), as the README uses it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from hooks.answers import question_names
from tests.support.commands import copier_cli, git
from tests.support.projects import AT_HEAD, TEMPLATE
from tests.support.readme import commands, person, run
from tests.support.releases import Release, commit, released_v1
from tests.support.served import server_database

PRESETS_FILE = TEMPLATE / "examples" / "platform-presets.yml"
PRESETS = yaml.safe_load(PRESETS_FILE.read_text())
SECTION = "### A platform's answers in one file"
#: What the presets' issue names a platform decides, for every service.
DECIDED = {
    "ci", "kubernetes", "database", "metrics", "sentry", "opentelemetry", "celery",
    "python_version", "auth", "author_name", "author_email",
}  # fmt: skip
HEALTH_LINE = '    """Answer 200 while the process serves requests; touch nothing external."""'


def presets_with(tmp_path: Path, **changes: object) -> Path:
    """Write the example presets with `changes` to a file of the test's; return its path."""
    path = tmp_path / "presets.yml"
    path.write_text(yaml.safe_dump({**PRESETS, **changes}))
    return path


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """Return the last line Copier wrote to stderr: its message."""
    return result.stderr.strip().splitlines()[-1]


def test_the_presets_answer_what_a_platform_decides(tmp_path: Path) -> None:
    assert set(PRESETS) >= DECIDED
    assert set(PRESETS) <= set(question_names())
    destination = tmp_path / "service"
    result = copier_cli(
        "copy", "--trust", "--defaults", "--skip-tasks", "--data-file", str(PRESETS_FILE),
        *AT_HEAD, str(destination),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert {key: answers[key] for key in PRESETS} == PRESETS


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("author_email", "nope", 'Type an address like "team@example.com"'),
        ("python_version", "3.9", "'3.9' is not in ['3.11'"),
        ("database", "sqlite", 'Use database "postgresql" or "none": pods cannot share'),
        ("project_slug", "Billing Service", "Validation error for question 'project_slug'"),
    ],
)
def test_a_bad_value_in_the_presets_is_refused_as_a_typed_answer_is(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    """The presets' value and the same answer typed with -d stop with one message, unwritten."""
    destination = tmp_path / "service"
    bad = presets_with(tmp_path, **{key: value})
    from_file = copier_cli(
        "copy", "--trust", "--defaults", "--data-file", str(bad), *AT_HEAD, str(destination)
    )
    typed = copier_cli(
        "copy", "--trust", "--defaults", "--data-file", str(PRESETS_FILE), "-d", f"{key}={value}",
        *AT_HEAD, str(destination),
    )  # fmt: skip
    assert from_file.returncode != 0
    assert typed.returncode != 0
    assert message in last_line(from_file)
    assert last_line(from_file) == last_line(typed)
    assert not destination.exists(), "a refused answer left files behind"


def test_a_key_that_is_no_question_is_refused_on_copy_and_update(tmp_path: Path) -> None:
    bad = presets_with(tmp_path, sentry_dns=True, team_size=4)
    destination = tmp_path / "service"
    refused = copier_cli(
        "copy", "--trust", "--defaults", "--data-file", str(bad), *AT_HEAD, str(destination)
    )
    assert refused.returncode != 0
    assert "`sentry_dns` (did you mean `sentry`?), `team_size`" in refused.stderr
    assert not destination.exists(), "a refused key left files behind"

    # A service of the presets, then an update given a presets file with the typo.
    template = released_v1(tmp_path / "template")
    made = copier_cli(
        "copy", "--trust", "--defaults", "--skip-tasks", "--data-file", str(PRESETS_FILE),
        str(template), str(destination),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-3000:]
    git(destination, "init", "-q", "-b", "main")
    commit(destination, "Generated")
    Release(template).edit(
        "template/src/{{package_name}}/health.py",
        lambda text: text.replace(HEALTH_LINE, HEALTH_LINE + "  # v2"),
    )
    Release(template).tag("v2")
    updated = copier_cli(
        "update", "--trust", "--defaults", "--data-file", str(bad), cwd=destination
    )
    assert updated.returncode != 0
    assert "`sentry_dns` (did you mean `sentry`?)" in updated.stderr
    assert git(destination, "status", "--porcelain") == "", "a refused update changed files"


@pytest.mark.slow
@pytest.mark.postgres  # the presets' service has PostgreSQL: fleet update runs its suite
def test_the_readme_creates_and_updates_a_service_with_the_presets(tmp_path: Path) -> None:
    """The section's two commands, as written, from a clone of this repository."""
    with server_database() as database:
        create_and_update(tmp_path, database)


def create_and_update(tmp_path: Path, database: str) -> None:
    """Run the section's commands with a template release and a presets change between.

    The update's branch has both, and every other answer of the presets.
    """
    template = released_v1(tmp_path / "template")
    clone = tmp_path / "copier-flask-service"
    git(tmp_path, "clone", "-q", str(TEMPLATE), str(clone))
    # TEMPLATE: the template's git URL.
    env = person(PRESETS["python_version"], TEMPLATE=f"git+file://{template}")
    # The service's suite makes its databases from this one's name, none shared.
    env["DATABASE_URL"] = database
    create, update = commands(SECTION)
    run(create, clone, env)
    service = tmp_path / "services" / "billing"
    git(service, "init", "-q", "-b", "main")
    commit(service, "Generated from the presets")
    release = Release(template)
    package = "template/src/{{package_name}}"
    release.edit(
        f"{package}/health.py", lambda text: text.replace(HEALTH_LINE, HEALTH_LINE + "  # v2")
    )
    release.tag("v2")

    # The platform changes an answer in its file; the update gives it to the service.
    presets = clone / "examples" / "platform-presets.yml"
    assert "\nsentry: true\n" in presets.read_text()
    presets.write_text(presets.read_text().replace("\nsentry: true\n", "\nsentry: false\n"))
    report = run(update, clone, env)
    assert "template-update/v2" in report, report
    git(service, "checkout", "-q", "template-update/v2")
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v2"
    assert {key: answers[key] for key in PRESETS} == {**PRESETS, "sentry": False}
    package_name = answers["package_name"]
    assert "# v2" in (service / "src" / package_name / "health.py").read_text()
    assert not (service / "src" / package_name / "sentry.py").exists()
