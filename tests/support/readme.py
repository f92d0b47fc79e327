"""The README's own procedures, as a test runs them: its commands and files, in order."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.projects import TEMPLATE, interpreter
from tests.support.tools import missing

README = (TEMPLATE / "README.md").read_text()
#: A fenced block, with the line before it: "`path`:" there makes it a file to write.
FENCED = re.compile(
    r"^(?:`(?P<path>[^`\n]+)`:\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.M | re.S
)


@dataclass(frozen=True)
class Step:
    """A command block to run (`path` None) or a file to write at `path`, as the README has it."""

    body: str
    path: str | None = None


def section(heading: str) -> str:
    """Return the README's text under `heading` (with its #s), up to the next such heading.

    A line in a fenced block is never a heading (a YAML or shell comment starts with #).
    """
    level = len(heading.split(" ", 1)[0])
    lines = README.splitlines(keepends=True)
    assert f"{heading}\n" in lines, f"no '{heading}' in README.md"
    found, fenced = [], False
    for line in lines[lines.index(f"{heading}\n") + 1 :]:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(rf"#{{1,{level}}} ", line):
            break
        found.append(line)
    return "".join(found)


def steps(heading: str) -> list[Step]:
    """Return the section's sh blocks and its files, in the README's order."""
    found = []
    for match in FENCED.finditer(section(heading)):
        if match["path"]:
            found.append(Step(match["body"], match["path"]))
        elif match["lang"] == "sh":
            found.append(Step(match["body"]))
    return found


def commands(heading: str) -> list[str]:
    """Return the command lines of the section's first sh block, without their comments."""
    (block, *_) = (step for step in steps(heading) if step.path is None)
    return [line.split("  #")[0].strip() for line in block.body.splitlines() if line.strip()]


def person(python_version: str, **extra: str) -> dict[str, str]:
    """Return a person's shell for the README's commands: no virtualenv, uv on that Python.

    uv finds no pyenv Python here by itself (only pyenv's global one answers its shim), as a
    person's uv would find theirs; `extra` sets the variables the README asks for.
    """
    python = interpreter(python_version)
    if python is None:
        missing(f"no Python {python_version} on this machine (pyenv install {python_version})")
    # None of this suite's own: a generated suite would take xdist's worker id for its own.
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "VIRTUAL_ENV" and not key.startswith("PYTEST_")
    }
    return {**env, "UV_PYTHON": python, "UV_NO_PROGRESS": "1", **extra}


def run(script: str, cwd: Path, env: dict[str, str]) -> str:
    """Run the README's `script` in `cwd`, one shell that stops at an error; return its output."""
    result = subprocess.run(
        ["bash", "-ec", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
        stdin=subprocess.DEVNULL,
    )
    output = f"{result.stdout[-4000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"{script}\n{output}"
    return result.stdout + result.stderr
