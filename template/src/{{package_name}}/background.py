"""Work outside the request, in a thread or a pool: with the app context and the request id.

A function handed to `threading.Thread` or `executor.submit` from a view runs after the
request context is gone (or beside it, in another thread, where it never was): `request`,
`session` and `current_app` raise "Working outside of ... context". `carry(fn)` captures
the app, the request id and the request's log fields when called in the view, and runs
`fn` inside `app.app_context()` with them on every log line it writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import ParamSpec, TypeVar

from flask import current_app

from .logs import current_fields, current_request_id, log_fields, request_id_scope

P = ParamSpec("P")
T = TypeVar("T")


class RequestBoundError(RuntimeError):
    """Background work touched `request` or `session`, which end with the request."""


def carry(fn: Callable[P, T]) -> Callable[P, T]:
    """Return `fn` bound to the current app, request id and log fields, to run later."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    request_id = current_request_id()
    fields = current_fields()

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with app.app_context(), request_id_scope(request_id), log_fields(**fields):
            try:
                return fn(*args, **kwargs)
            except RuntimeError as error:
                if not str(error).startswith("Working outside of request context"):
                    raise
                raise RequestBoundError(
                    f"{fn.__qualname__} ran through background.carry and used `request` or "
                    "`session`, which end with the request: read what it needs in the view "
                    "and pass it as an argument."
                ) from error

    return run


def submit(executor: Executor, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
    """Run `fn(*args, **kwargs)` in `executor`, with the app context and the request id."""
    return executor.submit(carry(fn), *args, **kwargs)


def start_thread(fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> threading.Thread:
    """Start `fn(*args, **kwargs)` in a new thread, with the app context and the request id."""
    thread = threading.Thread(target=carry(fn), args=args, kwargs=kwargs, daemon=False)
    thread.start()
    return thread
