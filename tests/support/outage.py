"""A stand-in for an outage: a TCP proxy a test puts between a process and a server it needs.

Cutting it drops every open connection and refuses new ones, as a crashed server would;
restoring it lets connections through again. It needs the standard library only, so it sits
before a test process's own client and a served service alike.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class Outage:
    """A TCP proxy to a server that the test can cut and restore, as a crash and a restart."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        # accept() wakes up regularly, so closing the proxy ends its thread.
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.up = threading.Event()
        self.closed = threading.Event()

    def __enter__(self) -> Outage:
        self.restore()
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed.set()
        self.cut()
        self.listener.close()

    def cut(self) -> None:
        """Refuse new connections and drop every open one, as a crashed server would."""
        self.up.clear()
        with self.lock:
            dropped, self.open = self.open, []
        for sock in dropped:
            self._close(sock)

    def restore(self) -> None:
        """Accept connections again."""
        self.up.set()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up.is_set():
                self._close(client)
                continue
            client.settimeout(None)
            server = socket.create_connection(self.target, timeout=5)
            server.settimeout(None)
            with self.lock:
                if not self.up.is_set():  # cut while this connection was being made
                    self._close(client)
                    self._close(server)
                    continue
                self.open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @classmethod
    def _pipe(cls, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            cls._close(sink)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        # shutdown() wakes a thread blocked in recv() on the socket; close() alone would not.
        with suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
