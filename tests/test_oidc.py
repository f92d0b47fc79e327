"""Callers of a served auth=oidc service: a real identity provider, real tokens, real gunicorn.

The stand-in provider (tests/support/oidc.py) serves discovery and a key set on 127.0.0.1 and
signs tokens; the service runs under gunicorn with three workers in production, fetches the
keys itself and verifies each token with PyJWT: nothing is mocked. Each worker keeps its own
keys, so what a test proves of "the service" it proves of every worker: a thin WSGI wrapper
names the worker that answered (X-Worker), and requests go out until each has answered.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.oidc import TEST_CALLER, IdentityProvider, SigningKey
from tests.support.projects import Rendered
from tests.support.served import PACKAGE, Reply, Server, install, migrate, serve, wait_until
from tests.support.tokens import bad_tokens, bearer

pytestmark = pytest.mark.slow

WORKERS = 3
#: OIDC_JWKS_TTL and OIDC_JWKS_MIN_INTERVAL, small enough to wait out in a test.
TTL = 2
MIN_INTERVAL = 1
#: Slack past a wait the service's own clock decides (a second's worth, on a busy machine).
MARGIN = 0.3
#: How long forged key ids flood the service.
FLOOD_SECONDS = 5.0
ITEMS = "/api/items"
REALM = 'Bearer realm="example-service"'
#: The service, answering as ever, with the pid of the worker that answered in a header.
WORKER_APP = f"""\
import os

from {PACKAGE}.wsgi import app as service


def app(environ, start_response):
    def start(status, headers, exc_info=None):
        headers.append(("X-Worker", str(os.getpid())))
        return start_response(status, headers, exc_info)

    return service(environ, start)
"""


@pytest.fixture(scope="module")
def project(copie_session: Any) -> Rendered:
    """The default answers with auth=oidc: SQLite, gthread workers."""
    return install(copie_session, "oidc")


@pytest.fixture
def provider(project: Rendered) -> Iterator[IdentityProvider]:
    """A stand-in identity provider issuing tokens for the service."""
    running = IdentityProvider(project.slug).start()
    yield running
    running.stop()


@contextmanager
def serving(project: Rendered, issuer: str, folder: Path) -> Iterator[Server]:
    """Serve `project` with three workers trusting `issuer`, keys cached TTL seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "worker_app.py").write_text(WORKER_APP)
    url = f"sqlite:///{folder / 'db.sqlite3'}"
    migrate(project, url, OIDC_ISSUER=issuer)
    env = {"DATABASE_URL": url, "OIDC_ISSUER": issuer, "WEB_CONCURRENCY": str(WORKERS)}
    env |= {"OIDC_JWKS_TTL": str(TTL), "OIDC_JWKS_MIN_INTERVAL": str(MIN_INTERVAL)}
    with serve(project, folder, "--pythonpath", str(folder), "worker_app:app", **env) as server:
        server.wait_for_workers(lambda pids: len(pids) == WORKERS, "three workers")
        yield server


@pytest.fixture
def served(project: Rendered, provider: IdentityProvider, tmp_path: Path) -> Iterator[Server]:
    """The service, trusting the provider."""
    with serving(project, provider.issuer, tmp_path / "served") as server:
        yield server


def worker(reply: Reply) -> int:
    """Return the pid of the worker that answered."""
    return int(reply.headers["x-worker"])


def from_every_worker(
    server: Server, send: Callable[[], Reply], timeout: float = 10
) -> dict[int, list[Reply]]:
    """Call `send` from several threads until every worker has answered; group the replies."""
    workers = server.workers()
    answered: dict[int, list[Reply]] = {}

    def every_worker_answered() -> bool:
        with ThreadPoolExecutor(WORKERS * 2) as pool:
            for reply in pool.map(lambda _: send(), range(WORKERS * 4)):
                answered.setdefault(worker(reply), []).append(reply)
        return answered.keys() == workers

    wait_until(every_worker_answered, f"not every worker answered: {list(answered)}", timeout)
    return answered


