"""The Slack app end to end: signed requests over HTTP to the running app, a fake Slack Web API behind it."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from pydantic import SecretStr

from bot.services import Services
from bot.settings import Settings
from bot.slack.app import build_app
from bot.store import EventLedger, build_engine
from bot.web.app import build_web_app
from tests.conftest import make_services
from tests.fakes.http import free_port, serve_app, wait_until_healthy
from tests.fakes.slack_api import FakeSlack, load_payload, serve, sign

SECRET = "test-signing-secret"


@dataclass
class Running:
    url: str
    fake: FakeSlack


def slack_services(library: Services, fake: FakeSlack, database: str, skills: Any = None, **settings: Any) -> Services:
    """Services for a Slack app on the library's index and model, with their own database."""
    services = make_services(
        library.settings.home,
        library.embedder,
        slack_bot_token=SecretStr("xoxb-test"),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_url=f"{fake.url}/api/",
        database_url=database,
        **settings,
    )
    services.__dict__["index"] = library.index
    if skills is not None:  # every audience's workspace gets these skills
        build = services.workspace

        def workspace(audience: Any) -> Any:
            found = build(audience)
            found.__dict__["skills"] = skills
            return found

        services.workspace = workspace  # type: ignore[method-assign]
    return services


@contextmanager
def _started(library: Services, fake: FakeSlack, database: str, skills: Any = None) -> Iterator[Running]:
    services = slack_services(library, fake, database, skills)
    bolt = build_app(services.settings, services, EventLedger(services.engine))
    with serve_app(build_web_app(bolt, ready=lambda: True)) as url:
        yield Running(url, fake)


@pytest.fixture
def slack(library: Services, tmp_path: Path) -> Iterator[tuple[Running, str]]:
    database = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    with serve(FakeSlack()) as fake, _started(library, fake, database) as running:
        yield running, database


ACK_MS: list[float] = []


@pytest.fixture(scope="module", autouse=True)
def ack_latency_report() -> Iterator[None]:
    """Ack latency of every signed request in this module, saved for the closing note (not asserted on)."""
    yield
    if ACK_MS:
        ordered = sorted(ACK_MS)
        report = {
            "requests": len(ordered),
            "p50_ms": round(ordered[len(ordered) // 2], 1),
            "max_ms": round(ordered[-1], 1),
        }
        folder = Path(__file__).resolve().parents[2] / "bench" / "results"
        folder.mkdir(exist_ok=True)
        (folder / "slack_ack.json").write_text(json.dumps(report, indent=2))
        print(f"\nSlack ack latency: {report}")


def post(url: str, body: bytes, content_type: str, **headers: str) -> httpx.Response:
    signed = sign(body, SECRET)
    started = time.perf_counter()
    response = httpx.post(
        f"{url}/slack/events", content=body, timeout=10, headers={"Content-Type": content_type, **signed, **headers}
    )
    ACK_MS.append((time.perf_counter() - started) * 1000)
    return response


def mention(text: str, event_id: str, *, thread_ts: str | None = None) -> bytes:
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("event_callback.app_mention.json")))
    payload["event"]["text"] = f"<@W111> {text}"
    payload["event_id"] = event_id
    if thread_ts:
        payload["event"]["thread_ts"] = thread_ts
    return json.dumps(payload).encode()


def slash(text: str, response_url: str) -> bytes:
    form = dict(urllib.parse.parse_qsl(str(load_payload("slash_command.form-urlencoded.txt"))))
    form.update(command="/citybridge", text=text, response_url=response_url)
    return urllib.parse.urlencode(form).encode()


def test_mention_is_acknowledged_fast_and_answered_in_the_thread(slack: tuple[Running, str]) -> None:
    running, _ = slack
    started = time.perf_counter()
    response = post(running.url, mention("What is the micro-purchase threshold?", "Ev-mention-1"), "application/json")
    ack_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200 and ack_ms < 3000
    [call] = running.fake.wait_for("chat.postMessage", timeout=30)
    assert call.params["channel"] == "C111" and call.params["thread_ts"] == "1595926230.009600"
    assert "$10,000" in json.dumps(call.params["blocks"])
    assert running.fake.calls_to("reactions.add") and running.fake.wait_for("reactions.remove")
    assert not any(c.violations for c in running.fake.calls)


def test_retries_and_a_second_replica_never_answer_twice(library: Services, slack: tuple[Running, str]) -> None:
    running, database = slack
    with _started(library, running.fake, database) as second:
        body = mention("Who approves a $300,000 contract?", "Ev-retry-1")
        assert post(running.url, body, "application/json").status_code == 200
        assert (
            post(
                running.url,
                body,
                "application/json",
                **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
            ).status_code
            == 200
        )
        assert post(second.url, body, "application/json").status_code == 200
        running.fake.wait_for("chat.postMessage", timeout=30)
        time.sleep(1.5)
        assert len(running.fake.calls_to("chat.postMessage")) == 1


