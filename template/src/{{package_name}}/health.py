"""Liveness and readiness endpoints for the orchestrator."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, current_app

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

#: A readiness check returns when its dependency answers and raises when it does not.
ReadinessCheck = Callable[[], object]


def add_readiness_check(app: Flask, name: str, check: ReadinessCheck) -> None:
    """Make `/readyz` of `app` fail while `check` raises."""
    app.extensions.setdefault("readiness_checks", {})[name] = check


@bp.get("/livez")
def live() -> dict[str, str]:
    """Answer 200 while the process serves requests; touch nothing external."""
    return {"status": "ok"}


@bp.get("/readyz")
def ready() -> tuple[dict[str, object], int]:
    """Run every readiness check: 200 when all pass, 503 naming each that failed."""
    checks: dict[str, ReadinessCheck] = current_app.extensions.get("readiness_checks", {})
    results: dict[str, str] = {}
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
        return {"status": "unavailable", "failed": failed, "checks": results}, 503
    return {"status": "ok", "checks": results}, 200
