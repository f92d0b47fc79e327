"""JSON bodies for every HTTP error and every unhandled exception."""

from __future__ import annotations

import logging

from flask import Flask, current_app, got_request_exception, json

# pydantic reads TypedDicts for the API document from typing_extensions before 3.12.
from typing_extensions import TypedDict
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from .dependencies import DependencyUnavailableError
from .logs import current_request_id

log = logging.getLogger(__name__)


class ErrorBody(TypedDict):
    """The body of every error answer, 4xx or 5xx."""

    error: str
    message: str
    status: int
    #: The answer's X-Request-ID; null only outside a request.
    request_id: str | None


class InvalidBody(ErrorBody):
    """The body of a 422: every field's problems, by field ("body" for the whole body)."""

    fields: dict[str, list[str]]


def init_app(app: Flask) -> None:
    """Answer every error `app` raises with a JSON body."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DependencyUnavailableError, handle_unavailable)
    app.register_error_handler(Exception, handle_unhandled)


def error_body(status: int, message: str, **extra: object) -> bytes:
    """Return the JSON every error answer shares: error, message, status and request_id."""
    body: ErrorBody = {
        "error": HTTP_STATUS_CODES.get(status, "Unknown Error"),
        "message": message,
        "status": status,
        "request_id": current_request_id(),
    }
    return json.dumps({**body, **extra}).encode()


def error_response(status: int, message: str, **extra: object) -> Response:
    """Return an error answer with `status`, for errors no HTTPException describes."""
    return Response(error_body(status, message, **extra), status, mimetype="application/json")


def handle_http_error(error: HTTPException) -> Response:
    """Answer an HTTP error with its status, a JSON body, and its own headers (Allow, ...)."""
    response = error.get_response()
    response.set_data(error_body(error.code or 500, error.description or ""))
    response.content_type = "application/json"
    return response


def handle_unavailable(error: DependencyUnavailableError) -> Response:
    """Answer 503 with Retry-After while a dependency cannot be reached; log it in one line."""
    # No traceback: the cause is known, and an outage must not write one per request.
    log.warning("%s", error)
    message = f"The {error.name} is unavailable; try again in {error.retry_after} s."
    response = error_response(503, message)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def handle_unhandled(error: Exception) -> Response:
    """Log an unexpected exception once, with its traceback, and answer a bare 500."""
    # Flask signals got_request_exception only when no handler takes the exception; this one
    # takes them all, so it signals instead, for error reporters that listen to it.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=error)
    log.error("Unhandled %s", type(error).__name__, exc_info=error)
    # The client learns that it failed and the id to report, never the traceback.
    return handle_http_error(InternalServerError())
