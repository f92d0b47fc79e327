"""A private redis-server for one test, which it can stop and start again on the same port.

The shared Redis on 6379 serves other tests in parallel: an outage test never touches it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from tests.support.served import free_port, wait_until
from tests.support.tools import missing

#: Seconds redis-server gets to listen, or to exit once told to.
START_TIMEOUT = 10.0


class RedisServer:
    """A redis-server on a free loopback port; stop() and start() it.

    It persists nothing, unless `durable`: then every write is in its append-only file before
    Redis answers it (`appendfsync always`), as a broker that promises a job must be, and a
    crash and start again on the same folder finds every job it had answered for.
    """

    def __init__(self, folder: Path, durable: bool = False, maxclients: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.durable = durable
        #: The connections it takes at most (Redis's own default: 10,000).
        self.maxclients = maxclients
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the URL of its database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server on its port, and wait until it answers."""
        assert self.process is None, "already running"
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / f"redis-{self.port}.log").open("ab")
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--dir", str(self.folder)]
        appendonly = ["yes", "--appendfsync", "always"] if self.durable else ["no"]
        command += ["--appendonly", *appendonly]
        if self.maxclients is not None:
            command += ["--maxclients", str(self.maxclients)]
        with log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self.answers, f"redis-server on {self.port} did not start", START_TIMEOUT)

    def stop(self) -> None:
        """Stop the server, as a crash would: every connection to it is dropped."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=START_TIMEOUT)
        self.process = None

    def answers(self) -> bool:
        """Tell whether the server answers PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(64).startswith(b"+PONG")
        except OSError:
            return False
