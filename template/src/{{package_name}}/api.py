"""The Flask class of a JSON API: bounded bodies, strict JSON, no HTML answers."""

from __future__ import annotations

import io
import math
from typing import IO, Any, Final

import flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

#: Bytes read from the server at a time while a chunked body is buffered.
READ_SIZE: Final = 64 * 1024


class Request(flask.Request):
    """Flask's request, holding a chunked body to MAX_CONTENT_LENGTH like any other."""

    @cached_property
    def stream(self) -> IO[bytes]:
        """Return the body stream; a chunked body is read whole first, within the limit."""
        if self.content_length is not None or "wsgi.input_terminated" not in self.environ:
            return get_input_stream(self.environ, max_content_length=self.max_content_length)
        # werkzeug stops reading a chunked body at max_content_length without a word, so a
        # padded body is silently cut to a valid one, and the server's chunk-parsing errors
        # are not OSErrors it expects: both end here, as 413 and 400.
        return io.BytesIO(read_chunked(self.environ["wsgi.input"], self.max_content_length))


def read_chunked(stream: IO[bytes], limit: int | None) -> bytes:
    """Read a server-terminated body whole; 413 past `limit`, 400 when malformed."""
    body = bytearray()
    try:
        while chunk := stream.read(READ_SIZE):
            body += chunk
            if limit is not None and len(body) > limit:
                raise RequestEntityTooLarge()
    except RequestEntityTooLarge:
        raise
    except Exception as error:  # each server raises its own types (gunicorn: bare Exception)
        raise BadRequest("The chunked request body is malformed.") from error
    return bytes(body)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # 1e999: no float holds it, and Python would read Infinity
        raise ValueError(f"{text[:32]} is too large for a number")
    return number


class StrictJSON(DefaultJSONProvider):
    """Flask's JSON, refusing NaN, Infinity, numbers past a float and too-deep nesting."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse `s`; every way it can be bad raises ValueError (a 400 for a request)."""
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            # The parser recurses once per level: [[[[...]]]] would otherwise be a 500.
            raise ValueError("the JSON is nested too deeply") from None


class Response(flask.Response):
    """Flask's response with no default type: a body without one is a bug, not HTML."""

    default_mimetype = None


class JsonApi(flask.Flask):
    """Flask for a JSON API: the request, response and JSON classes above."""

    request_class = Request
    response_class = Response
    json_provider_class = StrictJSON

    def __init__(self, import_name: str, **options: Any) -> None:
        """Create the app; it serves no static files, so it has no /static route."""
        options.setdefault("static_folder", None)
        super().__init__(import_name, **options)

    def make_default_options_response(self) -> flask.Response:
        """Answer OPTIONS with 204 and Allow, and no body to mistake for HTML."""
        response = super().make_default_options_response()
        response.status_code = 204
        return response
