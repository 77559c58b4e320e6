"""The decision record from Slack, end to end: signed requests to the running app, a fake Slack Web API behind
it, the real database (SQLite and PostgreSQL), the real knowledge base, the CLI and the public web page."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from pydantic import SecretStr

from bot.decisions.store import DecisionStore
from bot.services import Services
from bot.slack.app import build_app
from bot.slack.decision_blocks import ACCEPT, DECISION_MODAL, LOG_DECISION, SUPERSEDE, SUPERSEDE_MODAL
from bot.store import EventLedger
from bot.web.app import build_web_app
from tests.browser import chromium
from tests.conftest import make_services
from tests.fakes.http import listening_socket, serve_app
from tests.fakes.slack_api import FakeSlack, check_view, load_payload, serve, sign
from tests.fakes.tcp_forwarder import TcpForwarder, tcp_forwarder

SECRET = "decision-signing-secret"
CHANNEL, DECISIONS_CHANNEL, THREAD = "C111", "C0DECISIONS", "1700000000.000100"
EDITOR, OUTSIDER = "U0EDITOR1", "U0OUTSIDE"
THREAD_MESSAGES = [
    (
        "U0CLERK01",
        "Where should we keep body-camera video? The vendor offers their multi-tenant cloud, or we could "
        "keep it on-premises in the police data center.",
    ),
    ("U0FINANC1", "On-premises storage would cost about $400,000 up front and needs two new staff."),
    ("U0RECORD1", "Records retention requires 7 years for evidence, so whatever we choose must support legal holds."),
    (
        EDITOR,
        "OK, we'll store body-camera video in the vendor's US-region government cloud because it supports "
        "CJIS and legal holds. <@U0FINANC1> can you start the contract?",
    ),
]


@dataclass
class Running:
    url: str
    fake: FakeSlack
    services: Services
    store: DecisionStore
    database: str
    forwarder: TcpForwarder | None  # PostgreSQL is reached through it, so a test can take the database away

    @contextlib.contextmanager
    def database_outage(self) -> Iterator[None]:
        """The database stops answering: SQLite is locked by someone else, PostgreSQL's network goes away."""
        if self.forwarder is not None:
            self.forwarder.down()
            try:
                yield
            finally:
                self.forwarder.up()
            return
        blocker = sqlite3.connect(self.database.removeprefix("sqlite:///"), timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            blocker.rollback()
            blocker.close()


def thread() -> list[dict[str, Any]]:
    return [
        {"type": "message", "user": user, "text": text, "ts": f"1700000000.000{n}00", "thread_ts": THREAD}
        for n, (user, text) in enumerate(THREAD_MESSAGES, start=1)
    ]


@pytest.fixture
def running(library: Services, embedder: Any, database_url: str, tmp_path: Path) -> Iterator[Running]:
    """The app as `citybridge serve` runs it: Slack events, /decisions pages, one database, a knowledge base
    (a copy of the indexed sample library, so decisions indexed here don't leak into other tests)."""
    home = tmp_path / "home"
    shutil.copytree(library.settings.home / "index", home / "index")
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(listening_socket())  # held from here, so nothing started below can take it
        port = sock.getsockname()[1]
        forwarder = None
        if not database_url.startswith("sqlite"):
            parsed = sqlalchemy.make_url(database_url)
            forwarder = stack.enter_context(tcp_forwarder(parsed.host or "127.0.0.1", parsed.port or 5432))
            database_url = parsed.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
        fake = stack.enter_context(serve(FakeSlack()))
        fake.threads[(CHANNEL, THREAD)] = thread()
        # the team's own private channels: an internal decision's card may be posted there
        for private in (CHANNEL, DECISIONS_CHANNEL):
            fake.channels[private] = {"is_private": True, "is_channel": False, "is_group": True}
        fake.users[EDITOR] = {"real_name": "Dana Whitfield", "profile": {"real_name": "Dana Whitfield"}}
        services = make_services(
            home,
            embedder,
            database_url=database_url,
            slack_bot_token=SecretStr("xoxb-test"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=fake.api_url,
            decisions_channel=DECISIONS_CHANNEL,
            decision_editors=[EDITOR],
            public_url=f"http://127.0.0.1:{port}",
            database_retry_seconds=1.0,
        )
        stack.callback(services.close)
        settings = services.settings
        bolt = build_app(settings, services, EventLedger(services.engine))
        web = build_web_app(bolt, ready=lambda: True, decisions=services.decisions, public_url=settings.public_url)
        url = stack.enter_context(serve_app(web, sock=sock))  # stops before services close (LIFO)
        yield Running(url, fake, services, services.decisions, database_url, forwarder)


def post(running: Running, payload: dict[str, Any]) -> httpx.Response:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, SECRET)}
    response = httpx.post(f"{running.url}/slack/events", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response


def log_as_decision(running: Running) -> dict[str, Any]:
    """The shortcut on the thread's last message; returns the prefilled form once it is drafted."""
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("message_action.message_shortcut.json")))
    last = thread()[-1]
    payload.update(callback_id=LOG_DECISION, trigger_id="111.222.log", message_ts=last["ts"])
    payload["channel"] = {"id": CHANNEL, "name": "public-safety-tech"}
    payload["user"] = {"id": EDITOR, "name": "editor"}
    payload["message"] = last
    post(running, payload)
    [opened] = running.fake.wait_for("views.open", timeout=10)
    assert opened.ok and "Drafting" in json.dumps(opened.blocks)
    [updated] = running.fake.wait_for("views.update", timeout=30)
    assert updated.ok and updated.params["view_id"] == opened.response["view"]["id"]
    return running.fake.views[updated.params["view_id"]]


