"""Secrets planted where real libraries hold them, and the search for them in what left.

A served project gets a database URL with a password that points at a closed port (PostgreSQL
is down), and `LEAK_APP`: views that fail while holding a secret in the shapes libraries use
(nested settings, URLs with userinfo and a query, a libpq conninfo string, a list), in an
exception's message, in log lines and their `extra`, and one that lets psycopg's failed
connect escape unhandled (the service's own database path answers 503 since the outage fix,
so it no longer makes an event; this keeps the frames that held the password 24 times).
`Planted.send` makes every request a careless client would, with a token in the query, custom
auth headers, a bearer and a cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.support.projects import Rendered
from tests.support.served import PACKAGE, Server, free_port, serve

#: The views served beside the generated package; PLANTED_SECRET is in their environment.
LEAK_APP = f'''\
import logging
import os

from {PACKAGE}.wsgi import app

log = logging.getLogger("leak_app")


class PlantedError(Exception):
    """What the views raise: a name no other event has."""


@app.get("/leak")
def leak() -> str:
    secret = os.environ["PLANTED_SECRET"]
    url = f"redis://svc:{{secret}}@cache:6379/0?password={{secret}}"
    settings = {{"broker": {{"url": url, "options": [{{"passwd": secret}}, secret]}}}}
    conninfo = f"host=db port=5432 user=svc password={{secret}} dbname=app"
    log.info("connecting to %s", url)  # a breadcrumb
    log.warning("retrying with %s and %r", conninfo, settings)  # another
    log.error("giving up on %s", url, extra={{"settings": settings, "dsn": conninfo}})
    raise PlantedError(f"could not reach {{url}} ({{conninfo}}) with {{settings}}")


@app.get("/connect")
def connect() -> str:
    import psycopg  # what SQLAlchemy's pool calls: its frames hold cparams and the conninfo

    psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=2)
    return "unreachable"
'''


@dataclass
class Planted:
    """The secrets of one test, and where each is planted."""

    password: str = field(default_factory=lambda: f"{secrets.token_hex(12)}/@:%")
    other: str = field(default_factory=lambda: secrets.token_hex(16))
    query: str = field(default_factory=lambda: secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    #: A custom header whose name says nothing: only an allowlist keeps its value out.
    partner_key: str = field(default_factory=lambda: secrets.token_hex(16))
    bearer: str = field(default_factory=lambda: secrets.token_hex(16))
    cookie: str = field(default_factory=lambda: secrets.token_hex(16))
    database_port: int = field(default_factory=free_port)

    @property
    def database_url(self) -> str:
        """Return a database URL with the password, on a port where nothing listens."""
        return (
            f"postgresql://svc:{quote(self.password, safe='')}@127.0.0.1:{self.database_port}/db"
        )

    def environment(self) -> dict[str, str]:
        """Return the variables that plant the server-side secrets."""
        return {
            "DATABASE_URL": self.database_url,
            # Never dialled by these requests: only held, as a URL with userinfo.
            "CELERY_BROKER_URL": f"redis://:{self.other}@127.0.0.1:6379/13",
            "PLANTED_SECRET": self.other,
        }

    def send(self, server: Server) -> None:
        """Make the requests that fail holding the secrets, as a careless client sends them."""
        headers = {
            "X-Auth-Token": self.auth_token,
            "X-Partner-Key": self.partner_key,
            "Authorization": f"Bearer {self.bearer}",
            "Cookie": f"session={self.cookie}",
            "Accept": "application/json",
        }
        # The service's own path to the database that is down: a prompt 503, no event.
        for path, status in (("/api/items", 503), ("/connect", 500), ("/leak", 500)):
            reply = server.request("GET", f"{path}?token={self.query}&page=2", headers=headers)
            assert reply.status == status, reply

    def found_in(self, received: bytes) -> list[str]:
        """Return the name of each secret found in `received`, in any form it was planted."""
        forms = {
            "database password": [self.password, quote(self.password, safe="")],
            "database password's random part": [self.password[:24]],
            "planted secret": [self.other],
            "query token": [self.query],
            "X-Auth-Token": [self.auth_token],
            "X-Partner-Key": [self.partner_key],
            "bearer": [self.bearer],
            "cookie": [self.cookie],
        }
        return [
            name for name, values in forms.items() if any(v.encode() in received for v in values)
        ]


@contextmanager
def serve_planted(
    project: Rendered, folder: Path, planted: Planted, **variables: str
) -> Iterator[Server]:
    """Serve `project` with `LEAK_APP`, the planted secrets in its environment."""
    (folder / "leak_app.py").write_text(LEAK_APP)
    app = ["--pythonpath", str(folder), "leak_app:app"]
    with serve(project, folder, *app, **planted.environment(), **variables) as server:
        yield server
