"""A loopback TCP forwarder in front of a real server, which can fail the ways a network does.

``down()`` cuts every open connection and turns new ones away (accepted, then closed at once, as a
restarting server does); ``up()`` forwards again on the same port. ``lose_reply_after(marker)`` lets the
next client message containing ``marker`` through to the server, then cuts that connection before the
reply comes back: the server acted, the client never heard (a lost commit acknowledgement); with
``then_down=True`` the forwarder also goes down at that moment.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class _Pair:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.mute_replies = threading.Event()

    def close(self) -> None:
        for sock in (self.client, self.server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class TcpForwarder:
    def __init__(self, target: tuple[str, int], *, cut_delay: float = 0.3) -> None:
        self.target = target
        self._cut_delay = cut_delay
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._trap: bytes | None = None
        self._down_after_trap = False
        self.refused = 0  # connections turned away while down
        self.replies_lost = 0
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-forwarder", daemon=True)
        self._thread.start()

    def down(self) -> None:
        self._up.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            pair.close()

    def up(self) -> None:
        self._up.set()

    def lose_reply_after(self, marker: bytes, *, then_down: bool = False) -> None:
        """Arm a one-shot trap: see the module docstring."""
        with self._lock:
            self._trap = marker
            self._down_after_trap = then_down

    def close(self) -> None:
        self._stopping.set()
        self.down()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                self.refused += 1
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            pair = _Pair(client, server)
            with self._lock:
                self._pairs.add(pair)
            threading.Thread(target=self._requests, args=(pair,), daemon=True).start()
            threading.Thread(target=self._replies, args=(pair,), daemon=True).start()

    def _requests(self, pair: _Pair) -> None:
        try:
            while data := pair.client.recv(65536):
                if self._sprung(data):
                    pair.mute_replies.set()
                    pair.server.sendall(data)
                    time.sleep(self._cut_delay)  # the server acts on it; its answer is dropped
                    self.replies_lost += 1
                    if self._down_after_trap:
                        self.down()
                    break
                pair.server.sendall(data)
        except OSError:
            pass
        self._forget(pair)

    def _replies(self, pair: _Pair) -> None:
        try:
            while data := pair.server.recv(65536):
                if pair.mute_replies.is_set():
                    continue
                pair.client.sendall(data)
        except OSError:
            pass
        self._forget(pair)

    def _sprung(self, data: bytes) -> bool:
        with self._lock:
            if self._trap is not None and self._trap in data:
                self._trap = None
                return True
        return False

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self._pairs.discard(pair)
        pair.close()


@contextmanager
def tcp_forwarder(host: str, port: int) -> Iterator[TcpForwarder]:
    """A forwarder to ``host:port`` on a free loopback port; stops with the block."""
    forwarder = TcpForwarder((host, port))
    try:
        yield forwarder
    finally:
        forwarder.close()
