"""JSON bodies for every HTTP error and every unhandled exception."""

from __future__ import annotations

import logging

from flask import Flask, g, json
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Answer every error `app` raises with a JSON body."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unhandled)


def handle_http_error(error: HTTPException) -> Response:
    """Answer an HTTP error with its status, a JSON body, and its own headers (Allow, ...)."""
    response = error.get_response()
    status = error.code or 500
    response.data = json.dumps(
        {
            "error": error.name,
            "message": error.description,
            "status": status,
            "request_id": g.get("request_id"),
        }
    ).encode()
    response.content_type = "application/json"
    return response


def handle_unhandled(error: Exception) -> Response:
    """Log an unexpected exception once, with its traceback, and answer a bare 500."""
    log.error("Unhandled %s", type(error).__name__, exc_info=error)
    # The client learns that it failed and the id to report, never the traceback.
    return handle_http_error(InternalServerError())
