"""Pipelines run on today's hosted runners, and the update bots leave majors to the template."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.commands import lint, tool
from tests.support.projects import TEMPLATE, Rendered, matrix_sets

GITHUB_SETS = matrix_sets(lambda answers: answers.get("ci", "github") == "github")
GITLAB_SETS = matrix_sets(lambda answers: answers.get("ci") == "gitlab")
#: The update bot's configuration of each `ci` answer, and check-jsonschema's schema for it.
BOT_FILES = {
    "github": (".github/dependabot.yml", "vendor.dependabot"),
    "gitlab": ("renovate.json", "vendor.renovate"),
}
#: Actions that actionlint has no metadata for, so it cannot name their newest major; the
#: README's "Who updates which version" says how each one's major is checked instead.
UNKNOWN_TO_THE_LINTER = {"astral-sh/setup-uv"}
#: How many majors past a pin the probe asks actionlint about.
MAJORS_AHEAD = 5
#: An input no action declares: actionlint names the action it checked it against.
PROBE_INPUT = "input-no-action-declares"
#: The section of the template's README that lists every pin.
PINS_SECTION = "### Who updates which version"


def actionlint(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run actionlint, with the ShellCheck installed here reading every `run:` script."""
    return subprocess.run(
        [tool("actionlint"), "-oneline", "-no-color", "-shellcheck", tool("shellcheck"),
         "-pyflakes=", *arguments],
        cwd=cwd, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def own_workflows() -> list[Path]:
    """Return the template repository's own GitHub workflows (none today)."""
    return sorted((TEMPLATE / ".github" / "workflows").glob("*.y*ml"))


@pytest.mark.parametrize("name", GITHUB_SETS)
def test_actionlint_finds_nothing(rendered: Callable[[str], Rendered], name: str) -> None:
    """No deprecated runtime, unknown input, bad expression or ShellCheck finding."""
    project = rendered(name)
    result = actionlint(".github/workflows/ci.yml", cwd=project.path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_template_repositorys_own_workflows_pass_actionlint() -> None:
    workflows = [str(path) for path in own_workflows()]
    if workflows:
        result = actionlint(*workflows, cwd=TEMPLATE)
        assert (result.returncode, result.stdout) == (0, ""), result.stdout


def pinned_actions(projects: list[Rendered]) -> set[str]:
    """Return every `owner/repo@ref` the projects' workflows and the repository's own use."""
    workflows = [project.path / ".github/workflows/ci.yml" for project in projects]
    found = set()
    for workflow in [*workflows, *own_workflows()]:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            found |= {step["uses"] for step in job.get("steps", []) if "uses" in step}
    return found


def known_to_the_linter(specs: list[str], cwd: Path) -> set[str]:
    """Return which `owner/repo@ref` specs actionlint has metadata for (its popular actions)."""
    steps = [{"uses": spec, "with": {PROBE_INPUT: "x"}} for spec in specs]
    probe = {"on": "push", "jobs": {"probe": {"runs-on": "ubuntu-24.04", "steps": steps}}}
    (cwd / "probe.yml").write_text(yaml.safe_dump(probe))
    output = actionlint("probe.yml", cwd=cwd).stdout
    return set(re.findall(rf'input "{PROBE_INPUT}" is not defined in action "([^"]+)"', output))


def test_every_action_is_at_the_newest_major_the_linter_knows(
    rendered: Callable[[str], Rendered], tmp_path: Path
) -> None:
    """The next runtime deprecation shows here first: actionlint's table moves on, this fails."""
    # The probe itself: an old checkout is in actionlint's table, a made-up major is not.
    assert known_to_the_linter(["actions/checkout@v4", "actions/checkout@v99"], tmp_path) == {
        "actions/checkout@v4"
    }
    pins = pinned_actions([rendered(name) for name in GITHUB_SETS])
    assert pins, "no action found in any workflow"
    for pin in sorted(pins):
        found = re.fullmatch(r"([\w.-]+/[\w.-]+)@v(\d+)(\.\d+)*", pin)
        assert found, f"{pin}: pin a release tag, vN or vN.N.N"
        action, major = found.group(1), int(found.group(2))
        newer = [f"{action}@v{major + ahead}" for ahead in range(1, MAJORS_AHEAD + 1)]
        known = known_to_the_linter([f"{action}@v{major}", *newer], tmp_path)
        if action in UNKNOWN_TO_THE_LINTER:
            assert not known, f"actionlint knows {action} now: drop it from UNKNOWN_TO_THE_LINTER"
            continue
        assert f"{action}@v{major}" in known, f"actionlint does not know {pin}"
        assert known.isdisjoint(newer), f"{pin}: actionlint knows {sorted(known & set(newer))}"


@pytest.mark.parametrize("name", matrix_sets(lambda answers: answers.get("ci") != "none"))
def test_the_bot_configuration_matches_its_schema(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    ci = project.answers.get("ci", "github")
    present = [path for path, _ in BOT_FILES.values() if (project.path / path).exists()]
    path, schema = BOT_FILES[ci]
    assert present == [path]
    lint("check-jsonschema", "--builtin-schema", schema, path, cwd=project.path)


MAJOR_IGNORED = {"dependency-name": "*", "update-types": ["version-update:semver-major"]}


@pytest.mark.parametrize("name", GITHUB_SETS)
def test_dependabot_leaves_majors_to_the_template(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    docker = project.answers.get("docker", True)
    updates = yaml.safe_load((project.path / ".github/dependabot.yml").read_text())["updates"]
    ecosystems = {update["package-ecosystem"]: update for update in updates}
    expected = {"github-actions", "uv", *(["docker", "docker-compose"] if docker else [])}
    assert set(ecosystems) == expected
    assert len(updates) <= 4  # at most four scheduled pull requests a month
    for update in updates:
        # One pull request per ecosystem and month: a single group takes every dependency.
        assert update["schedule"]["interval"] == "monthly"
        assert [group["patterns"] for group in update["groups"].values()] == [["*"]]
        assert MAJOR_IGNORED in update["ignore"]
    # pyproject.toml's ranges are the template's: the bot moves uv.lock within them.
    assert ecosystems["uv"]["versioning-strategy"] == "lockfile-only"
    if docker:
        # The Python base image is the python_version answer's.
        assert {"dependency-name": "python"} in ecosystems["docker"]["ignore"]


def renovate_rules(config: dict[str, Any], **matching: Any) -> list[dict[str, Any]]:
    """Return the package rules whose keys hold every `matching` value."""
    rules: list[dict[str, Any]] = config["packageRules"]
    return [
        rule for rule in rules if all(rule.get(key) == value for key, value in matching.items())
    ]


@pytest.mark.parametrize("name", GITLAB_SETS)
def test_renovate_leaves_majors_to_the_template(
    rendered: Callable[[str], Rendered], name: str
) -> None:
    project = rendered(name)
    docker = project.answers.get("docker", True)
    config = json.loads((project.path / "renovate.json").read_text())
    managers = {"gitlabci", "pep621", *(["dockerfile", "docker-compose"] if docker else [])}
    assert set(config["enabledManagers"]) == managers
    # Majors off for every package: a rule that matches on the update type alone.
    (majors,) = renovate_rules(config, matchUpdateTypes=["major"])
    assert {key for key in majors if key != "description"} == {"matchUpdateTypes", "enabled"}
    assert majors["enabled"] is False
    # No later rule turns anything back on (Renovate applies rules in order).
    assert renovate_rules(config, enabled=True) == []
    # Once a month, each manager's updates in one group: a handful of merge requests.
    for schedule in (config["schedule"], config["lockFileMaintenance"]["schedule"]):
        assert [entry.split()[2:] for entry in schedule] == [["1", "*", "*"]]
    for manager in managers:
        assert any(
            manager in rule.get("matchManagers", []) and rule.get("groupName")
            for rule in config["packageRules"]
        ), f"{manager} is in no group"
    groups = {rule["groupName"] for rule in config["packageRules"] if "groupName" in rule}
    assert len(groups) + config["lockFileMaintenance"]["enabled"] <= 5
    (python,) = renovate_rules(config, matchManagers=["pep621"])
    assert python["rangeStrategy"] == "in-range-only"
    pythons = renovate_rules(config, matchPackageNames=["python"], enabled=False)
    assert len(pythons) == docker


def uv_versions(project: Rendered) -> set[str]:
    """Return every version of uv the project's Dockerfile and pipeline pin."""
    texts = [path.read_text() for path in (project.path / "Dockerfile",
             project.path / ".gitlab-ci.yml") if path.exists()]  # fmt: skip
    return {
        version
        for text in texts
        for version in re.findall(r"ghcr\.io/astral-sh/uv:(\d+\.\d+\.\d+)", text)
    }


@pytest.mark.parametrize("name", GITLAB_SETS)
def test_every_pin_of_uv_is_one_version(rendered: Callable[[str], Rendered], name: str) -> None:
    """The pipeline's uv image and the Dockerfile's uv stage move together (one bot group)."""
    project = rendered(name)
    versions = uv_versions(project)
    assert len(versions) == 1, versions
    # .ci/run builds the stand-in uv image from the Dockerfile's FROM line.
    run = (TEMPLATE / ".ci/run").read_text()
    assert r"s|^FROM ghcr.io/astral-sh/uv:\([^ ]*\) AS uv$|\1|p" in run


#: A pin's Python version, written the way the README's table writes it.
PYTHON_IN_A_PIN = re.compile(r"python3\.1\d")


def pins_of(project: Rendered) -> set[str]:
    """Return every action and image the project names, its Python version as `3.x`."""
    root = project.path
    pins = pinned_actions([project]) if (root / ".github/workflows/ci.yml").exists() else set()
    for path in [root / ".github/workflows/ci.yml", root / "compose.yaml"]:
        if path.exists():
            pins |= set(re.findall(r"^\s+image: (\S+)$", path.read_text(), re.M))
    if (root / ".gitlab-ci.yml").exists():
        text = (root / ".gitlab-ci.yml").read_text()
        pins |= set(re.findall(r"^\s+image: (\S+)$", text, re.M))
        # Services: `- name: postgres:17` or `- docker:29-dind` (a script line has spaces).
        pins |= set(re.findall(r"^\s+- (?:name: )?(\S+:\S+)$", text, re.M))
    for manifest in (root / "deploy").glob("*.yaml"):
        images = re.findall(r"^\s+image: (\S+)$", manifest.read_text(), re.M)
        pins |= {image for image in images if not image.startswith("registry.example.com/")}
    if (root / "Dockerfile").exists():
        pins |= set(re.findall(r"^FROM (\S+)", (root / "Dockerfile").read_text(), re.M))
    return {PYTHON_IN_A_PIN.sub("python3.x", pin) for pin in pins}


def test_the_readme_lists_every_pin(rendered: Callable[[str], Rendered]) -> None:
    """Each action and image of every render is a row of the README's table, and no other."""
    readme = (TEMPLATE / "README.md").read_text()
    after = readme[readme.index(PINS_SECTION) + len(PINS_SECTION) :]
    section = re.split(r"\n#{2,3} ", after)[0]
    listed = set(re.findall(r"^\| `([^`]+)` \|", section, re.M))
    named = set().union(*(pins_of(rendered(name)) for name in matrix_sets()))
    assert named - listed == set(), "add to the README's table"
    assert listed - named == set(), "no render names these any more"
