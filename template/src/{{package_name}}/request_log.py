"""The one access line each request writes, and its id given or made: a WSGI middleware."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import orjson

from .logs import ENVIRON_KEY, new_request_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

REQUEST_ID_HEADER: Final = "X-Request-ID"
#: Where the middleware notes when it received the request (`time.perf_counter()`).
STARTED_KEY: Final = "request_log.started"
#: Where a feature puts fields of its own for the access line (a trace's ids, say).
FIELDS_KEY: Final = "request_log.fields"
#: The fields of a request no feature added to: one mapping, not one per request.
NO_FIELDS: Final[Mapping[str, object]] = MappingProxyType({})
#: An incoming id is kept only when it is short and cannot forge or break a log line.
WELL_FORMED_ID: Final = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")

access_log = logging.getLogger(f"{__package__}.access")


class RequestLog:
    """Give each request an id, echo it, and write one access line when the app answers.

    A WSGI middleware rather than Flask hooks: it reads and writes the raw environ and
    header list. With JSON logs it also writes the access line itself, in the schema of
    every other line, as one `write` to stdout: the `LogRecord`, filters and formatter of
    the logging path cost more than the rest of the middleware together, and orjson a tenth
    of what json.dumps does (see the README).
    """

    def __init__(self, app: WSGIApplication, log_format: str, log_query: bool = False) -> None:
        self.app = app
        self.json_lines = log_format == "json"
        self.log_query = log_query
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request through the app, timed and tagged with its id."""
        started = time.perf_counter()
        request_id = environ.get("HTTP_X_REQUEST_ID")
        if request_id is None or WELL_FORMED_ID.fullmatch(request_id) is None:
            request_id = new_request_id()
        environ[ENVIRON_KEY] = request_id
        environ[STARTED_KEY] = started
        status = "500"
        size: int | None = None

        def start(
            status_line: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            nonlocal status, size
            status = status_line[:3]
            for name, value in headers:
                if name.lower() == "content-length":
                    size = int(value)
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, exc_info)

        body = self.app(environ, start)
        if access_log.isEnabledFor(logging.INFO):
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            self.write(request_id, environ, int(status), duration_ms, size)
        return body

    def write(
        self,
        request_id: str,
        environ: WSGIEnvironment,
        status: int,
        duration_ms: float,
        size: int | None,
    ) -> None:
        """Write the access line of one answered request; `size` is None when streamed."""
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        fields = {
            **environ.get(FIELDS_KEY, NO_FIELDS),
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "size": size,
            # The app runs inside the proxy fix: this is the client the trusted proxies name.
            "client": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        if self.log_query:
            fields["query"] = environ.get("QUERY_STRING", "")
        if not self.json_lines:  # console logs are for people: take the logging path
            extra = {"request_id": request_id, **fields}
            access_log.info("%s %s %s", method, path, status, extra=extra)
            return
        line = orjson.dumps(
            {
                "level": "INFO",
                "logger": access_log.name,
                "message": f"{method} {path} {status}",
                "request_id": request_id,
                **fields,
                "timestamp": datetime.now(UTC),  # as isoformat() spells it
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
        with self._lock:
            sys.stdout.write(line.decode())
            sys.stdout.flush()
