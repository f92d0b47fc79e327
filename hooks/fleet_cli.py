"""`python -m hooks fleet status|update PATH...`: many services at once, for people and scripts."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from hooks.fleet import State, Status, inspect
from hooks.fleet_update import SUBSETS, Outcome, update

app = typer.Typer(
    help="Which generated services are behind the template, and their updates.",
    no_args_is_help=True,
)
Result = TypeVar("Result", Status, Outcome)
#: The answers a table shows: the choices and switches (free text stays in --format json).
SHOWN = ("python_version", "worker_class", "database", "celery", "celery_broker", "ci")


class Format(StrEnum):
    """How fleet lays out its report."""

    TABLE = "table"
    JSON = "json"


Paths = Annotated[list[str], typer.Argument(help="Service folders or git URLs.")]
FormatOption = Annotated[Format, typer.Option("--format", help="table (people) or json.")]
JobsOption = Annotated[
    int | None, typer.Option(min=1, help="Services checked at once (default: the CPUs).")
]


def over_fleet(
    paths: list[str], work: Callable[[str], Result], jobs: int | None, verb: str
) -> list[Result]:
    """Run `work` on each path, `jobs` at a time; say on stderr what is done; keep the order."""
    results: dict[str, Result] = {}
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {pool.submit(work, path): path for path in paths}
        for done, future in enumerate(as_completed(futures), start=1):
            path = futures[future]
            results[path] = future.result()
            typer.echo(f"[{done}/{len(paths)}] {verb} {path}", err=True)
    return [results[path] for path in paths]


def update_column(status: Status) -> str:
    """Say in a few words what an update to the newest release would do."""
    if status.state is State.CURRENT:
        return "current"
    if status.state is State.BLOCKED and not status.changed:
        return "-"
    if not status.conflicts:
        return f"clean ({status.changed} files)"
    files = ", ".join(f"{path} {count}" for path, count in status.conflicts.items())
    return f"{sum(status.conflicts.values())} conflicts: {files}"


def table(rows: Iterable[list[str] | str], header: list[str]) -> str:
    """Lay rows out in aligned columns under `header`; a string row is a note, as it is."""
    lines = [header, *rows]
    cells = [line for line in lines if isinstance(line, list)]
    widths = [max(len(line[column]) for line in cells) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        if isinstance(line, list)
        else line
        for line in lines
    )


def status_rows(statuses: list[Status]) -> Iterable[list[str] | str]:
    """Return a table row per service, and a row under it for its answers or its problem."""
    for status in statuses:
        behind = "?" if status.behind is None else str(status.behind)
        doctor = "-" if status.doctor is None else str(status.doctor)
        yield [status.service, status.release or "-", behind if status.release else "-",
               update_column(status), doctor]  # fmt: skip
        shown = " ".join(f"{key}={status.answers[key]}" for key in SHOWN if key in status.answers)
        yield f"  ! {status.problem}" if status.problem else f"  {shown}"


@app.command()
def status(paths: Paths, output: FormatOption = Format.TABLE, jobs: JobsOption = None) -> None:
    """Say each service's release, how far behind it is, whether an update would apply, doctor.

    Exit status: 0 all current, 1 some behind (every update would apply cleanly), 3 some would
    conflict, 4 some cannot be updated as they are (the report says why).
    """
    statuses = over_fleet(paths, inspect, jobs, "checked")
    if output is Format.JSON:
        typer.echo(json.dumps([status.as_json() for status in statuses], indent=2))
    else:
        header = ["service", "release", "behind", "update to the newest release", "doctor"]
        typer.echo(table(status_rows(statuses), header))
    raise typer.Exit(max(status.state for status in statuses))


def outcome_rows(outcomes: list[Outcome]) -> Iterable[list[str] | str]:
    """Return a table row per service: what was done, on which branch, which checks passed."""
    for outcome in outcomes:
        status = outcome.status
        if outcome.updated:
            done = f"updated {status.release} to {status.newest}"
        elif status.state is State.CURRENT:
            done = "current: nothing to do"
        else:
            done = "left alone"
        checks = " ".join(
            f"{name}:{'ok' if ok else 'FAILED'}" for name, ok in outcome.checks.items()
        )
        yield [status.service, done, outcome.branch if outcome.updated else "-", checks or "-"]
        reason = outcome.failure or status.problem
        if not reason and status.state is State.CONFLICT:
            reason = f"would conflict: {update_column(status)}"
        if reason and not outcome.updated:
            yield f"  ! {reason}"


@app.command(name="update")
def update_command(
    paths: Paths,
    checks: Annotated[
        str,
        typer.Option(
            help="The service's checks on the branch: all (uv sync, ruff, ruff format, mypy, "
            "pytest), lint (all but pytest) or none."
        ),
    ] = "all",
    data_file: Annotated[
        Path | None,
        typer.Option(
            "--data-file",
            exists=True,
            dir_okay=False,
            help="A platform's presets (examples/platform-presets.yml): answers every update "
            "takes, over each service's own.",
        ),
    ] = None,
    output: FormatOption = Format.TABLE,
    jobs: JobsOption = None,
) -> None:
    """Update each service that would update cleanly on a branch `template-update/<release>`.

    Exit status: 0 when every service is current or updated with its checks passing, 1 else.
    """
    if checks not in SUBSETS:
        typer.echo(f"--checks takes {', '.join(SUBSETS)}; got {checks}", err=True)
        raise typer.Exit(2)
    # Absolute: each update runs in its own service's folder.
    answers = ("--data-file", str(data_file.resolve())) if data_file else ()
    outcomes = over_fleet(paths, lambda path: update(path, SUBSETS[checks], answers), jobs, "done")
    if output is Format.JSON:
        typer.echo(json.dumps([outcome.as_json() for outcome in outcomes], indent=2))
    else:
        typer.echo(table(outcome_rows(outcomes), ["service", "done", "branch", "checks"]))
    good = all(
        (outcome.updated and all(outcome.checks.values())) or outcome.status.state is State.CURRENT
        for outcome in outcomes
    )
    raise typer.Exit(0 if good else 1)
