"""A local fake of the OpenAI chat-completions API, so the real client is exercised over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import loopback_server, send


@dataclass
class FakeOpenAI:
    """Replies with ``reply`` (a string) after ``delay`` seconds, or fails with ``status``."""

    reply: str = "{}"
    delay: float = 0.0
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def completion(self, model: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": self.reply}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(body)
            fake.headers.append({key.lower(): value for key, value in self.headers.items()})
            if fake.delay:
                time.sleep(fake.delay)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
            elif fake.status != 200:
                self._send(fake.status, {"error": {"message": "fake failure", "type": "server_error"}})
            else:
                self._send(200, fake.completion(body.get("model", "fake")))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            send(self, status, json.dumps(payload).encode(), "application/json")

    return Handler


@contextmanager
def serve(fake: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """Run the fake on a free loopback port for the duration of the block."""
    with loopback_server(_handler(fake)) as url:
        fake.url = f"{url}/v1"
        yield fake
