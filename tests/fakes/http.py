"""Shared plumbing for the local fake servers: loopback only, free port, stops with the block."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    """A loopback port nobody listens on right now (for a server a test starts, or one it expects to be absent)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, *, timeout: float = 10.0, why: Callable[[], str] = lambda: "") -> None:
    """Poll ``GET /healthz`` until it answers 200; AssertionError (with ``why()``) if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not become healthy within {timeout:.0f}s. {why()}".strip())


@contextmanager
def listening_socket() -> Iterator[socket.socket]:
    """A loopback socket bound to a free port and held, so no other server can take the port before the one
    it is handed to starts (``free_port`` releases its port at once)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        yield sock


@contextmanager
def serve_app(app: Any, *, sock: socket.socket | None = None) -> Iterator[str]:
    """An ASGI app under uvicorn on loopback, as `citybridge serve` runs it; yields its URL once healthy.
    Give ``sock`` (from :func:`listening_socket`) when the URL must be known before the app is built."""
    with contextlib.ExitStack() as stack:
        sock = sock or stack.enter_context(listening_socket())
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            wait_until_healthy(url)
            yield url
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 at a free port; yields ``http://127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send(
    handler: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
) -> None:
    """Write one response; a client that already gave up (a timeout test) is not an error."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        return
