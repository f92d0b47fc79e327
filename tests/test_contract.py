"""The API contract: schemathesis holds each served variant to the document it publishes.

Each variant is rendered, installed, migrated and served under a real gunicorn on 127.0.0.1
(the fault tests' `serve`), then schemathesis, a tool nobody here wrote, reads its
GET /openapi.json and sends every operation the examples in the document, its coverage
cases and generated requests, valid and invalid, then stateful sequences along the links it
infers (create, read, update, delete). Every check it has is on: no 5xx; status codes, content
types, headers (X-Request-ID) and bodies as documented; valid data accepted, invalid data
refused. Each operation gets at most MAX_EXAMPLES generated cases per phase. A service that
needs bearer tokens (auth=oidc) trusts a stand-in identity provider, and schemathesis sends a
token granting every scope the document names.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.support.commands import tool
from tests.support.oidc import TEST_CALLER, IdentityProvider
from tests.support.served import Server, install, migrate, postgres_database, serve
from tests.support.tokens import bad_tokens, bearer

pytestmark = pytest.mark.slow

#: Generated cases per operation and phase: a mismatch shows within tens; CI time is bounded.
MAX_EXAMPLES = 25
#: The broker of the Celery variant; each run gets a queue of its own there.
REDIS_URL = "redis://127.0.0.1:6379/14"
#: What the tokens of the oidc variant are for: the default project's slug, OIDC_AUDIENCE.
AUDIENCE = "example-service"


@pytest.fixture(
    scope="module",
    params=[
        "defaults",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("celery-redis", marks=pytest.mark.broker),
        "oidc",
    ],
)
def served(
    request: pytest.FixtureRequest, copie_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Serve one variant with two workers, its database migrated (its broker, its provider)."""
    name: str = request.param
    project = install(copie_session, name)
    folder = tmp_path_factory.mktemp(f"contract-{name}")
    with ExitStack() as stack:
        if name == "postgresql":
            url = stack.enter_context(postgres_database(project))
        else:
            url = f"sqlite:///{folder / 'db.sqlite3'}"
        env = {}
        if project.answers.get("celery"):
            env = {
                "CELERY_BROKER_URL": REDIS_URL,
                "CELERY_QUEUE": f"contract-{secrets.token_hex(6)}",
            }
        if project.answers.get("auth") == "oidc":
            env["OIDC_ISSUER"] = request.getfixturevalue("provider").issuer
        migrate(project, url, **env)
        yield stack.enter_context(
            serve(project, folder, WEB_CONCURRENCY="2", DATABASE_URL=url, **env)
        )


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    """A stand-in identity provider, for the variant that needs one."""
    running = IdentityProvider(AUDIENCE).start()
    yield running
    running.stop()


def secured(document: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Return the scopes of each operation the document says needs a bearer token."""
    return {
        (method, path): scopes
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for requirement in operation.get("security", [])
        for scheme, scopes in requirement.items()
        if scheme == "bearer"
    }


def test_the_document_is_valid_openapi_3_1(served: Server) -> None:
    """openapi-spec-validator, against the OpenAPI 3.1 schema."""
    document = served.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    validate(document)


#: schemathesis's own list of answers that reject invalid data, and 414 and 431: gunicorn
#: refuses a request line past 4094 bytes, or a header past 8190, before the app sees it (a
#: long invalid query, say), and the document says so. schemathesis once sent a 5,751-byte
#: query of the wrong types.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428"]
REJECTIONS += ["429", "431", "5xx"]


def test_the_service_keeps_its_contract(
    served: Server, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """schemathesis, every check on, every operation; its own report when it finds something."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(f"[checks.negative_data_rejection]\nexpected-statuses = {REJECTIONS!r}\n")
    document = served.get("/openapi.json").json()
    caller = []
    if scopes := {scope for needed in secured(document).values() for scope in needed}:
        provider: IdentityProvider = request.getfixturevalue("provider")
        token = provider.sign(scope=" ".join(sorted(scopes)), exp=int(time.time()) + 3600)
        caller = [f"--header=Authorization: Bearer {token}"]
    # All but GET /openapi.json, which schemathesis leaves out: it read it to start.
    operations = sum(len(item) for item in document["paths"].values()) - 1
    result = subprocess.run(
        [
            tool("schemathesis"),
            f"--config-file={config}",
            "run",
            f"http://{served.host}:{served.port}/openapi.json",
            "--checks=all",
            f"--max-examples={MAX_EXAMPLES}",
            "--workers=1",
            "--request-timeout=10",
            "--generation-database=none",
            "--no-color",
            *caller,
        ],
        cwd=tmp_path,  # anything it writes stays out of the repository
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"{report}\nThe server's log ends:\n{served.tail()}"
    assert re.search(rf"Tested: {operations}\b", report), report
    assert "No issues found" in report, report
    print(report.partition("SUMMARY")[2])  # shown with -rA: what each variant ran
    # The service logged no unhandled exception while schemathesis ran.
    errors = [line for line in served.lines() if line.get("level") == "ERROR"]
    assert not errors, json.dumps(errors, indent=1)
    if caller:  # the token was taken: the operations ran for its subject
        assert any(
            line.get("sub") == TEST_CALLER and line["status"] < 300 for line in served.lines()
        )


@pytest.mark.parametrize("served", ["oidc"], indirect=True)
def test_every_bad_token_gets_the_documented_401(
    served: Server, provider: IdentityProvider
) -> None:
    """Each operation that needs a token answers each kind of bad one as it documents a 401."""
    document = served.get("/openapi.json").json()
    required = set(document["components"]["schemas"]["ErrorBody"]["required"])
    operations = secured(document)
    assert operations, "the document asks no operation for a bearer token"
    for (method, path), scopes in operations.items():
        operation = document["paths"][path][method]
        documented = operation["responses"]["401"]
        headers = {name.lower() for name in documented["headers"]}
        assert "www-authenticate" in headers
        target = re.sub(r"\{[^}]+\}", "1", path)
        body = b"{}" if "requestBody" in operation else None
        for name, token in bad_tokens(provider, " ".join(scopes)).items():
            sent = {**bearer(token), "Content-Type": "application/json"}
            reply = served.request(method.upper(), target, body, sent)
            where = (method, path, name)
            assert reply.status == 401, (*where, reply)
            assert reply.headers["content-type"] in documented["content"], where
            assert reply.json().keys() == required, where
            assert headers <= reply.headers.keys(), where
            assert 'error="invalid_token"' in reply.headers["www-authenticate"], where
