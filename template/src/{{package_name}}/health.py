"""Liveness and readiness endpoints for the orchestrator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, Literal

from flask import Blueprint, Flask, current_app

# pydantic reads TypedDicts for the API document from typing_extensions before 3.12.
from typing_extensions import TypedDict

from .openapi import Answer, operation

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
#: The orchestrator's probes: no traffic.
PROBE_PATHS: Final = ("/livez", "/readyz")

#: A readiness check returns when its dependency answers and raises when it does not.
ReadinessCheck = Callable[[], object]


class Liveness(TypedDict):
    """The body of GET /livez."""

    status: Literal["ok"]


class Readiness(TypedDict):
    """The body of GET /readyz: each check's result, and those that failed (503 only)."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Literal["ok", "failed"]]


class Unready(Readiness):
    """The body of GET /readyz while a check fails."""

    failed: list[str]


READY: Readiness = {"status": "ok", "checks": {"upstream": "ok"}}
UNREADY: Unready = {
    "status": "unavailable",
    "failed": ["upstream"],
    "checks": {"upstream": "failed"},
}


def add_readiness_check(app: Flask, name: str, check: ReadinessCheck) -> None:
    """Make `/readyz` of `app` fail while `check` raises."""
    app.extensions.setdefault("readiness_checks", {})[name] = check


@bp.get("/livez")
@operation({200: Answer(Liveness, example={"status": "ok"})}, public=True)
def live() -> Liveness:
    """Answer 200 while the process serves requests; touch nothing external."""
    return {"status": "ok"}


@bp.get("/readyz")
@operation(
    {200: Answer(Readiness, example=READY), 503: Answer(Unready, example=UNREADY)}, public=True
)
def ready() -> tuple[Readiness, int]:
    """Run every readiness check: 200 when all pass, 503 naming each that failed."""
    checks: dict[str, ReadinessCheck] = current_app.extensions.get("readiness_checks", {})
    results: dict[str, Literal["ok", "failed"]] = {}
    for name, check in checks.items():
        try:
            check()
        except Exception:  # any failure means "not ready"; the log keeps the reason
            log.warning("Readiness check %r failed", name, exc_info=True)
            results[name] = "failed"
        else:
            results[name] = "ok"
    failed = sorted(name for name, result in results.items() if result == "failed")
    if failed:
        unready: Unready = {"status": "unavailable", "failed": failed, "checks": results}
        return unready, 503
    return {"status": "ok", "checks": results}, 200
