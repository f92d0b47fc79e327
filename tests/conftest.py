"""Fixtures only: Copier pinned to this template and isolated, and rendered projects.

What test modules import lives in tests/support/; this file imports from there too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from plumbum import local

from tests.support.commands import own_binary
from tests.support.projects import TEMPLATE, Rendered, interpreter, render


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show the counts the simulation runs recorded (tests/test_scale_out.py), pass or fail."""
    # Recorded at teardown, so carried by the teardown's report (with xdist too).
    counted = [
        (report.nodeid, value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "teardown"
        for name, value in report.user_properties
        if name == "counts"
    ]
    if counted:
        terminalreporter.section("what the scale-out runs counted")
        for nodeid, value in counted:
            terminalreporter.write_line(nodeid)
            for line in str(value).splitlines():
                terminalreporter.write_line(f"    {line}")


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


@pytest.fixture(scope="session")
def rendered(copie_session: Any) -> Callable[[str], Rendered]:
    """Render each answer set once per test process, for tests that only read the files."""
    cache: dict[str, Rendered] = {}

    def get(name: str) -> Rendered:
        if name not in cache:
            cache[name] = render(copie_session, name)
        return cache[name]

    return get
