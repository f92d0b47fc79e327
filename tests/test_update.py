"""`copier update`: releases simulated in temporary git repositories, owners' edits kept."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from hooks.dependencies import split_lists
from tests.answers import HOST_PYTHON
from tests.support.commands import copier_cli, git
from tests.support.projects import TEMPLATE
from tests.support.releases import Release, commit, released_v1

PACKAGE = Path("src/example_service")


@pytest.fixture(scope="module")
def v1_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's current work tree, released as v1 in a fresh git repository."""
    return released_v1(tmp_path_factory.mktemp("released") / "template")


@pytest.fixture
def release(v1_repo: Path, tmp_path: Path) -> Release:
    """Return this test's own clone of v1, ready for its v2."""
    clone = tmp_path / "template"
    git(tmp_path, "clone", "-q", str(v1_repo), str(clone))
    return Release(clone)


def generate(release: Release, destination: Path, *args: str) -> Path:
    """Copy the template at a release into `destination` and commit it, as an owner would."""
    # On a Python this machine has: the copy task locks with it.
    python = ("-d", f"python_version={HOST_PYTHON}")
    result = copier_cli(
        "copy", "--trust", "--defaults", *python, *args, str(release.repo), str(destination)
    )
    assert result.returncode == 0, result.stderr
    return destination


