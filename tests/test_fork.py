"""The README's "Running your own fork", followed as written: a platform's fork of the template.

The template is this work tree, released as v1 and then v2 by its maintainers in a private
repository (`UPSTREAM`, a file:// URL standing in for https). The fork is another (`FORK`).
Every command block and every file of the section is run or written in the README's order;
between them the test plays the service's owner and the template's maintainers.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from hooks.conflicts import find_conflicts
from tests.support.commands import git
from tests.support.projects import TEMPLATE
from tests.support.readme import person, run, section, steps
from tests.support.releases import Release, commit, released_v1
from tests.support.served import server_database

#: The presets' service has PostgreSQL: its suite, run here, needs the server.
pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SECTION = "### Running your own fork"
#: The presets the section's copy command names (the README's platform section).
PRESETS = yaml.safe_load((TEMPLATE / "examples" / "platform-presets.yml").read_text())
#: The maintainers' next release: a help text in copier.yml and a line of a core module.
UPSTREAM_HELP = "help: gunicorn worker class"
UPSTREAM_LINE = '    """Answer 200 while the process serves requests; touch nothing external."""'


def test_a_fork_keeps_its_option_and_takes_the_templates_releases(tmp_path: Path) -> None:
    with server_database() as database:
        follow_the_section(tmp_path, database)


def follow_the_section(tmp_path: Path, database: str) -> None:
    """Play the fork's maintainers, a service's owner and the template's maintainers."""
    maintainers = released_v1(tmp_path / "maintainers")
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "-q", "--bare", str(maintainers), str(upstream))
    fork_url = tmp_path / "acme-flask-service.git"
    git(tmp_path, "init", "-q", "--bare", str(fork_url))
    env = person(
        PRESETS["python_version"], UPSTREAM=f"file://{upstream}", FORK=f"file://{fork_url}"
    )
    # The service's suite makes its databases from this one's name, none shared.
    env["DATABASE_URL"] = database
    work = tmp_path / "work"
    work.mkdir()

    make, *files, release, merge = steps(SECTION)
    assert all(step.path for step in files), "the section's files come between two blocks"
    assert (make.path, release.path, merge.path) == (None, None, None)
    # 1. Fork: a clone of the template, its remotes renamed.
    run(make.body, work, env)
    fork = work / "acme-flask-service"
    assert git(fork, "tag", "--list").split() == [], "the fork carries the template's tags"
    # 2. The fork's option, in its own files and includes/fork.yml.
    for step in files:
        assert step.path is not None
        (fork / step.path).parent.mkdir(parents=True, exist_ok=True)
        (fork / step.path).write_text(step.body)
    changed = git(fork, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert "copier.yml" not in {line[3:] for line in changed}
    # 3. and 4. Release the fork; a team generates its service from the fork.
    run(release.body, fork, env)
    service = work / "services" / "billing"
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.0.0"
    assert answers["owner_header"] is True
    package = answers["package_name"]
    assert (service / "src" / package / "features" / "owner_header.py").is_file()
    # The owner's repository and edits: a module of their own, a section of the README.
    git(service, "init", "-q", "-b", "main")
    commit(service, "Generated from the fork")
    (service / "src" / package / "reports.py").write_text('"""Billing reports."""\n')
    readme = service / "README.md"
    readme.write_text(readme.read_text() + "\n## Billing runbook\n\nPage the billing team.\n")
    commit(service, "Our reports, our runbook")

    # 5. The template releases a change to copier.yml and to a core module.
    template_release = Release(maintainers)
    template_release.edit(
        "copier.yml", lambda text: text.replace(UPSTREAM_HELP, UPSTREAM_HELP + " (v2)")
    )
    template_release.edit(
        "template/src/{{package_name}}/health.py",
        lambda text: text.replace(UPSTREAM_LINE, UPSTREAM_LINE + "  # v2"),
    )
    template_release.tag("v2")
    git(maintainers, "push", "-q", str(upstream), "main", "v2")
    # 6. and 7. The fork merges it, with no conflict, and releases again.
    run(merge.body, fork, env)
    assert find_conflicts(fork) == []
    assert "v2" not in git(fork, "tag", "--list").split(), "the fork took the template's tag"

    # 8. The service updates from the fork, as the section says.
    update = "uvx copier update --trust --defaults"
    assert update in section(SECTION)
    run(update, service, env)
    assert find_conflicts(service) == []
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (f"file://{fork_url}", "v1.1.0")
    assert "# v2" in (service / "src" / package / "health.py").read_text()
    assert (service / "src" / package / "features" / "owner_header.py").is_file()
    assert "OWNER_TEAM=" in (service / ".env.example").read_text()
    assert (service / "src" / package / "reports.py").is_file()
    assert "## Billing runbook" in readme.read_text()
    # The service as its CI checks it: the fork's feature is bound and tested.
    for command in (
        ["uv", "sync", "--locked"],
        ["uv", "run", "ruff", "check"],
        ["uv", "run", "ruff", "format", "--check"],
        ["uv", "run", "mypy"],
        ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"],
    ):
        result = subprocess.run(
            command, cwd=service, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        assert result.returncode == 0, (
            f"{command}:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
        )
    own_test = "tests/features/test_owner_header.py"
    tested = subprocess.run(
        ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider", own_test],
        cwd=service, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert "2 passed" in tested.stdout, tested.stdout[-2000:]