def initial_state(form: dict[str, Any], **edits: str) -> dict[str, Any]:
    """What Slack sends back when the person submits the form (initial values, plus their edits)."""
    values: dict[str, Any] = {}
    for block in form["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind = element["type"]
        if kind == "plain_text_input":
            state = {"type": kind, "value": edits.get(block_id, element.get("initial_value"))}
        elif kind == "static_select":
            chosen = [o for o in element["options"] if o["value"] == edits.get(block_id)]
            state = {"type": kind, "selected_option": chosen[0] if chosen else element.get("initial_option")}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": element.get("initial_user")}
        elif kind == "multi_users_select":
            state = {"type": kind, "selected_users": element.get("initial_users", [])}
        elif kind == "checkboxes":
            state = {"type": kind, "selected_options": element.get("initial_options", [])}
        elif kind == "datepicker":
            state = {"type": kind, "selected_date": element.get("initial_date")}
        else:  # pragma: no cover - the form only uses the kinds above
            raise AssertionError(kind)
        values[block_id] = {"value": state}
    return {"values": values}


def submit(running: Running, form: dict[str, Any], user: str = EDITOR, **edits: str) -> httpx.Response:
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("view_submission.json")))
    payload["user"] = {"id": user, "name": user.lower()}
    payload["view"] = {**form, "state": initial_state(form, **edits)}
    return post(running, payload)


def click(running: Running, action_id: str, value: str, user: str, container: tuple[str, str]) -> None:
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("block_actions.json")))
    payload["user"] = {"id": user, "name": user.lower()}
    payload["container"] = {"type": "message", "channel_id": container[0], "message_ts": container[1]}
    payload["channel"] = {"id": container[0], "name": "x"}
    payload["actions"] = [
        {"action_id": action_id, "block_id": f"decision:{value}", "value": value, "type": "button", "action_ts": "1"}
    ]
    post(running, payload)