def test_bad_and_stale_signatures_are_rejected(slack: tuple[Running, str]) -> None:
    running, _ = slack
    body = mention("hello", "Ev-bad-sig")
    forged = httpx.post(
        f"{running.url}/slack/events",
        content=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert forged.status_code == 401
    stale = httpx.post(
        f"{running.url}/slack/events",
        content=body,
        timeout=10,
        headers={"Content-Type": "application/json", **sign(body, SECRET, int(time.time()) - 600)},
    )
    assert stale.status_code == 401
    time.sleep(0.5)
    assert running.fake.calls_to("chat.postMessage") == []


def test_slash_command_help_unknown_and_ask(slack: tuple[Running, str]) -> None:
    running, _ = slack
    helped = post(running.url, slash("", running.fake.response_url("r0")), "application/x-www-form-urlencoded")
    assert helped.status_code == 200 and "/citybridge gov" in helped.text
    unknown = post(
        running.url, slash("frobnicate", running.fake.response_url("r1")), "application/x-www-form-urlencoded"
    )
    assert unknown.status_code == 200 and "/citybridge gov" in unknown.text  # an unknown verb gets the help
    asked = post(
        running.url,
        slash("ask What is the micro-purchase threshold?", running.fake.response_url("r2")),
        "application/x-www-form-urlencoded",
    )
    assert asked.status_code == 200 and "Working on it" in asked.text
    replies = [c for c in running.fake.wait_for("response_url", count=1, timeout=30) if c.path.endswith("/r2")]
    assert replies and "$10,000" in json.dumps(replies[0].params)


def test_direct_message_is_answered_and_bot_messages_are_ignored(slack: tuple[Running, str]) -> None:
    running, _ = slack
    dm: dict[str, Any] = json.loads(json.dumps(load_payload("event_callback.message.im.DERIVED.json")))
    dm["event"]["text"] = "lessons free pilot data"
    dm["event_id"] = "Ev-dm-1"
    bot = json.loads(json.dumps(dm))
    bot["event_id"] = "Ev-dm-bot"
    bot["event"]["bot_id"] = "B111"
    assert post(running.url, json.dumps(bot).encode(), "application/json").status_code == 200
    assert post(running.url, json.dumps(dm).encode(), "application/json").status_code == 200
    [call] = running.fake.wait_for("chat.postMessage", timeout=30)
    assert call.params["channel"] == "D111" and not call.params.get("thread_ts")
    assert "Free parking-sensor pilot" in json.dumps(call.params["blocks"])
    time.sleep(1.0)
    assert len(running.fake.calls_to("chat.postMessage")) == 1


def shortcut(callback_id: str, text: str, response_url: str) -> bytes:
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("message_action.message_shortcut.json")))
    payload.update(callback_id=callback_id, response_url=response_url)
    payload["message"]["text"] = text
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def test_message_shortcut_explains_a_message_for_the_city(slack: tuple[Running, str]) -> None:
    running, _ = slack
    text = "We offer a multi-tenant SaaS with SSO via SAML and a 99.95% SLA, billed per seat."
    response = post(
        running.url,
        shortcut("citybridge_explain_gov", text, running.fake.response_url("s1")),
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    [reply] = running.fake.wait_for("response_url", timeout=30)
    dumped = json.dumps(reply.params)
    assert "In government terms" in dumped and "SaaS" in dumped


def file_share(file_id: str, text: str, event_id: str) -> bytes:
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("event_callback.message.file_share.json")))
    payload["event_id"] = event_id
    payload["event"].update(text=text, channel="D111", channel_type="im")
    payload["event"]["files"] = [{"id": file_id}]
    return json.dumps(payload).encode()


def test_shared_files_are_fetched_with_the_bot_token_and_summarized(slack: tuple[Running, str]) -> None:
    running, _ = slack
    clause = Path(__file__).resolve().parents[1] / "fixtures" / "rfp_clauses" / "10-sla-termination-default.md"
    content = clause.read_bytes()
    running.fake.files["F1"] = {"name": "sla.md", "mimetype": "text/markdown", "size": len(content), "content": content}
    running.fake.files["F2"] = {"name": "photo.png", "mimetype": "image/png", "size": 10, "content": b"\x89PNG..."}
    running.fake.files["F3"] = {
        "name": "huge.pdf",
        "mimetype": "application/pdf",
        "size": 50_000_000,
        "content": b"%PDF",
    }
    for number, file_id in enumerate(("F1", "F2", "F3")):
        response = post(running.url, file_share(file_id, "summarize", f"Ev-file-{number}"), "application/json")
        assert response.status_code == 200
    posts = running.fake.wait_for("chat.postMessage", count=3, timeout=60)
    replies = {json.dumps(call.params["blocks"]) for call in posts}
    assert any("Plain-language summary" in r and "99.9" in r for r in replies)
    assert any("that file type isn" in r for r in replies)
    assert any("the limit is 10 MB" in r for r in replies)
    downloads = running.fake.calls_to("file_download")
    assert downloads and all(d.headers["authorization"] == "Bearer xoxb-test" for d in downloads)
    assert not running.fake.violations()


