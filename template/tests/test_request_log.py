"""Request ids and access lines: one line per request, the id echoed and logged."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import LogLines


def test_a_request_id_is_generated_and_echoed(client: FlaskClient) -> None:
    first = client.get("/livez").headers["X-Request-ID"]
    second = client.get("/livez").headers["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_a_well_formed_request_id_is_kept(client: FlaskClient) -> None:
    response = client.get("/livez", headers={"X-Request-ID": "edge-7f3a:42"})
    assert response.headers["X-Request-ID"] == "edge-7f3a:42"


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("x" * 129, id="too-long"),
        pytest.param("id with spaces", id="spaces"),
        pytest.param('inject"}{"level":"ERROR', id="json-injection"),
        pytest.param("", id="empty"),
    ],
)
def test_a_malformed_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get("/livez", headers={"X-Request-ID": incoming})
    replaced = response.headers["X-Request-ID"]
    assert replaced != incoming
    assert len(replaced) == 32


def test_one_access_line_per_request(client: FlaskClient, json_logs: LogLines) -> None:
    response = client.get("/livez?verbose=1", headers={"X-Request-ID": "abc-1"})
    client.get("/no-such-page")
    lines = [line for line in json_logs.all() if line["logger"].endswith(".access")]
    assert len(lines) == 2
    first, second = lines
    assert first["request_id"] == "abc-1" == response.headers["X-Request-ID"]
    assert first["method"] == "GET"
    assert first["path"] == "/livez"
    assert first["status"] == 200
    assert first["duration_ms"] >= 0
    assert first["message"] == "GET /livez 200"
    assert second["status"] == 404
    assert second["request_id"] != first["request_id"]
