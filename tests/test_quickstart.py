"""The README's quick start, run as written, makes a service that updates across a release."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import containers
from tests.support.commands import git
from tests.support.projects import DEFAULT_PYTHON, TEMPLATE
from tests.support.readme import commands

pytestmark = pytest.mark.slow


def shell(command: str, cwd: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run a README command as a person would, on a machine of the default python_version.

    uv cannot download that Python here, and this machine may have none: the command runs in
    a container whose python3 is it (tests/support/containers.py), with uv and uvx on PATH
    and `folder`, which holds `cwd`, mounted where it is.
    """
    return containers.run(containers.machine(DEFAULT_PYTHON), command, folder, cwd=cwd)


def command_of(block: list[str], start: str) -> str:
    """Return the one command of `block` that starts with `start`."""
    (command,) = (line for line in block if line.startswith(start))
    return command


def next_patch(version: str) -> str:
    """Return the release after `version` (vX.Y.Z)."""
    major, minor, patch = map(int, version.removeprefix("v").split("."))
    return f"v{major}.{minor}.{patch + 1}"


def test_the_quick_start_service_updates_across_a_release(tmp_path: Path) -> None:
    """Copy as the README says, commit, release the template again, update as it says.

    The clone is of what is committed here. A clone that carries no release tag (CI's clone
    may not fetch tags) releases what it holds as v0.1.0 first, as the release process would.
    """
    clone = tmp_path / "copier-flask-service"
    git(tmp_path, "clone", "-q", str(TEMPLATE), str(clone))
    if not git(clone, "tag", "--list", "v*").split():
        git(clone, "tag", "-a", "v0.1.0", "-m", "v0.1.0")
    released = git(clone, "describe", "--tags", "--abbrev=0").strip()

    copy = shell(command_of(commands("## Quick start"), "uvx copier "), clone, tmp_path)
    assert copy.returncode == 0, copy.stdout[-3000:] + copy.stderr[-3000:]
    assert "warning" not in copy.stderr.lower(), copy.stderr
    service = tmp_path / "example-service"
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    # Absolute and a release: `copier update` can find both again from the service.
    assert (answers["_src_path"], answers["_commit"]) == (str(clone), released)

    git(service, "init", "-q", "-b", "main")
    git(service, "add", "-A")
    git(service, "commit", "-q", "-m", "Generated from the template")
    readme = clone / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA fix from the next release.\n")
    git(clone, "commit", "-q", "-am", "A fix")
    release = next_patch(released)
    git(clone, "tag", "-a", release, "-m", release)

    check_update, update = commands("## Updating a generated service")[:2]
    checked = shell(check_update, service, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert release.removeprefix("v") in checked.stdout + checked.stderr
    updated = shell(update, service, tmp_path)
    assert updated.returncode == 0, updated.stdout[-3000:] + updated.stderr[-3000:]
    assert "warning" not in updated.stderr.lower(), updated.stderr
    assert "A fix from the next release." in (service / "README.md").read_text()
    assert yaml.safe_load((service / ".copier-answers.yml").read_text())["_commit"] == release


#: What the block's last command runs of the template's own suite here: two quick tests.
QUICK_SELECTION = (
    "-p no:cacheprovider -k "
    "'test_public_answer_keys_are_stable or test_every_allowed_pair_is_in_some_set'"
)
#: The block's last command: the template's own suite.
SUITE = "uv run pytest -n auto"
#: The folders a bare machine's PATH holds: no pyenv, no ~/.local, no ~/.cargo.
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def test_the_quick_start_runs_where_there_is_no_uv(tmp_path: Path) -> None:
    """Python and pip but no uv: the block as written, in a clean clone, in a fresh venv.

    On a machine whose python3 is the default python_version and which has no uv (a
    container, tests/support/containers.py: this machine may have no such Python, and uv
    cannot download one here). The venv comes from that python3, with pip only; PATH is the
    venv's folder and the system's. Its last command, the template's own suite, runs a small
    selection (PYTEST_ADDOPTS): the whole suite inside the whole suite would take as long
    again, and what the line proves is that uv builds the template's environment and pytest
    starts its workers.
    """
    clone = tmp_path / "copier-flask-service"
    git(tmp_path, "clone", "-q", str(TEMPLATE), str(clone))
    if not git(clone, "tag", "--list", "v*").split():
        git(clone, "tag", "-a", "v0.1.0", "-m", "v0.1.0")
    image = containers.machine(DEFAULT_PYTHON)
    venv = tmp_path / "venv"
    made = containers.run(image, f"python3 -m venv {venv}", tmp_path, uv=False)
    assert made.returncode == 0, made.stderr
    path = os.pathsep.join([str(venv / "bin"), *SYSTEM_PATH])
    absent = containers.run(image, "! command -v uv && ! command -v uvx", tmp_path, uv=False,
                            env={"PATH": path})  # fmt: skip
    assert absent.returncode == 0, f"a uv is on the machine's PATH: {absent.stdout}"
    env = {"PATH": path, "VIRTUAL_ENV": str(venv)}

    outputs = []
    for command in commands("## Quick start"):
        result = containers.run(
            image,
            command,
            tmp_path,
            cwd=clone,
            # Only the template's own suite gets the selection, not the service's.
            env={**env, "PYTEST_ADDOPTS": QUICK_SELECTION} if command == SUITE else env,
            uv=False,
            timeout=900,
        )
        output = result.stdout[-3000:] + result.stderr[-3000:]
        assert result.returncode == 0, f"{command}\n{output}"
        if command.startswith("command -v uv"):
            outputs.append(result.stdout)
            continue  # pip speaks of the machine's own configuration (its indexes): not ours
        # uv's one note about the active venv is expected; nothing else may warn.
        warnings = [
            line
            for line in result.stderr.lower().splitlines()
            if "warning" in line and "does not match the project environment" not in line
        ]
        assert warnings == [], f"{command}\n{output}"
        outputs.append(result.stdout)
    assert SUITE in commands("## Quick start"), "the block no longer ends with the suite"
    assert (venv / "bin" / "uv").is_file(), "the first line did not install uv into the venv"
    assert (tmp_path / "example-service" / ".venv").is_dir()
    assert (clone / ".venv" / "bin" / "pytest").is_file()
    assert " passed" in outputs[1], "the service's own suite did not run"
    assert "2 passed" in outputs[2], outputs[2][-2000:]
