"""Request ids, and the one access line each request writes."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Final

from flask import Flask, Response, g, request

REQUEST_ID_HEADER: Final = "X-Request-ID"
#: An incoming id is kept only when it is short and cannot forge or break a log line.
_WELL_FORMED_ID: Final = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")

access_log = logging.getLogger(f"{__package__}.access")


def init_app(app: Flask) -> None:
    """Give every request of `app` an id, echo it, and log one access line per request."""
    app.before_request(assign_request_id)
    app.after_request(log_request)


def assign_request_id() -> None:
    """Keep the caller's well-formed X-Request-ID, or make a new one."""
    incoming = request.headers.get(REQUEST_ID_HEADER)
    if incoming is None or _WELL_FORMED_ID.fullmatch(incoming) is None:
        incoming = uuid.uuid4().hex
    g.request_id = incoming
    g.request_started = time.perf_counter()


def log_request(response: Response) -> Response:
    """Echo the request id on `response` and write the request's access line."""
    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before assign_request_id ran
        assign_request_id()
        request_id = g.request_id
    response.headers[REQUEST_ID_HEADER] = request_id
    duration_ms = round((time.perf_counter() - g.request_started) * 1000, 3)
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response
