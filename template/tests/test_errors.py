"""Errors: every HTTP error and every unhandled exception answers JSON, never a traceback."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.logs import LogLines


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """Add a route that raises, as a bug in a view would."""

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("the api token is hunter2")

    return app


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        pytest.param("GET", "/no-such-page", 404, "Not Found", id="404"),
        pytest.param("POST", "/livez", 405, "Method Not Allowed", id="405"),
    ],
)
def test_http_errors_answer_json(
    client: FlaskClient, method: str, path: str, status: int, error: str
) -> None:
    response = client.open(path, method=method, headers={"X-Request-ID": "req-123"})
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert body["error"] == error
    assert body["status"] == status
    assert body["request_id"] == "req-123"
    assert body["message"]


def test_405_keeps_its_allow_header(client: FlaskClient) -> None:
    response = client.post("/livez")
    assert "GET" in response.headers["Allow"]


def test_unhandled_exception_answers_a_bare_500(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_json()
    assert body["status"] == 500
    assert body["error"] == "Internal Server Error"
    assert body["request_id"] == response.headers["X-Request-ID"]
    text = response.get_data(as_text=True)
    assert "hunter2" not in text
    assert "Traceback" not in text


def test_unhandled_exception_is_logged_once_with_traceback(
    failing_app: Flask, json_logs: LogLines
) -> None:
    response = failing_app.test_client().get("/boom")
    errors = [line for line in json_logs.all() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == response.headers["X-Request-ID"]
    assert "RuntimeError: the api token is hunter2" in errors[0]["exc_info"]