def test_app_home_shows_capabilities_and_knowledge_base_stats(slack: tuple[Running, str]) -> None:
    running, _ = slack
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("event_callback.app_home_opened.json")))
    payload["event_id"] = "Ev-home-1"
    assert post(running.url, json.dumps(payload).encode(), "application/json").status_code == 200
    [call] = running.fake.wait_for("views.publish", timeout=30)
    view = json.dumps(call.params)
    assert "Knowledge base" in view and "documents" in view and "/citybridge ask" in view
    assert not running.fake.violations()


def test_feedback_buttons_are_stored(slack: tuple[Running, str]) -> None:
    running, database = slack
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("block_actions.json")))
    payload["actions"] = [
        {
            "action_id": "citybridge_feedback_helpful",
            "block_id": "feedback:req-9",
            "value": "req-9",
            "type": "button",
            "action_ts": "1.2",
        }
    ]
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    assert post(running.url, body, "application/x-www-form-urlencoded").status_code == 200
    engine = sqlalchemy.create_engine(database)
    rows: list[Any] = []
    for _ in range(50):  # the listener stores the vote just after acknowledging
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text("SELECT request_id, verdict FROM feedback")).fetchall()
        if rows:
            break
        time.sleep(0.1)
    assert [tuple(row) for row in rows] == [("req-9", "helpful")]


class FailingSkills:
    def ask(self, question: str) -> Any:
        raise RuntimeError("token=xoxb-secret leaked in an exception")


def test_a_failing_skill_gets_a_reason_not_silence_and_no_secrets(library: Services, tmp_path: Path) -> None:
    with (
        serve(FakeSlack()) as fake,
        _started(library, fake, f"sqlite:///{tmp_path / 'e.sqlite3'}", skills=FailingSkills()) as running,
    ):
        response = post(running.url, mention("What is the threshold?", "Ev-fail-1"), "application/json")
        assert response.status_code == 200
        [call] = fake.wait_for("chat.postMessage", timeout=30)
        dumped = json.dumps(call.params)
        assert "Something went wrong on our side" in dumped and "xoxb-secret" not in dumped
        assert "Traceback" not in dumped


def test_oversize_messages_get_a_clear_reason(slack: tuple[Running, str]) -> None:
    running, _ = slack
    assert post(running.url, mention("x " * 3000, "Ev-big-1"), "application/json").status_code == 200
    [call] = running.fake.wait_for("chat.postMessage", timeout=30)
    assert "the limit is 2,000" in json.dumps(call.params)


def test_citybridge_serve_command_answers_signed_events(library: Services, tmp_path: Path) -> None:
    """The outside interface: `citybridge --home DIR serve --port N` with SLACK_* in the environment."""
    import os
    import subprocess
    import sys

    port = free_port()
    with serve(FakeSlack()) as fake:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"{fake.url}/api/",
            "CITYBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
        env.pop("SLACK_APP_TOKEN", None)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "--home",
                str(library.settings.home),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(
                url, timeout=60, why=lambda: process.stderr.read().decode() if process.stderr else "no health"
            )
            assert httpx.get(f"{url}/healthz").json() == {"status": "ok", "slack": True}
            assert (
                post(
                    url, mention("What is the micro-purchase threshold?", "Ev-serve-1"), "application/json"
                ).status_code
                == 200
            )
            [call] = fake.wait_for("chat.postMessage", timeout=60)
            assert "$10,000" in json.dumps(call.params["blocks"])
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_follow_up_in_a_thread_uses_the_earlier_question(slack: tuple[Running, str]) -> None:
    running, _ = slack
    running.fake.threads[("C111", "100.1")] = [
        {"ts": "100.1", "user": "W222", "text": "<@W111> Who approves software contracts over $250,000?"},
        {"ts": "100.2", "bot_id": "B1", "text": "An earlier answer"},
        {"ts": "100.3", "user": "W222", "text": "<@W111> and which method?"},
    ]
    payload: dict[str, Any] = json.loads(mention("and which method?", "Ev-thread-1", thread_ts="100.1"))
    payload["event"]["ts"] = "100.3"
    assert post(running.url, json.dumps(payload).encode(), "application/json").status_code == 200
    [call] = running.fake.wait_for("chat.postMessage", timeout=30)
    assert running.fake.calls_to("conversations.replies")
    assert call.params["thread_ts"] == "100.1"
    assert "Council" in json.dumps(call.params["blocks"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gov We offer a multi-tenant SaaS with SSO via SAML and a 99.95% SLA.", "In government terms"),
        (
            "tech The Contractor shall conform to Section 508 and deliver an ACR within 30 days.",
            "Technical requirements",
        ),
        ("plain The Contractor shall pay the City $5,000 within 30 days of notice.", "Plain-language summary"),
        ("review We will meet monthly with a steering committee and return all data at exit.", "Partnership review"),
        ("lessons free pilot data", "Lessons learned"),
    ],
)
def test_slash_command_verbs(slack: tuple[Running, str], text: str, expected: str) -> None:
    running, _ = slack
    response = post(running.url, slash(text, running.fake.response_url("v")), "application/x-www-form-urlencoded")
    assert response.status_code == 200
    [reply] = running.fake.wait_for("response_url", timeout=30)
    assert expected in json.dumps(reply.params)
    assert not running.fake.violations()


