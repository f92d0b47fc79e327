"""JSON log lines on stdout, one schema for every logger, and the request id they carry.

The id is kept here, where logging lives: the access-log middleware (request_log.py), jobs
and threads set it and read it through this module, never the reverse. So are the fields a
request adds to its lines (`log_fields`, the caller's `sub`, say), which the work it starts,
threads and jobs, carries on.
"""

from __future__ import annotations

import logging
import logging.config
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import IO, Any, Final, cast

from flask import has_request_context, request
from pythonjsonlogger.orjson import OrjsonFormatter

#: Where the access-log middleware keeps a request's id for the app: its WSGI environ.
ENVIRON_KEY: Final = "request_id"
#: The request id outside a request: set by work that one started (threads, jobs).
_carried_id: ContextVar[str | None] = ContextVar("carried_request_id", default=None)
#: The fields every line carries, in this order, whoever logs it.
JSON_FIELDS: Final = "%(levelname)s %(name)s %(message)s %(request_id)s"
RENAMED_FIELDS: Final = {"levelname": "level", "name": "logger"}
CONSOLE_FORMAT: Final = "%(asctime)s %(levelname)-8s %(name)s [%(request_id)s] %(message)s"
#: The service's own loggers (`logging.getLogger(__name__)` in its modules): LOG_LEVEL.
SERVICE_LOGGER: Final = __name__.rpartition(".")[0]
#: The most a library logs: its DEBUG floods a screen (every connection a client opens, the
#: arguments of every call) and may carry request data, so LOG_LEVEL=DEBUG is the service's.
LIBRARY_LEVEL: Final = logging.INFO
#: The field that names who made the request, where a feature checks callers: the subject
#: (`sub`) of their credentials, an opaque id, never a name or an address.
CALLER: Final = "sub"
#: Fields added to every line written in this context (a job's id and name, say).
_context_fields: ContextVar[Mapping[str, object]] = ContextVar(
    "log_fields", default=MappingProxyType({})
)


@contextmanager
def log_fields(**fields: object) -> Iterator[None]:
    """Add `fields` to every line logged inside the `with` block, in this context only."""
    token = _context_fields.set(MappingProxyType({**_context_fields.get(), **fields}))
    try:
        yield
    finally:
        _context_fields.reset(token)


def current_fields() -> Mapping[str, object]:
    """Return the fields `log_fields` adds to every line in this context."""
    return _context_fields.get()


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (None outside one), and `log_fields`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id` to the record and keep it."""
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        for name, value in _context_fields.get().items():
            setattr(record, name, value)
        return True


class DevServerAccessFilter(logging.Filter):
    """Drop the development server's access lines: the app writes its own, with the id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every werkzeug record except its per-request access line."""
        # werkzeug.serving logs each request as '<addr> - - [<date>] "%s" %s %s'.
        return not (isinstance(record.msg, str) and record.msg.endswith('] "%s" %s %s'))


def printable(value: object) -> object:
    """Return `value` with every lone surrogate in its strings written as a backslash escape."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    return value


class JsonFormatter(OrjsonFormatter):
    """python-json-logger's orjson formatter, for any text a client can send."""

    def jsonify_log_record(self, log_data: dict[str, Any]) -> str:
        """Return the line; a lone surrogate (JSON's "\\ud800") is escaped, never the line lost."""
        try:
            return super().jsonify_log_record(log_data)
        except TypeError:  # orjson refuses strings that are no UTF-8; rare, so checked late
            return super().jsonify_log_record(cast(dict[str, Any], printable(log_data)))


class ConsoleFormatter(logging.Formatter):
    """The development format, for any text: a lone surrogate cannot be written to a stream."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the line with lone surrogates escaped."""
        line = super().format(record)
        return str(printable(line))


def make_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """Return a handler writing lines in `log_format` (json or console), with request ids."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FIELDS, rename_fields=RENAMED_FIELDS, timestamp=True)
        )
    else:
        handler.setFormatter(ConsoleFormatter(CONSOLE_FORMAT))
    handler.addFilter(RequestIdFilter())
    return handler


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """Return the dictConfig that sends every logger's lines to stdout in `log_format`.

    `level` is the service's own loggers'; libraries log at it too, but never below INFO.
    """
    library_level = logging.getLevelName(max(logging.getLevelName(level), LIBRARY_LEVEL))
    return {
        "version": 1,
        # Loggers created before this call (gunicorn's, werkzeug's) must keep working.
        "disable_existing_loggers": False,
        "filters": {"dev_server_access": {"()": DevServerAccessFilter}},
        "handlers": {
            "stdout": {"()": make_handler, "log_format": log_format, "stream": "ext://sys.stdout"}
        },
        "loggers": {
            "werkzeug": {"filters": ["dev_server_access"]},
            SERVICE_LOGGER: {"level": level},
        },
        "root": {"level": library_level, "handlers": ["stdout"]},
    }


def configure_logging(level: str, log_format: str) -> None:
    """Send every logger in this process to stdout, replacing earlier handlers."""
    logging.config.dictConfig(logging_config(level, log_format))


def current_request_id() -> str | None:
    """Return the id of the request being served, or of the one that started this work."""
    if not has_request_context():
        return _carried_id.get()
    request_id: str | None = request.environ.get(ENVIRON_KEY)
    return request_id


def new_request_id() -> str:
    """Return a fresh id, for work no request started (a scheduled job, a command)."""
    return os.urandom(16).hex()


@contextmanager
def request_id_scope(request_id: str | None) -> Iterator[None]:
    """Make `request_id` the current one outside a request, for the `with` block."""
    token = _carried_id.set(request_id)
    try:
        yield
    finally:
        _carried_id.reset(token)