@pytest.fixture(scope="module")
def v1_project(v1_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service generated from v1 once for the module: a copy with its tasks takes seconds."""
    path = generate(Release(v1_repo), tmp_path_factory.mktemp("v1") / "service", "--vcs-ref", "v1")
    git(path, "init", "-q", "-b", "main")
    commit(path, "Generated from v1")
    return path


@pytest.fixture
def project(v1_project: Path, release: Release, tmp_path: Path) -> Path:
    """A service generated from v1 and committed in its own repository, taken from this
    test's clone of the template: the module's copy, its template moved to the clone."""
    path = tmp_path / "service"
    shutil.copytree(v1_project, path, symlinks=True)
    # What names the template's place (the answers, the README) names this test's clone.
    source, clone = str(read_answers(path)["_src_path"]).encode(), str(release.repo).encode()
    files = [file for file in path.rglob("*") if ".git" not in file.relative_to(path).parts]
    for file in files:
        if file.is_file() and not file.is_symlink() and source in (text := file.read_bytes()):
            file.write_bytes(text.replace(source, clone))
    git(path, "commit", "-q", "--amend", "-a", "--no-edit")
    return path


def read_answers(project: Path) -> dict[str, object]:
    """Return the answers Copier recorded in `project`."""
    answers: dict[str, object] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def update(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `copier update` in `project` as its owner would."""
    return copier_cli("update", "--trust", "--defaults", *args, cwd=project)


def test_owner_edits_stay_and_template_changes_arrive(release: Release, project: Path) -> None:
    health = project / PACKAGE / "health.py"
    health.write_text(health.read_text() + "\n\n# Owner: probes are scraped every 5 s.\n")
    (project / PACKAGE / "billing.py").write_text('"""The owner\'s own module."""\n')
    owned = {path: path.read_bytes() for path in (health, project / PACKAGE / "billing.py")}
    commit(project, "Owner edits")
    release.edit(
        f"template/{PACKAGE.parent}/{{{{package_name}}}}/errors.py",
        lambda text: text.replace(
            "log = logging.getLogger(__name__)", "log = logging.getLogger(__name__)  # v2"
        ),
    )
    release.tag("v2")

    result = update(project)

    assert result.returncode == 0, result.stderr
    for path, content in owned.items():
        assert path.read_bytes() == content, f"{path.name} lost the owner's edit"
    assert "# v2" in (project / PACKAGE / "errors.py").read_text()
    assert "_commit: v2" in (project / ".copier-answers.yml").read_text()


def test_a_new_question_takes_its_default(release: Release, project: Path) -> None:
    release.edit(
        "copier.yml",
        lambda text: text.replace(
            "# --- Hidden ---",
            'team_channel:\n  type: str\n  help: Chat channel\n  default: "#platform"\n\n'
            "# --- Hidden ---",
        ),
    )
    release.edit("template/README.md.jinja", lambda text: text + "\nChannel: {{ team_channel }}\n")
    release.tag("v2")

    result = update(project)

    assert result.returncode == 0, result.stderr
    assert "team_channel: '#platform'" in (project / ".copier-answers.yml").read_text()
    assert "Channel: #platform" in (project / "README.md").read_text()


def test_a_file_the_template_dropped_is_removed(release: Release, project: Path) -> None:
    assert (project / "tests/test_docs.py").exists()
    release.drop("template/tests/test_docs.py.jinja")
    release.tag("v2")

    result = update(project)

    assert result.returncode == 0, result.stderr
    assert not (project / "tests/test_docs.py").exists()


def test_a_changed_answer_re_renders(project: Path) -> None:
    health = project / PACKAGE / "health.py"
    health.write_text(health.read_text() + "\n# Owner's note.\n")
    commit(project, "Owner edit")

    result = update(project, "-d", "worker_class=sync")

    assert result.returncode == 0, result.stderr
    conf = (project / "gunicorn.conf.py").read_text()
    assert 'worker_class = "sync"' in conf
    assert "GUNICORN_THREADS" not in (project / PACKAGE / "serve.py").read_text()
    assert "worker_class: sync" in (project / ".copier-answers.yml").read_text()
    assert health.read_text().endswith("# Owner's note.\n")


@pytest.mark.parametrize("mode", ["inline", "rej"])
def test_an_edit_next_to_a_template_change_is_a_reported_conflict(
    release: Release, project: Path, mode: str
) -> None:
    line = '    """Answer 200 while the process serves requests; touch nothing external."""'
    health = project / PACKAGE / "health.py"
    health.write_text(health.read_text().replace(line, '    """Owner: the pod is alive."""'))
    commit(project, "Owner rewords the probe")
    release.edit(
        f"template/{PACKAGE.parent}/{{{{package_name}}}}/health.py",
        lambda text: text.replace(line, '    """Template v2: the process is up."""'),
    )
    release.tag("v2")

    result = update(project, "--conflict", mode)

    # Copier would exit 0; the post-update step fails the update and lists the conflict.
    assert result.returncode != 0
    assert "The update left" in result.stderr
    if mode == "inline":
        assert f"{PACKAGE.as_posix()}/health.py:" in result.stderr
        merged = health.read_text()
        assert "<<<<<<< before updating" in merged
        assert "Template v2: the process is up." in merged
    else:
        assert f"{PACKAGE.as_posix()}/health.py.rej" in result.stderr
        merged = health.read_text() + (project / PACKAGE / "health.py.rej").read_text()
    assert "Owner: the pod is alive." in merged  # never silently lost


def test_local_files_are_never_overwritten(release: Release, project: Path) -> None:
    env = project / ".env"
    env.write_text("SECRET_KEY=the-owner-s-own-secret-value-of-enough-length\n")
    release.repo.joinpath("template/.env").write_text("APP_ENV=development\n")
    # The generated project's .gitignore (template/.gitignore) ignores .env here too.
    git(release.repo, "add", "--force", "template/.env")
    release.tag("v2")

    result = update(project)

    assert result.returncode == 0, result.stderr
    assert env.read_text() == "SECRET_KEY=the-owner-s-own-secret-value-of-enough-length\n"


def test_update_equals_a_fresh_copy(release: Release, project: Path, tmp_path: Path) -> None:
    release.edit(
        f"template/{PACKAGE.parent}/{{{{package_name}}}}/errors.py",
        lambda text: text.replace(
            "log = logging.getLogger(__name__)", "log = logging.getLogger(__name__)  # v2"
        ),
    )
    release.drop("template/tests/test_docs.py.jinja")
    release.tag("v2")

    result = update(project)
    fresh = generate(release, tmp_path / "fresh", "--vcs-ref", "v2")

    assert result.returncode == 0, result.stderr
    assert tree(project) == tree(fresh)


def tree(root: Path) -> dict[str, bytes]:
    """Return every file under `root` but git's own, with its content."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def test_a_versioned_migration_carries_a_renamed_answer(release: Release, tmp_path: Path) -> None:
    """The `_migrations` policy, end to end: v2 renames `description` to `summary`."""
    ours = "Our own words."
    project = generate(
        release, tmp_path / "service", "--vcs-ref", "v1", "-d", f"description={ours}"
    )
    git(project, "init", "-q", "-b", "main")
    commit(project, "Generated from v1")
    rename = (
        "import pathlib; p = pathlib.Path('.copier-answers.yml'); "
        "p.write_text(p.read_text().replace('description:', 'summary:'))"
    )
    release.edit(
        "copier.yml",
        lambda text: (
            text.replace(
                "_migrations:\n",
                "_migrations:\n  - version: v2\n    when: \"{{ _stage == 'before' }}\"\n"
                f'    command: ["{{{{ _copier_python }}}}", "-c", "{rename}"]\n',
            )
            .replace("\ndescription:\n", "\nsummary:\n")
            .replace("{% if description |", "{% if summary |")
        ),
    )
    uses = re.compile(r"(?<=md\()description|(?<=\{\{ )description")  # where it is rendered
    for relative in ("template/README.md.jinja", "template/pyproject.toml.jinja"):
        release.edit(relative, lambda text: uses.sub("summary", text))
    release.tag("v2")

    result = update(project)

    assert result.returncode == 0, result.stderr
    answers = (project / ".copier-answers.yml").read_text()
    assert f"summary: {ours}" in answers
    assert "description:" not in answers
    assert f'description = "{ours}"' in (project / "pyproject.toml").read_text()


def pre_commit(project: Path, hook: str) -> subprocess.CompletedProcess[str]:
    """Run one of the project's pre-commit hooks over all its files."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook, "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_pre_commit_refuses_conflict_markers_and_rejected_hunks(project: Path) -> None:
    (project / "marked.py").write_text(
        "<<<<<<< before updating\nx = 1\n=======\nx = 2\n>>>>>>> after updating\n"
    )
    (project / "gunicorn.conf.py.rej").write_text("@@ -1 +1 @@\n")
    git(project, "add", "-A")
    for hook, culprit in (
        ("no-conflict-markers", "marked.py"),
        ("no-rejected-hunks", "gunicorn.conf.py.rej"),
    ):
        result = pre_commit(project, hook)
        assert result.returncode == 1, result.stdout + result.stderr
        assert culprit in result.stdout


def test_the_doctor_hook_refuses_a_pitfall_its_owners_add(project: Path) -> None:
    assert pre_commit(project, "doctor").returncode == 0
    (project / "report.py").write_text(
        "import threading\nfrom flask import request\n\n\ndef send() -> None:\n"
        "    print(request.path)\n\n\nthreading.Thread(target=send).start()\n"
    )
    git(project, "add", "-A")
    result = pre_commit(project, "doctor")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "report.py:6:11 FD101 `request` used in `send`, which runs in a thread" in result.stdout


def test_the_hooks_pass_a_clean_project(project: Path) -> None:
    result = pre_commit(project, "no-conflict-markers")
    assert result.returncode == 0, result.stdout + result.stderr
    assert filecmp.cmp(
        project / ".pre-commit-config.yaml", TEMPLATE / "template/.pre-commit-config.yaml"
    )


def test_check_update_tells_when_a_release_is_waiting(release: Release, project: Path) -> None:
    assert copier_cli("check-update", "--quiet", cwd=project).returncode == 0
    release.edit("template/README.md.jinja", lambda text: text + "\nv2\n")
    release.tag("v2")
    assert copier_cli("check-update", "--quiet", cwd=project).returncode == 2


def uv(project: Path, *args: str) -> None:
    """Run uv in `project` as its owner would; fail the test when uv fails."""
    result = subprocess.run(
        ["uv", *args], cwd=project, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"uv {' '.join(args)}: {result.stderr}"


def locked_versions(project: Path) -> dict[str, str]:
    """Return each package uv.lock pins, with its version."""
    packages = tomllib.loads((project / "uv.lock").read_text())["package"]
    return {package["name"]: package.get("version", "") for package in packages}


def unmerged(project: Path) -> list[str]:
    """Return the paths git still counts as unmerged (Copier records its conflicts so)."""
    return git(project, "diff", "--name-only", "--diff-filter=U").split()


def recorded_commit(project: Path) -> str:
    """Return the template commit `.copier-answers.yml` records (YAML quotes one of digits)."""
    return str(yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"])


#: The core's last requirement: pyproject.toml sorts the features' in with them by name.
LAST_REQUIREMENT = '    "typing-extensions>=4.12",\n'
ZIPP = '    "zipp>=3.20",\n'


def release_zipp(release: Release) -> None:
    """Release v2, which adds zipp at the end of the service's dependencies."""
    release.edit(
        "template/pyproject.toml.jinja",
        lambda text: text.replace(LAST_REQUIREMENT, LAST_REQUIREMENT + ZIPP),
    )
    release.tag("v2")


def test_dependencies_added_on_both_sides_merge_and_lock(release: Release, project: Path) -> None:
    """Issue 24: `uv add` and a template's new dependency met at the list's end and conflicted."""
    uv(project, "add", "--no-sync", "werkzeug>=3.1")
    commit(project, "Owner adds werkzeug")
    owned = locked_versions(project)
    # Both at the end of the list: the same lines, which a text merge cannot order.
    release_zipp(release)

    result = update(project)

    assert result.returncode == 0, result.stderr
    assert "Merged the dependency lists" in result.stderr
    assert "[project] dependencies" in result.stderr
    _, lists = split_lists((project / "pyproject.toml").read_text())
    names = [entry.name for entry in lists["project.dependencies"].entries]
    assert names[-3:] == ["typing-extensions", "werkzeug", "zipp"]
    assert unmerged(project) == []
    locked = locked_versions(project)
    assert "zipp" in locked
    assert {name: locked[name] for name in owned} == owned, "a pin of the owner's lock moved"


def test_a_package_both_changed_is_a_conflict_that_names_it(
    release: Release, project: Path
) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"gunicorn>=23,<28"', '"gunicorn>=23.0.1,<28"')
    )
    commit(project, "Owner raises gunicorn's floor")
    release.edit(
        "template/pyproject.toml.jinja",
        lambda text: text.replace('"gunicorn>=23,<28"', '"gunicorn>=23,<29"'),
    )
    release.tag("v2")

    result = update(project)

    assert result.returncode == 1
    assert "pyproject.toml:" in result.stderr
    assert "gunicorn, which you and the template both changed" in result.stderr
    assert "uv.lock" not in result.stderr.partition("The update left")[2]
    assert "<<<<<<<" not in (project / "uv.lock").read_text()
    assert "Resolve pyproject.toml, then run `uv lock`" in result.stderr


def test_a_lock_the_old_release_wrote_in_its_copies_is_kept(
    release: Release, tmp_path: Path
) -> None:
    """The transition: a release whose task locked Copier's temporary copies too."""
    locks_always = (
        '    if args[0] == "copy":\n',
        "    if True:  # v1.1: every render, Copier's copies too\n",
    )
    release.edit("hooks/task.py", lambda text: text.replace(*locks_always))
    release.tag("v1.1")
    project = generate(release, tmp_path / "service", "--vcs-ref", "v1.1")
    git(project, "init", "-q", "-b", "main")
    commit(project, "Generated from v1.1")
    uv(project, "add", "--no-sync", "tenacity>=8")
    # A pin a fresh resolution would not pick: a lock written anew would lose it.
    uv(project, "lock", "--upgrade-package", "tenacity==8.5.0")
    commit(project, "Owner adds tenacity, at 8.5.0")
    owned = (project / "uv.lock").read_bytes()
    release.edit("hooks/task.py", lambda text: text.replace(locks_always[1], locks_always[0]))
    release.edit("template/README.md.jinja", lambda text: text + "\nv2\n")
    release.tag("v2")

    result = update(project)

    assert result.returncode == 0, result.stderr
    # Copier removes what only the old copy held; the post-update step puts it back.
    assert (project / "uv.lock").read_bytes() == owned
    assert "uv.lock" not in git(project, "status", "--porcelain")


def test_offline_the_update_succeeds_and_says_what_to_run(
    release: Release, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owned = (project / "uv.lock").read_bytes()
    offline = tmp_path / "offline"
    offline.mkdir()
    (offline / "uv").write_text(
        "#!/bin/sh\necho 'error: Failed to fetch: https://pypi.org/simple/zipp/' >&2\nexit 2\n"
    )
    (offline / "uv").chmod(0o755)
    monkeypatch.setenv("PATH", f"{offline}{os.pathsep}{os.environ['PATH']}")
    release_zipp(release)

    result = update(project)

    assert result.returncode == 0, result.stderr
    assert "`uv lock` failed (error: Failed to fetch" in result.stderr
    assert f"Run `uv lock` in {project.resolve()} once PyPI answers" in result.stderr
    assert (project / "uv.lock").read_bytes() == owned


def test_a_copy_from_a_clone_without_tags_updates_and_checks(tmp_path: Path) -> None:
    """Issue 24: a clone of the published repository has no tags; Copier takes its HEAD."""
    repo = tmp_path / "template"
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".*_cache")
    shutil.copytree(TEMPLATE, repo, ignore=ignore)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main, untagged")
    copied = copier_cli("copy", "--trust", "--defaults", str(repo), str(tmp_path / "service"))
    assert copied.returncode == 0, copied.stderr
    assert "No git tags found in template; using HEAD as ref" in copied.stderr
    project = tmp_path / "service"
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert recorded_commit(project) == head
    git(project, "init", "-q", "-b", "main")
    commit(project, "Generated from main")
    assert copier_cli("check-update", "--quiet", cwd=project).returncode == 0
    release = Release(repo)
    release.edit("template/README.md.jinja", lambda text: text + "\nnext\n")
    git(repo, "commit", "-qam", "A later commit of main")
    assert copier_cli("check-update", "--quiet", cwd=project).returncode == 2

    result = update(project)

    assert result.returncode == 0, result.stderr
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert recorded_commit(project) == head
    assert (project / "README.md").read_text().endswith("\nnext\n")


@pytest.mark.parametrize(
    ("situation", "message"),
    [
        pytest.param("dirty", "Destination repository is dirty; cannot continue.", id="dirty"),
        pytest.param(
            "not-generated",
            "Cannot update because cannot obtain old template references from "
            "`.copier-answers.yml`.",
            id="not-generated",
        ),
        pytest.param(
            "template-gone", "Updating is only supported in git-tracked templates.", id="gone"
        ),
    ],
)
def test_an_update_that_cannot_start_says_why(
    project: Path, tmp_path: Path, situation: str, message: str
) -> None:
    """Copier's own words, which the README explains: nothing is changed."""
    answers = project / ".copier-answers.yml"
    if situation == "dirty":
        (project / "README.md").write_text("The owner's unsaved words.\n")
    elif situation == "not-generated":
        answers.unlink()
        commit(project, "Not a generated service any more")
    else:
        answers.write_text(
            re.sub(r"_src_path: .*", f"_src_path: {tmp_path / 'moved'}", answers.read_text())
        )
        commit(project, "The template moved")
    before = git(project, "status", "--porcelain")

    result = update(project)

    assert result.returncode == 1
    assert message in result.stderr
    assert git(project, "status", "--porcelain") == before
