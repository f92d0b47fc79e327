"""The generated template-update job's script, run for real up to the pushed branch.

A service generated from a simulated release (tests/support/releases.py's `Release`, named by a
`git+file://` URL standing in for https) pushes to a local bare repository, its remote; the
script runs in a clone of it, as CI checks out. The platform's API is a local HTTP server
that records what the script posts; uv is a stand-in that records the checks it was asked
to run (the real checks are test_generated's), and uvx runs this environment's Copier.
What stays unproved is the README's list: GitHub's and GitLab's side of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.commands import copier_cli, git
from tests.support.releases import Release, commit, released_v1

HEALTH = "src/example_service/health.py"
PROBE_LINE = '    """Answer 200 while the process serves requests; touch nothing external."""'
SCRIPT = "tools/template_update.py"


@pytest.fixture(scope="module")
def v1_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's work tree released as v1 (tests/support/releases.py); tests make v2."""
    return released_v1(tmp_path_factory.mktemp("released") / "template")


class Platform(ThreadingHTTPServer):
    """GitHub's or GitLab's API as the script sees it: every POST is kept."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        super().__init__(("127.0.0.1", 0), Recorder)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Recorder(BaseHTTPRequestHandler):
    """Answer a POST as the platforms do, with the new request's address."""

    server: Platform

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.posts.append((self.path, dict(self.headers), body))
        answer = json.dumps({"html_url": f"{self.server.url}/pull/1"}).encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test's output quiet."""


@pytest.fixture
def platform() -> Iterator[Platform]:
    """A recording API server on a free port."""
    server = Platform()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A folder of stand-ins: uv records its arguments, uvx runs this environment's Copier."""
    folder = tmp_path / "bin"
    folder.mkdir()
    calls = tmp_path / "uv-calls"
    (folder / "uv").write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexit 0\n')
    # `uvx --from copier… copier ARGS`: Copier's own command line with ARGS.
    (folder / "uvx").write_text(f'#!/bin/sh\nshift 3\nexec {sys.executable} -m copier "$@"\n')
    for name in ("uv", "uvx"):
        (folder / name).chmod(0o755)
    return folder


def uv_calls(tools: Path) -> list[str]:
    """Return what the stand-in uv was asked, in order."""
    calls = tools.parent / "uv-calls"
    return calls.read_text().splitlines() if calls.exists() else []


@pytest.fixture
def template(v1_repo: Path, tmp_path: Path) -> Release:
    """Return this test's own clone of v1, ready for its v2."""
    clone = tmp_path / "template"
    git(tmp_path, "clone", "-q", str(v1_repo), str(clone))
    return Release(clone)


