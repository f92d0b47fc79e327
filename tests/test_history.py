"""`copier update` on the template's real history: every release, and a copy without tags.

The releases are rebuilt from this repository: each `## vX.Y.Z` heading of CHANGELOG.md and
the commit that added it, tagged in a private clone (a clone of the published repository has
no tags). A service is generated from each, and from an untagged commit of main in a clone
without tags; it gets the edits an owner typically makes, is committed, and is updated to
this work tree (answers the start did not ask are passed with -d). Nothing the owner wrote
may be lost and no conflict may be left but those listed in `EXPECTED_CONFLICTS` (both sides
changed the same lines). Once the owner resolved those (`RESOLUTIONS`) and did what the
CHANGELOG's Actions ask (`follow_the_actions`), the service's own suite, ruff and mypy pass.
"""

from __future__ import annotations

import re
import secrets
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.commands import copier_cli, git
from tests.support.projects import (
    MATRIX,
    TEMPLATE,
    Rendered,
    its_tools_and_suite_pass,
    needs_broker,
    needs_postgres,
)
from tests.support.served import postgres_database

pytestmark = pytest.mark.slow

#: main as a clone without tags gave it before issue 24: its copy task locked Copier's
#: temporary copies too, so an update from it crosses that transition.
UNTAGGED = "0f4235d"
#: The answer sets each start is updated with.
ANSWERS: dict[str, dict[str, Any]] = {
    "defaults": MATRIX["defaults"],
    "postgresql-celery": {"database": "postgresql", "celery": True},
    "everything-on": MATRIX["everything-on"],
}
#: The README row of the owner's setting, which they put after LOG_LEVEL's.
OWNER_ROW = "| `REPORT_TIMEOUT` | `30` | seconds a report may take (the owner's) |\n"
#: The template's LOG_LEVEL row since v0.2.0 (issue 25 said what it covers).
LOG_LEVEL_ROW_END = "may carry request or job data |\n"
#: Why the owner's row conflicts where the template rewrote the row above it.
README_CONFLICT = (
    "issue 25 rewrote the LOG_LEVEL row of the settings table, the line right above the row "
    "the owner added: adjacent changes are one conflict"
)
#: Conflicts an update may leave, by start and file: both sides changed the same lines.
EXPECTED_CONFLICTS: dict[str, dict[str, str]] = {
    "untagged": {"README.md": README_CONFLICT},
    "v0.1.0": {
        "README.md": README_CONFLICT,
        "gunicorn.conf.py": "issue 21 moved the server settings into serve.py: the owner's "
        "keepalive line is one of the lines the template replaced",
        "tests/test_gunicorn_conf.py": "the owner's keepalive assertion is the line before "
        "the one the template changed (max_requests recycles by memory since issue 16)",
    },
}
#: How the owner resolves each: the template's lines, with their own change made again.
RESOLUTIONS: dict[str, tuple[str, str]] = {
    "gunicorn.conf.py": (
        'keepalive = _server["keepalive"]\n',
        'keepalive = _server["keepalive"] * 2\n',
    ),
    "tests/test_gunicorn_conf.py": ("(30, 30, 5)", "(30, 30, 10)"),
    "README.md": (LOG_LEVEL_ROW_END, LOG_LEVEL_ROW_END + OWNER_ROW),
}
PACKAGE = "example_service"


def releases() -> dict[str, str]:
    """Return each release CHANGELOG.md names, with the commit that added its heading."""
    found = {}
    changelog = (TEMPLATE / "CHANGELOG.md").read_text()
    for version in re.findall(r"^## (v\d+\.\d+\.\d+)\b", changelog, flags=re.MULTILINE):
        commits = git(
            TEMPLATE,
            "log",
            "--format=%H",
            "--reverse",
            "-S",
            f"## {version}",
            "--",
            "CHANGELOG.md",
        ).split()
        assert commits, f"no commit adds '## {version}': fetch the whole history"
        found[version] = commits[0]
    return found


RELEASES = releases()
STARTS = [*RELEASES, "untagged"]