def cli(running: Running, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITYBRIDGE_DATABASE_URL": running.database, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--home", str(running.services.settings.home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_decision_logged_from_a_thread_appears_everywhere(running: Running, tmp_path: Path) -> None:
    form = log_as_decision(running)
    assert not check_view(form) and form["callback_id"] == DECISION_MODAL
    dumped = json.dumps(form)
    title = next(b for b in form["blocks"] if b["block_id"] == "title")["element"]["initial_value"]
    assert "US-region government cloud" in title  # the sentence that settled it
    assert "$400,000" in dumped and "7 years" in dumped  # the reasons are kept as context
    participants = next(b for b in form["blocks"] if b["block_id"] == "participants")["element"]["initial_users"]
    assert participants == ["U0CLERK01", "U0FINANC1", "U0RECORD1", EDITOR]
    assert next(b for b in form["blocks"] if b["block_id"] == "sources")  # knowledge-base sources are suggested
    metadata = json.loads(form["private_metadata"])
    assert metadata["permalink"].endswith("/archives/C111/p1700000000000100") and metadata["thread_ts"] == THREAD

    visibility = next(b for b in form["blocks"] if b["block_id"] == "visibility")["element"]
    assert visibility["initial_option"]["value"] == "internal"  # the record fails closed
    response = submit(
        running,
        form,
        title="Store body-camera video in the vendor's US-region cloud",
        tags="body cameras, storage",
        visibility="public",  # this one is for everyone: the public page, vendors in shared channels
    )
    ack = response.json()
    assert ack["response_action"] == "update" and "Saving" in json.dumps(ack["view"]) and not check_view(ack["view"])

    posted = running.fake.wait_for("chat.postMessage", count=2, timeout=30)
    where = {(c.params["channel"], c.params.get("thread_ts")) for c in posted}
    assert where == {(CHANNEL, THREAD), (DECISIONS_CHANNEL, None)}
    assert all("DEC-0001" in json.dumps(c.blocks) and ACCEPT in json.dumps(c.blocks) for c in posted)
    saved = running.fake.wait_for("views.update", count=2, timeout=10)[-1]
    assert "Saved as *DEC-0001*" in json.dumps(saved.blocks)

    decision = running.store.get("DEC-0001")
    assert decision.title == "Store body-camera video in the vendor's US-region cloud"
    assert decision.decided_by == EDITOR and decision.tags == ["body cameras", "storage"]
    assert decision.names[EDITOR] == "Dana Whitfield"  # readers outside Slack see names, not ids
    assert decision.permalink == metadata["permalink"] and decision.sources and decision.channel == CHANNEL

    # ask finds it, citing the thread
    answer = running.services.skills.ask("What did we decide about body-camera storage?")
    assert answer.answered and answer.citations[0].doc_id == "decisions/DEC-0001"
    assert answer.citations[0].url == metadata["permalink"]

    # editors only: an outsider is refused, the editor's click updates every copy of the card
    channel_card = next(c for c in posted if c.params["channel"] == DECISIONS_CHANNEL)
    click(running, ACCEPT, "DEC-0001", OUTSIDER, (DECISIONS_CHANNEL, channel_card.response["ts"]))
    [refusal] = running.fake.wait_for("chat.postEphemeral", timeout=10)
    assert refusal.params["user"] == OUTSIDER and "decision editors" in refusal.params["text"]
    assert running.store.get("DEC-0001").status == "proposed"
    click(running, ACCEPT, "DEC-0001", EDITOR, (DECISIONS_CHANNEL, channel_card.response["ts"]))
    updates = running.fake.wait_for("chat.update", count=2, timeout=10)
    assert {c.params["channel"] for c in updates} == {CHANNEL, DECISIONS_CHANNEL}
    assert all("Accepted" in json.dumps(c.blocks) and ACCEPT not in json.dumps(c.blocks) for c in updates)
    history = running.store.history("DEC-0001")
    actor = f"Dana Whitfield ({EDITOR})"  # history reads well outside Slack and keeps the id for audit
    assert [(e.kind, e.actor) for e in history] == [("created", actor), ("status", actor)]

    # the CLI and the exports read the same record
    shown = cli(running, "decisions", "show", "DEC-0001", "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["status"] == "accepted" and record["permalink"] == metadata["permalink"]
    assert cli(running, "decisions", "export", "--format", "md", "--out", str(tmp_path / "md")).returncode == 0
    assert "US-region cloud" in (tmp_path / "md" / "dec-0001.md").read_text()

    # /citybridge decisions finds it; the App Home lists it
    form_body = dict(urllib.parse.parse_qsl(str(load_payload("slash_command.form-urlencoded.txt"))))
    form_body.update(command="/citybridge", text="decisions body camera", response_url=running.fake.response_url("q"))
    raw = urllib.parse.urlencode(form_body).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw, SECRET)}
    assert httpx.post(f"{running.url}/slack/events", content=raw, headers=headers, timeout=10).status_code == 200
    [found] = running.fake.wait_for("response_url", timeout=10)
    assert "DEC-0001" in json.dumps(found.params) and "/decisions/DEC-0001" in json.dumps(found.params)

    home: dict[str, Any] = json.loads(json.dumps(load_payload("event_callback.app_home_opened.json")))
    home["event_id"] = "Ev-decision-home"
    raw_home = json.dumps(home).encode()
    headers = {"Content-Type": "application/json", **sign(raw_home, SECRET)}
    assert httpx.post(f"{running.url}/slack/events", content=raw_home, headers=headers, timeout=10).status_code == 200
    [published] = running.fake.wait_for("views.publish", timeout=10)
    assert "Recent decisions" in json.dumps(published.blocks) and "DEC-0001" in json.dumps(published.blocks)

    # the public page, in a real browser
    page_text = browser_text(f"{running.url}/decisions/DEC-0001", tmp_path / "decision.png")
    assert "Store body-camera video in the vendor's US-region cloud" in page_text
    assert "accepted" in page_text.lower() and "7 years" in page_text
    assert "Decided by\nDana Whitfield" in page_text and "U0EDITOR1\n" not in page_text
    running.fake.assert_no_violations()


def test_invalid_forms_are_refused_in_the_form_and_nothing_is_saved(running: Running) -> None:
    form = log_as_decision(running)
    empty = submit(running, form, title=" ").json()
    assert empty["response_action"] == "errors" and "title" in empty["errors"]
    huge = submit(running, form, decision="x" * 20_001).json()
    assert huge["response_action"] == "errors" and "20,000" in huge["errors"]["decision"]
    assert running.store.all() == []


def test_a_database_outage_gives_the_form_back_and_a_copy_by_dm(running: Running) -> None:
    form = log_as_decision(running)
    with running.database_outage():
        submit(running, form, title="Keep video for 7 years", tags="retention, video")
        dm = next(c for c in running.fake.wait_for("chat.postMessage", timeout=30) if c.params["channel"] == EDITOR)
        assert "not saved" in dm.params["text"] and "Keep video for 7 years" in dm.params["text"]
        back = running.fake.wait_for("views.update", count=2, timeout=10)[-1]
        assert "Keep video for 7 years" in json.dumps(back.params) and "nothing was saved" in json.dumps(back.params)
        assert "retention, video" in json.dumps(back.params)  # every field typed comes back
    assert running.store.all() == []
    again = running.fake.views[back.params["view_id"]]
    submit(running, again)
    running.fake.wait_for("chat.postMessage", count=3, timeout=30)
    assert [(d.title, d.tags) for d in running.store.all()] == [("Keep video for 7 years", ["retention", "video"])]


def test_decide_command_drafts_from_the_channel_and_supersede_links_both(running: Running) -> None:
    running.fake.history[CHANNEL] = list(reversed(thread()))  # newest first, as Slack answers
    raw_form = dict(urllib.parse.parse_qsl(str(load_payload("slash_command.form-urlencoded.txt"))))
    for n, title in enumerate(["Cloud storage for body cameras", "Hybrid storage for body cameras"], start=1):
        raw_form.update(
            command="/citybridge",
            text=f"decide {title}",
            channel_id=CHANNEL,
            trigger_id=f"1.2.{n}",
            response_url=running.fake.response_url(f"d{n}"),
        )
        raw = urllib.parse.urlencode(raw_form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw, SECRET)}
        ack = httpx.post(f"{running.url}/slack/events", content=raw, headers=headers, timeout=10)
        assert ack.status_code == 200 and ack.text == ""  # the form opens; nothing to say in the channel
        update = running.fake.wait_for("views.update", count=2 * n - 1, timeout=30)[-1]
        form = running.fake.views[update.params["view_id"]]
        assert json.dumps(title)[1:-1] in json.dumps(form) and "$400,000" in json.dumps(form)
        submit(running, form)
        running.fake.wait_for("chat.postMessage", count=2 * n, timeout=30)
        running.fake.wait_for("views.update", count=2 * n, timeout=10)  # "Saved as …" before the next form
    assert [d.id for d in running.store.all()] == ["DEC-0001", "DEC-0002"]

    card = next(c for c in running.fake.calls_to("chat.postMessage") if "DEC-0001" in json.dumps(c.blocks))
    click(running, SUPERSEDE, "DEC-0001", EDITOR, (card.params["channel"], card.response["ts"]))
    opened = running.fake.wait_for("views.open", count=3, timeout=10)[-1]
    modal = running.fake.views[opened.response["view"]["id"]]
    assert modal["callback_id"] == SUPERSEDE_MODAL
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("view_submission.json")))
    payload["user"] = {"id": EDITOR, "name": "editor"}
    bad = {"values": {"replacement": {"value": {"type": "plain_text_input", "value": "DEC-0001"}}}}
    payload["view"] = {**modal, "state": bad}
    refused = post(running, payload).json()
    assert refused["response_action"] == "errors" and "itself" in refused["errors"]["replacement"]
    missing = {"values": {"replacement": {"value": {"type": "plain_text_input", "value": "DEC-0099"}}}}
    payload["view"] = {**modal, "state": missing}
    assert post(running, payload).json()["response_action"] == "update"  # "Superseding…" while it is written
    retry = running.fake.wait_for("views.update", count=5, timeout=10)[-1]
    assert "There is no decision" in json.dumps(retry.blocks) and "Nothing was changed" in json.dumps(retry.blocks)
    good = {"values": {"replacement": {"value": {"type": "plain_text_input", "value": "dec-0002"}}}}
    payload["view"] = {**running.fake.views[retry.params["view_id"]], "state": good}
    assert post(running, payload).json()["response_action"] == "update"
    done = running.fake.wait_for("views.update", count=6, timeout=10)[-1]
    assert "superseded by *DEC-0002*" in json.dumps(done.blocks)
    old, new = running.store.get("DEC-0001"), running.store.get("DEC-0002")
    assert (old.status, old.superseded_by, new.supersedes) == ("superseded", "DEC-0002", "DEC-0001")
    updated = running.fake.wait_for("chat.update", count=1, timeout=10)
    assert any("Superseded by" in json.dumps(c.blocks) for c in updated)
    running.fake.assert_no_violations()