def test_socket_mode_receives_events_acks_them_and_answers(library: Services, tmp_path: Path) -> None:
    """Behind a firewall: the app dials out to Slack's WebSocket, acks each envelope and answers via the Web API."""
    from websockets.sync.server import ServerConnection
    from websockets.sync.server import serve as ws_serve

    from bot.slack.app import start_socket_mode

    acks: list[dict[str, Any]] = []
    envelope = {
        "envelope_id": "env-1",
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": json.loads(mention("What is the micro-purchase threshold?", "Ev-socket-1")),
    }

    def session(connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"}}))
        connection.send(json.dumps(envelope))
        for message in connection:
            acks.append(json.loads(message))

    with ws_serve(session, "127.0.0.1", 0) as socket_server, serve(FakeSlack()) as fake:
        threading.Thread(target=socket_server.serve_forever, daemon=True).start()
        fake.socket_url = f"ws://127.0.0.1:{socket_server.socket.getsockname()[1]}/"
        settings = Settings(
            home=library.settings.home,
            slack_bot_token=SecretStr("xoxb-test"),
            slack_signing_secret=SecretStr(SECRET),
            slack_app_token=SecretStr("xapp-test"),
            slack_api_url=f"{fake.url}/api/",
            database_url=f"sqlite:///{tmp_path / 's.sqlite3'}",
        )
        services = slack_services(library, fake, settings.database_url, slack_app_token=SecretStr("xapp-test"))
        bolt = build_app(services.settings, services, EventLedger(build_engine(settings.database)))
        handler = start_socket_mode(bolt, "xapp-test")
        try:
            [call] = fake.wait_for("chat.postMessage", timeout=60)
            assert "$10,000" in json.dumps(call.params["blocks"])
            assert {"envelope_id": "env-1"} in [{"envelope_id": a.get("envelope_id")} for a in acks]
            assert fake.calls_to("apps.connections.open")[0].headers["authorization"] == "Bearer xapp-test"
        finally:
            handler.close()  # type: ignore[no-untyped-call]
            socket_server.shutdown()


def test_a_file_shared_with_a_mention_in_a_channel_is_answered_in_its_thread(slack: tuple[Running, str]) -> None:
    running, _ = slack
    content = b"# Pilot terms\n\nThe vendor shall return all City data within 30 days of the end of the pilot."
    running.fake.files["F9"] = {
        "name": "pilot.md",
        "mimetype": "text/markdown",
        "size": len(content),
        "content": content,
    }
    payload: dict[str, Any] = json.loads(mention("summarize this please", "Ev-mention-file"))
    payload["event"]["files"] = [{"id": "F9"}]
    assert post(running.url, json.dumps(payload).encode(), "application/json").status_code == 200
    [call] = running.fake.wait_for("chat.postMessage", timeout=30)
    assert call.params["thread_ts"] == payload["event"]["ts"]
    assert "30 days" in json.dumps(call.params["blocks"])


def test_a_file_slack_will_not_give_us_gets_a_reason(slack: tuple[Running, str]) -> None:
    running, _ = slack
    running.fake.fail["files.info"] = "file_not_found"
    assert post(running.url, file_share("F404", "summarize", "Ev-file-404"), "application/json").status_code == 200
    [call] = running.fake.wait_for("chat.postMessage", timeout=30)
    assert "couldn't fetch that file" in json.dumps(call.params["blocks"])