def read_items(server: Server, token: str) -> Callable[[], Reply]:
    """Return a function that sends GET /api/items with `token`."""
    return lambda: server.request("GET", ITEMS, headers=bearer(token))


def statuses(answered: dict[int, list[Reply]]) -> set[int]:
    """Return the statuses of every reply."""
    return {reply.status for replies in answered.values() for reply in replies}


def challenge(reply: Reply, status: int = 401) -> str:
    """Check `reply` is the service's JSON error with `status`; return its challenge."""
    assert reply.status == status, reply
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert body["status"] == status
    assert body["request_id"] == reply.headers["x-request-id"]
    found = reply.headers["www-authenticate"]
    assert found.startswith(REALM)
    return found


class UnlabelledKey(SigningKey):
    """A key whose JWK names no algorithm: `alg` is optional (RFC 7517), some providers omit it."""

    def jwk(self) -> dict[str, Any]:
        """Return the public JWK without `alg`."""
        return {name: value for name, value in super().jwk().items() if name != "alg"}


@pytest.mark.parametrize("labelled", [True, False], ids=["keys-name-their-alg", "keys-name-none"])
def test_every_bad_token_is_a_401_invalid_token(
    served: Server, provider: IdentityProvider, labelled: bool
) -> None:
    """Each kind of bad token is refused as invalid_token with a description, never a 5xx."""
    if not labelled:
        provider.keys[:] = [UnlabelledKey(key.kid, key.private) for key in provider.keys]
    assert served.request("GET", ITEMS, headers=bearer(provider.sign())).status == 403
    for name, token in bad_tokens(provider, "items:read").items():
        reply = served.request("GET", ITEMS, headers=bearer(token))
        assert reply.status == 401, (name, reply)
        found = challenge(reply)
        assert 'error="invalid_token", error_description="' in found, (name, found)
        assert token[-16:] not in reply.body.decode(), name
    # A token anywhere but the Authorization header is no token: no error code (RFC 6750).
    token = provider.sign(scope="items:read")
    reply = served.request("GET", f"{ITEMS}?access_token={token}")
    assert challenge(reply) == REALM
    reply = served.request("GET", ITEMS, headers={"Cookie": f"access_token={token}"})
    assert challenge(reply) == REALM
    lines = served.lines()
    assert not [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}]
    assert not [line for line in lines if "eyJ" in str(line)]  # no token, nor a piece of one


def test_a_100_kb_token_is_gunicorn_s_431_in_the_json_error(
    served: Server, provider: IdentityProvider
) -> None:
    """gunicorn refuses the header before the app reads it, in the service's JSON error."""
    token = provider.sign(scope="items:read", padding="A" * 100_000)
    reply = served.request("GET", ITEMS, headers=bearer(token))
    assert reply.status == 431, reply
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert (body["status"], body["error"], body["request_id"]) == (
        431,
        "Request Header Fields Too Large",
        None,
    )
    assert "headers" in body["message"]
    assert not [line for line in served.lines() if line.get("path") == ITEMS]


def test_a_token_with_the_scope_reads_and_one_without_is_a_403(
    served: Server, provider: IdentityProvider
) -> None:
    """The scope decides; the access line names the caller's sub, never the token."""
    token = provider.sign(scope="items:read", sub="caller-7")
    reply = served.request("GET", ITEMS, headers={**bearer(token), "X-Request-ID": "reader"})
    assert reply.status == 200, reply
    assert reply.json()["items"] == []
    writer = provider.sign(scope="items:write other:read")
    reply = served.request("GET", ITEMS, headers={**bearer(writer), "X-Request-ID": "writer"})
    found = challenge(reply, 403)
    assert found == f'{REALM}, error="insufficient_scope", scope="items:read"'
    access = served.logged(lambda line: line.get("path") == ITEMS and line["status"] == 403)
    assert access["sub"] == TEST_CALLER
    access = served.logged(lambda line: line.get("path") == ITEMS and line["status"] == 200)
    assert (access["request_id"], access["sub"]) == ("reader", "caller-7")
    for sent in (token, writer):
        assert not [line for line in served.lines() if sent.split(".")[2] in str(line)]