def browser_text(url: str, screenshot: Path) -> str:
    """The page's visible text in headless Chromium, with a screenshot for the record."""
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url)
        page.screenshot(path=str(screenshot), full_page=True)
        return str(page.inner_text("body"))


def test_a_form_slack_refuses_to_open_is_reported_not_dropped(running: Running) -> None:
    running.fake.fail["views.open"] = "expired_trigger_id"
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("message_action.message_shortcut.json")))
    payload.update(callback_id=LOG_DECISION, trigger_id="111.222.late")
    payload["channel"] = {"id": CHANNEL, "name": "public-safety-tech"}
    payload["user"] = {"id": EDITOR, "name": "editor"}
    payload["message"] = thread()[-1]
    post(running, payload)
    [told] = running.fake.wait_for("chat.postEphemeral", timeout=10)
    assert told.params["user"] == EDITOR and "did not let me open the decision form" in told.params["text"]
    assert running.store.all() == []


def test_an_internal_decision_logged_in_a_shared_channel_keeps_its_card_out_of_that_channel(running: Running) -> None:
    running.fake.channels[CHANNEL] = {"is_ext_shared": True, "is_shared": True}  # a vendor reads this channel
    form = log_as_decision(running)
    submit(running, form, title="Hold the storage budget at $400,000")
    saved = running.fake.wait_for("views.update", count=2, timeout=30)[-1]
    assert "Saved as *DEC-0001*" in json.dumps(saved.blocks) and "was not posted to <#C111>" in json.dumps(saved.blocks)
    posted = running.fake.wait_for("chat.postMessage", timeout=10)
    assert [c.params["channel"] for c in posted] == [DECISIONS_CHANNEL]  # the team's private channel only
    assert running.store.get("DEC-0001").visibility == "internal"
