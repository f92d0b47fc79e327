"""PgBouncer in transaction mode in front of PostgreSQL: the service serves through it.

Debian's pgbouncer runs on a port of the test's own, in front of a database of the test's
own on the shared server, with one server connection that every client's transactions
take in turn. psycopg prepares a query on the server once it has run it five times on a
connection, naming it by a count kept per connection (`_pg3_0`): the service's second
pooled connection prepares a name the first already took on that server, and the request
fails. `DB_PREPARED_STATEMENTS=false`, what the README's "Capacity" says to set, prepares
nothing. Writes, not reads: psycopg forgets its counts at a ROLLBACK, which ends every
read-only request when its connection goes back to the pool, so only the queries of
committed transactions reach five.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.projects import Rendered
from tests.support.served import (
    free_port,
    install,
    migrate,
    postgres_database,
    psql,
    serve,
    wait_until,
)
from tests.support.tools import server_binary

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
#: Writes in a row: psycopg prepares a query on the server after five on a connection.
REQUESTS = 40
#: The generated gthread worker's threads: the connections its pool opens.
THREADS = 4
#: The Debian user pgbouncer runs as: it refuses root.
RUN_AS = "postgres"


@pytest.fixture(scope="module")
def project(copie_session: Any) -> Rendered:
    """The postgresql answer set, installed."""
    return install(copie_session, "postgresql")


@dataclass
class Bouncer:
    """A running pgbouncer: the URL through it, and a count of its server connections."""

    url: str
    servers: Callable[[], int]


@contextmanager
def pgbouncer(database_url: str) -> Iterator[Bouncer]:
    """Run pgbouncer in transaction mode in front of `database_url`; yield the URL through it."""
    binary = server_binary("pgbouncer")
    real = urlsplit(database_url)
    port = free_port()
    # Its own folder, which its user may read and write (pytest's are root's alone).
    with tempfile.TemporaryDirectory(prefix="pgbouncer-") as temporary:
        folder = Path(temporary)
        (folder / "users.txt").write_text(f'"{real.username}" ""\n')
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"service = host={real.hostname} port={real.port or 5432} "
            f"dbname={real.path.lstrip('/')} user={real.username}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder}/users.txt\n"
            f"pool_mode = transaction\ndefault_pool_size = 1\nadmin_users = {real.username}\n"
            f"logfile = {folder}/pgbouncer.log\npidfile = {folder}/pgbouncer.pid\n"
        )
        user = pwd.getpwnam(RUN_AS)
        for path in [folder, *folder.iterdir()]:
            os.chown(path, user.pw_uid, user.pw_gid)
        command = [binary, str(folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        log = folder / "pgbouncer.log"
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        admin = f"postgresql://{real.username}@127.0.0.1:{port}/pgbouncer"
        try:
            wait_until(lambda: servers(admin, process, log) >= 0, "pgbouncer's console", 10)
            yield Bouncer(
                f"postgresql://{real.username}@127.0.0.1:{port}/service",
                lambda: servers(admin, process, log),
            )
        finally:
            process.terminate()
            process.wait(timeout=10)


def servers(admin: str, process: subprocess.Popen[bytes], log: Path) -> int:
    """Count pgbouncer's server connections, from its admin console."""
    assert process.poll() is None, log.read_text() if log.exists() else "pgbouncer exited"
    shown = subprocess.run(
        [psql(), admin, "-tAc", "SHOW SERVERS"], capture_output=True, text=True, check=False
    )
    return len(shown.stdout.splitlines()) if shown.returncode == 0 else -1


@pytest.mark.parametrize(
    ("prepared", "fails"),
    [pytest.param("false", False, id="prepared-off"), pytest.param("true", True, id="on")],
)
def test_the_service_serves_through_pgbouncer_in_transaction_mode(
    project: Rendered, tmp_path: Path, prepared: str, fails: bool
) -> None:
    with postgres_database(project) as direct, pgbouncer(direct) as bouncer:
        migrate(project, direct)  # the migrations Job connects to PostgreSQL itself
        with serve(
            project, tmp_path, DATABASE_URL=bouncer.url, DB_PREPARED_STATEMENTS=prepared
        ) as server:

            def create(number: int) -> int:
                body = json.dumps({"name": f"item {number}"}).encode()
                headers = {"Content-Type": "application/json"}
                return server.request("POST", "/api/items", body, headers).status

            # Requests at once: the worker's pool opens a connection to pgbouncer for each,
            # and hands them out in turn (first in, first out) to the requests that follow.
            with ThreadPoolExecutor(THREADS) as pool:
                statuses = list(pool.map(create, range(2 * THREADS)))
            statuses += [create(number) for number in range(REQUESTS)]
            assert bouncer.servers() == 1
    if fails:
        # The control: the same service with its default, which this proxy breaks.
        assert set(statuses) - {201}, statuses
    else:
        assert statuses == [201] * len(statuses), server.tail()