def test_a_rotated_key_is_taken_by_every_worker_and_a_dropped_one_stops(
    served: Server, provider: IdentityProvider
) -> None:
    """No restart: the new key's tokens pass everywhere; the old key's fail once it is gone."""
    old = provider.sign(scope="items:read")
    assert statuses(from_every_worker(served, read_items(served, old))) == {200}
    provider.rotate()
    time.sleep(MIN_INTERVAL + MARGIN)  # a worker that just fetched may fetch again
    new = provider.sign(scope="items:read")
    assert statuses(from_every_worker(served, read_items(served, new))) == {200}
    provider.keys.pop(0)
    time.sleep(TTL + MARGIN)  # every worker's keys have expired
    answered = from_every_worker(served, read_items(served, old))
    assert statuses(answered) == {401}
    for replies in answered.values():
        assert "not one of the issuer's" in challenge(replies[0])
    assert statuses(from_every_worker(served, read_items(served, new))) == {200}


def test_known_keys_serve_through_a_provider_outage_and_none_is_a_503(
    served: Server, provider: IdentityProvider, project: Rendered, tmp_path: Path
) -> None:
    """Each worker keeps the keys it has while the provider is down; a new service has none."""
    token = provider.sign(scope="items:read")
    assert statuses(from_every_worker(served, read_items(served, token))) == {200}
    provider.stop()
    time.sleep(TTL + MARGIN)  # every worker's keys have expired: each tries the provider
    answered = from_every_worker(served, read_items(served, token))
    assert statuses(answered) == {200}
    # Each worker tried the provider, and said it kept its keys, in one of those requests.
    kept = {
        line["request_id"]
        for line in served.lines()
        if line["message"].startswith("Keeping the keys fetched earlier")
    }
    tried = {
        pid
        for pid, replies in answered.items()
        if any(reply.headers["x-request-id"] in kept for reply in replies)
    }
    assert tried == served.workers()
    with serving(project, provider.issuer, tmp_path / "fresh") as fresh:
        answered = from_every_worker(fresh, read_items(fresh, token))
    for reply in (reply for replies in answered.values() for reply in replies):
        assert reply.status == 503, reply
        assert int(reply.headers["retry-after"]) >= 1
        assert "identity provider" in reply.json()["message"]


def test_made_up_key_ids_fetch_the_key_set_a_bounded_number_of_times(
    served: Server, provider: IdentityProvider
) -> None:
    """Forged kids from many clients: each worker fetches at most once an interval."""
    token = provider.sign(scope="items:read")
    assert statuses(from_every_worker(served, read_items(served, token))) == {200}
    forger = SigningKey.new("forger", "ES256")
    kids = itertools.count()
    before = provider.fetches
    started = time.monotonic()
    sent = 0

    def forge() -> Reply:
        forged = provider.sign(forger, {"kid": f"made-up-{next(kids)}"}, scope="items:read")
        reply = served.request("GET", ITEMS, headers=bearer(forged))
        assert reply.status == 401, reply
        return reply

    answered: set[int] = set()
    with ThreadPoolExecutor(WORKERS * 2) as pool:
        while time.monotonic() - started < FLOOD_SECONDS:
            answered |= {worker(reply) for reply in pool.map(lambda _: forge(), range(30))}
            sent += 30
    seconds = time.monotonic() - started
    fetched = provider.fetches - before
    bound = WORKERS * (int(seconds / MIN_INTERVAL) + 1)
    print(f"{sent} forged kids in {seconds:.1f} s: {fetched} key set fetches (bound {bound})")
    assert answered == served.workers()
    assert WORKERS <= fetched <= bound
