"""Request ids, and the one access line each request writes: a WSGI middleware."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from flask import has_request_context, request

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

REQUEST_ID_HEADER: Final = "X-Request-ID"
#: Where the middleware keeps the id for the app: the request's WSGI environ.
ENVIRON_KEY: Final = "request_id"
#: An incoming id is kept only when it is short and cannot forge or break a log line.
_WELL_FORMED_ID: Final = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")

access_log = logging.getLogger(f"{__package__}.access")


class RequestLog:
    """Give each request an id, echo it, and write one access line when the app answers.

    A WSGI middleware rather than Flask hooks: it reads and writes the raw environ and
    header list, so the per-request cost stays a few microseconds.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request through the app, timed and tagged with its id."""
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID")
        if incoming is None or _WELL_FORMED_ID.fullmatch(incoming) is None:
            incoming = uuid.uuid4().hex
        request_id: str = incoming
        environ[ENVIRON_KEY] = request_id
        status = "500"

        def start(
            status_line: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            nonlocal status
            status = status_line[:3]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, exc_info)

        body = self.app(environ, start)
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": int(status),
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            },
        )
        return body


def current_request_id() -> str | None:
    """Return the id of the request being served, or None outside a request."""
    if not has_request_context():
        return None
    request_id: str | None = request.environ.get(ENVIRON_KEY)
    return request_id