@pytest.fixture
def remote(
    template: Release, tmp_path: Path, tools: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A service generated from v1 (ci=github), pushed to a bare repository: its remote."""
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("COPIER_CACHE_DIR", str(tmp_path / "copier-cache"))
    service = tmp_path / "service"
    result = copier_cli(
        "copy", "--trust", "--defaults", "--vcs-ref", "v1",
        f"git+file://{template.repo}", str(service),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    git(service, "init", "-q", "-b", "main")
    commit(service, "Generated from v1")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(service, "push", "-q", str(bare), "main")
    return bare


def checkout(remote: Path, where: Path) -> Path:
    """Clone the remote as CI checks it out."""
    git(where.parent, "clone", "-q", str(remote), str(where))
    return where


def job(
    folder: Path, platform: Platform, *args: str, kind: str = "github"
) -> subprocess.CompletedProcess[str]:
    """Run the job's script in `folder` as the pipeline of `kind` does."""
    env = {
        **os.environ,
        "GITHUB_API_URL": platform.url,
        "GITHUB_REPOSITORY": "team/service",
        "GH_TOKEN": "the-job-token",
        "CI_API_V4_URL": platform.url,
        "CI_PROJECT_ID": "42",
        "TEMPLATE_UPDATE_TOKEN": "the-project-token",
    }
    return subprocess.run(
        [sys.executable, SCRIPT, "--platform", kind, *args],
        cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def release_v2(template: Release) -> None:
    """Release v2, which rewords the liveness probe's docstring."""
    template.edit(
        "template/src/{{package_name}}/health.py",
        lambda text: text.replace(PROBE_LINE, PROBE_LINE + "  # v2"),
    )
    template.tag("v2")


def test_nothing_happens_while_the_service_is_current(
    remote: Path, platform: Platform, tmp_path: Path
) -> None:
    result = job(checkout(remote, tmp_path / "ci"), platform)

    assert result.returncode == 0, result.stderr
    assert "Current: the template's newest release is v1. Nothing to do." in result.stdout
    assert git(remote, "branch", "--list") == "* main\n"
    assert platform.posts == []


def test_an_update_is_pushed_checked_and_proposed_once(
    template: Release, remote: Path, platform: Platform, tools: Path, tmp_path: Path
) -> None:
    release_v2(template)

    result = job(checkout(remote, tmp_path / "ci"), platform)

    assert result.returncode == 0, result.stderr
    assert "_commit: v2" in git(remote, "show", "template-update/v2:.copier-answers.yml")
    assert "# v2" in git(remote, "show", f"template-update/v2:{HEALTH}")
    assert [call for call in uv_calls(tools) if not call.startswith("lock")] == [
        "sync", "run ruff check", "run ruff format --check", "run mypy", "run pytest -q",
    ]  # fmt: skip
    ((path, headers, body),) = platform.posts
    assert path == "/repos/team/service/pulls"
    assert headers["Authorization"] == "Bearer the-job-token"
    assert (body["head"], body["base"]) == ("template-update/v2", "main")
    assert body["title"] == "Update from the template to v2"
    assert "from the template's v1 to v2" in body["body"]
    assert "- `mypy`: passed" in body["body"]
    # The next week: the branch waits for review, so nothing more is pushed or opened.
    again = job(checkout(remote, tmp_path / "next-week"), platform)
    assert again.returncode == 0, again.stderr
    assert "template-update/v2 is on origin already" in again.stdout
    assert len(platform.posts) == 1


def test_a_conflict_is_pushed_and_reported_in_a_draft_merge_request(
    template: Release, remote: Path, platform: Platform, tools: Path, tmp_path: Path
) -> None:
    owner = checkout(remote, tmp_path / "owner")
    health = owner / HEALTH
    health.write_text(health.read_text().replace(PROBE_LINE, '    """Owner: alive."""'))
    commit(owner, "Owner rewords the probe")
    git(owner, "push", "-q", "origin", "main")
    release_v2(template)

    result = job(checkout(remote, tmp_path / "ci"), platform, "--base", "main", kind="gitlab")

    assert result.returncode == 1  # the pipeline shows the conflict too
    assert "<<<<<<< before updating" in git(remote, "show", f"template-update/v2:{HEALTH}")
    assert not any(call.startswith("run") for call in uv_calls(tools))
    ((path, headers, body),) = platform.posts
    assert path == "/projects/42/merge_requests"
    assert headers["Private-Token"] == "the-project-token"
    assert body["title"] == "Draft: Update from the template to v2"
    assert (body["source_branch"], body["target_branch"]) == ("template-update/v2", "main")
    assert f"- `{HEALTH}`: 1" in body["description"]
    assert "Checks not run" in body["description"]


@pytest.mark.parametrize("trouble", ["local-path", "dirty"])
def test_what_the_job_cannot_update_it_refuses_saying_why(
    template: Release, remote: Path, platform: Platform, tmp_path: Path, trouble: str
) -> None:
    folder = checkout(remote, tmp_path / "ci")
    answers = folder / ".copier-answers.yml"
    if trouble == "local-path":
        answers.write_text(
            re.sub(r"_src_path: .*", f"_src_path: {template.repo}", answers.read_text())
        )
        commit(folder, "Generated from a clone, as the quick start does")
        expected = f"is a local path ({template.repo}), which a hosted job cannot fetch"
    else:
        (folder / "README.md").write_text("Unsaved.\n")
        expected = "The work tree is dirty"
    release_v2(template)

    result = job(folder, platform)

    assert result.returncode == 2
    assert expected in result.stderr
    assert platform.posts == []
    assert git(remote, "branch", "--list") == "* main\n"