def work_tree_commit(repo: Path) -> None:
    """Make the clone's HEAD this work tree, uncommitted edits and new files included."""
    listed = git(TEMPLATE, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    git(repo, "rm", "-rq", "--cached", ".")
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE / relative
        if source.is_symlink() or source.is_file():
            target = repo / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "The work tree under test")


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Return two clones at this work tree: one with the releases tagged, one without tags."""
    root = tmp_path_factory.mktemp("history")
    untagged = root / "untagged"
    git(root, "clone", "-q", "--no-tags", str(TEMPLATE), str(untagged))
    work_tree_commit(untagged)
    tagged = root / "tagged"
    git(root, "clone", "-q", "--no-tags", str(untagged), str(tagged))
    for version, commit in RELEASES.items():
        git(tagged, "tag", version, commit)
    return {"tagged": tagged, "untagged": untagged}


def old_questions(repo: Path, ref: str) -> set[str]:
    """Return the questions copier.yml asked at `ref`."""
    text = git(repo, "show", f"{ref}:copier.yml")
    return set(re.findall(r"^([a-z][a-z_]*):", text, flags=re.MULTILINE))


def data(answers: dict[str, Any]) -> list[str]:
    """Return `answers` as Copier's -d options."""
    options = []
    for key, value in answers.items():
        options += ["-d", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return options


def check(service: Rendered, *command: str) -> str:
    """Run `command` in the service and fail with its output unless it succeeds."""
    result = service.run(*command)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass
class Edit:
    """One owner edit: the file, the text it puts there, and where (after `anchor`)."""

    path: str
    text: str
    #: None: at the end of the file.
    anchor: str | None = None
    #: Put `text` in the anchor's place rather than after it.
    replace: bool = False

    def apply(self, root: Path) -> None:
        """Write the edit into the file under `root`."""
        target = root / self.path
        before = target.read_text()
        if self.anchor is None:
            target.write_text(before + self.text)
            return
        assert self.anchor in before, f"{self.path} has no {self.anchor!r}"
        after = self.text if self.replace else self.anchor + self.text
        target.write_text(before.replace(self.anchor, after, 1))


DESCRIBED = "@operation({200: None}, errors=[503])\n"
VIEW = '''

@bp.get("/count")
{described}def count_items() -> dict[str, int]:
    """Answer how many items there are: the owner's own view."""
    return {"count": len(db.session.scalars(select(Item.id)).all())}
'''
MODEL = '''

class Tag(Base):
    """A label for items: the owner's own table."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    label: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
'''
README = "\n## Runbook (the owner's)\n\nPage the on-call engineer before a migration.\n"


def row_of(readme: Path, setting: str) -> str:
    """Return the row of `setting` in the README's settings table, as the release wrote it."""
    (row,) = re.findall(rf"^\| `{setting}` \|.*\n", readme.read_text(), flags=re.MULTILINE)
    return str(row)


def owner_edits(service: Path) -> list[Edit]:
    """Return the edits an owner typically makes, each as the service's release allows."""
    package = f"src/{PACKAGE}"
    # Since issue 15 every view describes itself for the OpenAPI document (and a test says so).
    described = DESCRIBED if (service / package / "openapi.py").exists() else ""
    keepalive_line = keepalive_of(service)
    return [
        Edit(f"{package}/items.py", VIEW.replace("{described}", described)),
        Edit(f"{package}/models.py", MODEL),
        Edit("README.md", README),
        Edit("README.md", OWNER_ROW, row_of(service / "README.md", "LOG_LEVEL")),
        Edit(
            f"{package}/config.py",
            '\n        "REPORT_TIMEOUT": _positive_int,',
            '"SECRET_KEY": _secret_key,',
        ),
        Edit(
            f"{package}/config.py",
            "\n    #: Seconds a report may take (the owner's setting).\n    REPORT_TIMEOUT = 30",
            "SECRET_KEY: str | None = None",
        ),
        Edit(
            ".env.example",
            "# Seconds a report may take (default 30)\nREPORT_TIMEOUT=\n",
            "LOG_LEVEL=\n",
        ),
        # 10 s: a load balancer in front keeps idle connections longer than gunicorn's 5.
        Edit("gunicorn.conf.py", longer_keepalive(keepalive_line), keepalive_line, replace=True),
        Edit("tests/test_gunicorn_conf.py", "(30, 30, 10)", "(30, 30, 5)", replace=True),
    ]


def longer_keepalive(line: str) -> str:
    """Return gunicorn.conf.py's keepalive line with 10 s for the default 5."""
    if line.endswith("5)"):  # v0.1.0: keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
        return line.replace("5)", "10)")
    return line + " * 2"  # since issue 21: keepalive = _server["keepalive"]


def keepalive_of(service: Path) -> str:
    """Return the line that sets keepalive in the service's gunicorn.conf.py."""
    (line,) = (
        line
        for line in (service / "gunicorn.conf.py").read_text().splitlines()
        if line.startswith("keepalive = ")
    )
    return line


@pytest.mark.parametrize(
    ("start", "name"),
    [
        pytest.param(
            start,
            name,
            id=f"{start}-{name}",
            marks=[
                *([pytest.mark.postgres] if needs_postgres(answers) else []),
                *([pytest.mark.broker] if needs_broker(answers) else []),
            ],
        )
        for start in STARTS
        for name, answers in ANSWERS.items()
    ],
)
def test_an_owner_updates_from_the_real_history(
    templates: dict[str, Path], tmp_path: Path, start: str, name: str
) -> None:
    answers = ANSWERS[name]
    template = templates["untagged" if start == "untagged" else "tagged"]
    ref = UNTAGGED if start == "untagged" else start
    asked = old_questions(template, ref)
    service = Rendered(name, answers, tmp_path / "service")
    result = copier_cli(
        "copy", "--trust", "--defaults", "--vcs-ref", ref,
        *data({key: value for key, value in answers.items() if key in asked}),
        str(template), str(service.path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    git(service.path, "init", "-q", "-b", "main")
    commit_all(service.path, f"Generated from {start}")
    with ExitStack() as stack:
        if needs_postgres(answers):
            check(service, "uv", "sync", "--quiet")  # psycopg, to create the database
            service.env["DATABASE_URL"] = stack.enter_context(postgres_database(service))
        else:
            service.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'owner.sqlite3'}"
        edits, migration = edit_as_an_owner(service)
        owned_migration = migration.read_bytes()
        commit_all(service.path, "The owner's edits")

        new = {key: value for key, value in answers.items() if key not in asked}
        result = copier_cli(
            "update", "--trust", "--defaults", "--vcs-ref", "HEAD", *data(new), cwd=service.path
        )

        expected = EXPECTED_CONFLICTS.get(start, {})
        assert conflicted_files(result.stderr) == sorted(expected), result.stderr
        assert result.returncode == (1 if expected else 0), result.stderr
        # Nothing the owner wrote is lost (a conflict holds both sides).
        assert migration.read_bytes() == owned_migration
        for edit in edits:
            text = (service.path / edit.path).read_text()
            assert edit.text in text, f"{edit.path} lost {edit.text!r}"
        assert '"tenacity>=8"' in (service.path / "pyproject.toml").read_text()
        assert 'name = "tenacity"' in (service.path / "uv.lock").read_text()

        for relative in expected:
            resolve(service.path, relative)
        follow_the_actions(service.path)
        check(service, "uv", "sync", "--quiet", "--locked")
        its_tools_and_suite_pass(service)


def commit_all(path: Path, message: str) -> None:
    """Commit everything in the service, as its owner does before an update."""
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)


def edit_as_an_owner(service: Rendered) -> tuple[list[Edit], Path]:
    """Make the typical edits, add a dependency and a migration; return them."""
    service.env.update({"APP_ENV": "development", "SECRET_KEY": secrets.token_urlsafe(48)})
    edits = owner_edits(service.path)
    for edit in edits:
        edit.apply(service.path)
    check(service, "uv", "add", "--quiet", "tenacity>=8")
    check(service, "uv", "run", "flask", "--app", PACKAGE, "db", "upgrade")
    check(service, "uv", "run", "flask", "--app", PACKAGE, "db", "migrate", "-m", "add tags")
    (migration,) = (service.path / f"src/{PACKAGE}/migrations/versions").glob("*add_tags.py")
    # As `make format` does: alembic's file is not laid out as ruff wants.
    check(service, "uv", "run", "--no-sync", "ruff", "check", "--fix", str(migration))
    check(service, "uv", "run", "--no-sync", "ruff", "format", str(migration))
    return edits, migration


def conflicted_files(report: str) -> list[str]:
    """Return the files the post-update step listed with conflict markers."""
    found = re.findall(r"^  (\S+):\d+: conflict", report, flags=re.MULTILINE)
    return sorted(set(found))


def follow_the_actions(path: Path) -> None:
    """Do what the CHANGELOG's Actions ask of an owner since the start."""
    items = path / f"src/{PACKAGE}/items.py"
    if DESCRIBED not in items.read_text():
        # Issue 15: every view describes itself for the OpenAPI document; a test checks it.
        text = items.read_text().replace("def count_items", DESCRIBED + "def count_items")
        items.write_text(text)


def resolve(path: Path, relative: str) -> None:
    """Resolve a listed conflict as its owner would: the template's lines, their change again."""
    theirs = re.sub(
        r"<<<<<<< before updating\n.*?=======\n(.*?)>>>>>>> after updating\n",
        r"\1",
        (path / relative).read_text(),
        flags=re.DOTALL,
    )
    old, new = RESOLUTIONS[relative]
    assert old in theirs, f"{relative}: the template's side has no {old!r}"
    (path / relative).write_text(theirs.replace(old, new))
