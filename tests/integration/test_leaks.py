"""Who may see what, end to end: signed Slack requests over HTTP to the running app, a fake Slack Web API
behind it, on SQLite and PostgreSQL.

The knowledge base holds the public sample library plus an internal memo, an internal lesson and a
document restricted to an evaluation committee, each with a unique canary; the record holds a public and
an internal decision. Every surface is driven as an outside user in a shared channel, a guest, staff in a
public channel, staff in a DM and a committee member in a DM. A canary appears only where it should, and a
hidden document's title never appears in a citation.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.decisions.models import DecisionDraft
from bot.services import Services
from bot.slack.app import build_app
from bot.slack.blocks import FEEDBACK_HELPFUL
from bot.slack.decision_blocks import LOG_DECISION
from bot.solicitations import Solicitation
from bot.store import EventLedger
from bot.web.app import build_web_app
from knowledge.embeddings import SentenceTransformerEmbedder
from tests.conftest import make_services
from tests.fakes.http import serve_app
from tests.fakes.slack_api import FakeSlack, load_payload, serve, sign

SECRET = "leak-test-secret"
HOME_TEAM, VENDOR_TEAM = "T111", "T999"
BOT = "W23456789"

INTERNAL = "canary-internal-5b1e"
LESSON = "canary-lesson-3d8c"
RESTRICTED = "canary-restricted-9c4a"
DECISION = "canary-decision-2f7a"
HIDDEN_TITLES = ("Kestrel Budget Memo", "Kestrel Pilot Lesson", "Osprey Scoring Sheet", "Kestrel budget ceiling")

DOCUMENTS = {
    "memo.md": f"""---
title: Kestrel Budget Memo
visibility: internal
kind: procurement
---
# Budget ceiling

The budget ceiling for the Kestrel transit data platform is $1,200,000 over three years ({INTERNAL}).
Evaluators must not share the ceiling with bidders before award.
""",
    "lesson.md": f"""---
title: Kestrel Pilot Lesson
visibility: internal
kind: lesson
---
# What we learned from the Kestrel transit data pilot

The free Kestrel pilot locked the city into the vendor's data format; insist on open export ({LESSON}).
""",
    "weights.md": f"""---
title: Osprey Scoring Sheet
visibility: restricted:S0EVAL
kind: procurement
---
# Scoring weights for the Kestrel transit data platform

Technical approach 40 points, price 30 points, accessibility 15 points, references 15 points ({RESTRICTED}).
""",
}

PROPOSAL = (
    "Our Kestrel transit data platform is a multi-tenant SaaS with a 99.9% SLA. The budget ceiling for the "
    "Kestrel platform and the scoring weights were discussed. We offer a free pilot with data export fees."
)


@dataclass(frozen=True)
class Seat:
    """Someone, somewhere: the user, their channel, and how much they may see there."""

    name: str
    user: str
    channel: str
    sees: frozenset[str]  # the canaries that may appear for them
    team: str = HOME_TEAM
    shared: bool = False

    @property
    def dm(self) -> bool:
        return self.channel.startswith("D")


STAFF_SEES = frozenset({INTERNAL, LESSON, DECISION})
SEATS = (
    Seat("vendor in a shared channel", "U0VENDOR", "C0SHARED", frozenset(), team=VENDOR_TEAM, shared=True),
    Seat("guest in a private channel", "U0GUEST", "G0PROJECT", frozenset()),
    Seat("staff in a public channel", "W111", "C111", frozenset()),
    Seat("staff in a DM", "W111", "D0STAFF", STAFF_SEES),
    Seat("committee member in a DM", "U0EVAL", "D0EVAL", STAFF_SEES | {RESTRICTED}),
)
CANARIES = (INTERNAL, LESSON, RESTRICTED, DECISION)


def configure(fake: FakeSlack) -> None:
    fake.users.update(
        {
            "U0VENDOR": {"team_id": VENDOR_TEAM, "is_stranger": True, "real_name": "Val Vendor"},
            "U0GUEST": {"is_restricted": True, "real_name": "Gus Guest"},
            "U0EVAL": {"real_name": "Eva Evaluator"},
        }
    )
    fake.channels.update({"C0SHARED": {"is_ext_shared": True, "is_shared": True}})
    fake.members.update({"G0PROJECT": ["W111", "U0GUEST", BOT]})
    fake.usergroups.update({"S0EVAL": ["U0EVAL"]})


@pytest.fixture(scope="module")
def leak_home(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """The library (public) and the three hidden documents, indexed once for the module."""
    home = tmp_path_factory.mktemp("leak-home")
    folder = home / "city-files"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text)
    services = make_services(home, embedder)
    assert not services.ensure_library().failed
    report = services.ingestor().run([folder], services.ingest_options())
    assert report.documents_indexed == 3 and not report.failed
    services.close()
    return home


@dataclass
class App:
    url: str
    fake: FakeSlack
    services: Services
    serial: int = 0

    def next_ts(self) -> str:
        self.serial += 1
        return f"1700000{self.serial:03d}.000100"


@contextmanager
def running_app(home: Path, embedder: SentenceTransformerEmbedder, database: str) -> Iterator[App]:
    with serve(FakeSlack()) as fake:
        configure(fake)
        services = make_services(
            home,
            embedder,
            database_url=database,
            slack_bot_token=SecretStr("xoxb-test"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=fake.api_url,
        )
        try:
            bolt = build_app(services.settings, services, EventLedger(services.engine))
            web = build_web_app(bolt, ready=lambda: True, decisions=services.decisions)
            with serve_app(web) as url:
                yield App(url, fake, services)
        finally:
            services.close()


def seed_decisions(services: Services) -> None:
    public = DecisionDraft(title="Adopt Open311 for the 311 CRM", decision="Use Open311 GeoReport v2.")
    services.decision_desk.add(public.model_copy(update={"visibility": "public"}), actor="test")
    internal = DecisionDraft(
        title="Kestrel budget ceiling",
        decision=f"Hold the Kestrel transit data platform to $1.2 million ({DECISION}).",
        tags=["kestrel"],
    )
    services.decision_desk.add(internal, actor="test")


# -- sending what Slack sends ------------------------------------------------------------------------


def post(app: App, body: bytes, content_type: str) -> None:
    headers = {"Content-Type": content_type, **sign(body, SECRET)}
    response = httpx.post(f"{app.url}/slack/events", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def envelope(app: App, seat: Seat, event: dict[str, Any]) -> bytes:
    body: dict[str, Any] = {
        "token": "x",
        "team_id": seat.team,  # in Slack Connect the envelope names the sender's organisation
        "api_app_id": "A111",
        "type": "event_callback",
        "event_id": f"Ev{app.next_ts().replace('.', '')}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": HOME_TEAM, "enterprise_id": None, "user_id": BOT, "is_bot": True}],
        "event": event,
    }
    if seat.shared:
        body["is_ext_shared_channel"] = True
    return json.dumps(body).encode()


def say(app: App, seat: Seat, text: str, *, thread_ts: str = "", files: list[dict[str, Any]] | None = None) -> None:
    """A mention in a channel, a message in a DM."""
    event: dict[str, Any] = {
        "user": seat.user,
        "ts": app.next_ts(),
        "channel": seat.channel,
        "team": seat.team,
        "user_team": seat.team,
        "event_ts": "1",
    }
    if seat.dm:
        event.update(type="message", channel_type="im", text=text)
    else:
        event.update(type="app_mention", text=f"<@{BOT}> {text}")
    if thread_ts:
        event["thread_ts"] = thread_ts
    if files:
        event["files"] = files
        if seat.dm:
            event["subtype"] = "file_share"
    post(app, envelope(app, seat, event), "application/json")


def slash(app: App, seat: Seat, text: str) -> None:
    form = dict(urllib.parse.parse_qsl(str(load_payload("slash_command.form-urlencoded.txt"))))
    form.update(
        command="/citybridge",
        text=text,
        user_id=seat.user,
        channel_id=seat.channel,
        team_id=HOME_TEAM,
        response_url=app.fake.response_url(f"r{app.next_ts()}"),
    )
    post(app, urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")


def shortcut(app: App, seat: Seat, callback_id: str, text: str) -> None:
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("message_action.message_shortcut.json")))
    ts = app.next_ts()
    message = {"type": "message", "user": seat.user, "ts": ts, "text": text}
    payload.update(callback_id=callback_id, trigger_id=f"t{ts}", message_ts=ts, message=message)
    payload.update(response_url=app.fake.response_url(f"s{ts}"))
    payload["channel"] = {"id": seat.channel, "name": "x"}
    payload["user"] = {"id": seat.user, "name": seat.user.lower(), "team_id": seat.team}
    payload["team"] = {"id": HOME_TEAM, "domain": "citybridge-test"}
    app.fake.threads[(seat.channel, ts)] = [message]
    post(app, urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


def home(app: App, seat: Seat) -> None:
    event = {"type": "app_home_opened", "user": seat.user, "channel": "D0HOME", "tab": "home", "event_ts": "1"}
    post(app, envelope(app, seat, event), "application/json")


# -- the surfaces ------------------------------------------------------------------------------------------

ASK = "What is the budget ceiling for the Kestrel transit data platform?"


def ask(app: App, seat: Seat) -> str:
    say(app, seat, ASK)
    return "chat.postMessage"


def follow_up(app: App, seat: Seat) -> str:
    parent = app.next_ts()
    app.fake.threads[(seat.channel, parent)] = [{"ts": parent, "user": seat.user, "text": ASK}]
    say(app, seat, "and over how many years?", thread_ts=parent)
    return "chat.postMessage"


def lessons(app: App, seat: Seat) -> str:
    say(app, seat, "lessons Kestrel transit data pilot export")
    return "chat.postMessage"


def translate(app: App, seat: Seat) -> str:
    say(app, seat, f"gov {PROPOSAL}")
    return "chat.postMessage"


def review(app: App, seat: Seat) -> str:
    say(app, seat, f"review {PROPOSAL}")
    return "chat.postMessage"


def search(app: App, seat: Seat) -> str:
    say(app, seat, "search Kestrel transit data platform budget ceiling scoring weights")
    return "chat.postMessage"


def file_summary(app: App, seat: Seat) -> str:
    content = f"# Kestrel proposal\n\n{PROPOSAL}\n".encode()
    file_id = f"F{app.next_ts().replace('.', '')}"
    app.fake.files[file_id] = {
        "name": "kestrel.md",
        "mimetype": "text/markdown",
        "size": len(content),
        "content": content,
    }
    say(app, seat, "summarize", files=[{"id": file_id}])
    return "chat.postMessage"


def slash_ask(app: App, seat: Seat) -> str:
    slash(app, seat, f"ask {ASK}")
    return "response_url"


def decision_search(app: App, seat: Seat) -> str:
    slash(app, seat, "decisions Kestrel")
    return "response_url"


def explain_shortcut(app: App, seat: Seat) -> str:
    shortcut(app, seat, "citybridge_explain_gov", PROPOSAL)
    return "response_url"


def decision_draft(app: App, seat: Seat) -> str:
    shortcut(
        app, seat, LOG_DECISION, f"Decided: keep the Kestrel transit data platform under the budget ceiling. {PROPOSAL}"
    )
    return "views.update"


def app_home(app: App, seat: Seat) -> str:
    home(app, seat)
    return "views.publish"


SURFACES: tuple[Callable[[App, Seat], str], ...] = (
    ask,
    follow_up,
    lessons,
    translate,
    review,
    search,
    file_summary,
    slash_ask,
    decision_search,
    explain_shortcut,
    decision_draft,
    app_home,
)
# Cells where the seat may see a canary and the surface is one that must show it (so the test can fail
# both ways: nothing leaks, and the filter does not hide from staff what they may see).
MUST_SHOW = {
    ("ask", "staff in a DM"): INTERNAL,
    ("slash_ask", "staff in a DM"): INTERNAL,
    ("search", "staff in a DM"): INTERNAL,
    ("search", "committee member in a DM"): RESTRICTED,
    ("lessons", "staff in a DM"): LESSON,
    ("decision_search", "staff in a DM"): DECISION,
    ("app_home", "staff in a DM"): DECISION,
}


def allowed(surface: Callable[[App, Seat], str], seat: Seat) -> frozenset[str]:
    """App Home is the person's own tab: what they may see, wherever else they sit."""
    if surface is app_home:
        return (
            next(s.sees for s in SEATS if s.user == seat.user and s.dm)
            if seat.user in ("W111", "U0EVAL")
            else frozenset()
        )
    return seat.sees


def run_cell(app: App, surface: Callable[[App, Seat], str], seat: Seat) -> str:
    """Everything the app sent to Slack for this one request, as text."""
    start = len(app.fake.calls)
    method = surface(app, seat)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = [c for c in app.fake.calls[start:] if c.method == method]
        if done:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"{surface.__name__} for {seat.name}: no {method} within 60 s")
    time.sleep(0.2)  # anything else the same request sends (a reaction removed, an officer's DM)
    return json.dumps([c.params for c in app.fake.calls[start:]], ensure_ascii=False)


def test_the_leak_matrix(leak_home: Path, embedder: SentenceTransformerEmbedder, database_url: str) -> None:
    """12 surfaces × 5 seats, plus the public pages and JSON: canaries only where they may be seen."""
    problems: list[str] = []
    cells = 0
    with running_app(leak_home, embedder, database_url) as app:
        seed_decisions(app.services)
        for surface in SURFACES:
            for seat in SEATS:
                sent = run_cell(app, surface, seat)
                cells += 1
                sees = allowed(surface, seat)
                for canary in CANARIES:
                    if canary in sent and canary not in sees:
                        problems.append(f"{surface.__name__} / {seat.name}: leaked {canary}")
                if not sees & STAFF_SEES:  # outside, guest, or a channel with outside readers
                    problems += [f"{surface.__name__} / {seat.name}: title {t!r}" for t in HIDDEN_TITLES if t in sent]
                must = MUST_SHOW.get((surface.__name__, seat.name))
                if must and must not in sent:
                    problems.append(f"{surface.__name__} / {seat.name}: {must} missing (over-filtered)")
        for path in ("/decisions", "/decisions.json", "/decisions/DEC-0002", "/decisions/DEC-0002.json"):
            page = httpx.get(f"{app.url}{path}", timeout=10)
            cells += 1
            if DECISION in page.text or "Kestrel budget ceiling" in page.text:
                problems.append(f"public page {path}: leaked the internal decision")
        listed = httpx.get(f"{app.url}/decisions.json", timeout=10).json()
        assert [d["id"] for d in listed] == ["DEC-0001"]
        violations = app.fake.violations()
    assert not violations, violations
    Path(__file__).resolve().parents[2].joinpath("bench", "results").mkdir(exist_ok=True)
    report = Path(__file__).resolve().parents[2] / "bench" / "results" / "leak_matrix.json"
    report.write_text(json.dumps({"cells": cells, "surfaces": len(SURFACES), "seats": len(SEATS)}))
    assert not problems, "\n".join(problems)
    assert cells == len(SURFACES) * len(SEATS) + 4


PARAPHRASE = "What is the budget for the new transit data platform?"  # no keyword: close to its memo


def asking(text: str) -> Callable[[App, Seat], str]:
    def surface(app: App, seat: Seat) -> str:
        say(app, seat, text)
        return "chat.postMessage"

    return surface


def test_a_blackout_question_from_a_vendor_goes_to_the_officer_and_staff_still_get_answers(
    leak_home: Path, embedder: SentenceTransformerEmbedder, database_url: str
) -> None:
    vendor, staff = SEATS[0], SEATS[3]
    with running_app(leak_home, embedder, database_url) as app:
        app.services.solicitations.add(
            Solicitation(
                id="RFP-2026-014",
                title="Kestrel transit data platform",
                keywords=["Kestrel", "RFP 14"],
                documents=["memo.md", "weights.md"],
                opens=dt.date(2026, 1, 1),
                closes=dt.date(2099, 12, 31),
                officer="U0OFFICER",
                qa_address="procurement@portalder.gov",
            )
        )
        sent = run_cell(app, ask, vendor)
        assert "RFP-2026-014" in sent and "procurement@portalder.gov" in sent and "<@U0OFFICER>" in sent
        assert INTERNAL not in sent and "$1,200,000" not in sent
        officer = app.fake.wait_for("chat.postMessage", count=2, timeout=10)
        [dm] = [c for c in officer if c.params.get("channel") == "U0OFFICER"]
        assert ASK in dm.params["text"] and "<@U0VENDOR>" in dm.params["text"] and "<#C0SHARED>" in dm.params["text"]

        answered = run_cell(app, ask, staff)
        assert INTERNAL in answered and "RFP-2026-014" not in answered

        # a question that names it in other words still counts (close to its title and keywords)
        assert "RFP-2026-014" in run_cell(app, asking(PARAPHRASE), vendor)
        # other questions from the same vendor are answered as usual
        unrelated = run_cell(app, asking("What is the micro-purchase threshold?"), vendor)
        assert "RFP-2026-014" not in unrelated and "$10,000" in unrelated

        audit = app.services.audit.since(app.services.solicitations.all()[0].opens)
        outcomes = [(r["user_id"], r["outcome"], r["audience"], r["place"]) for r in audit]
        assert ("U0VENDOR", "blocked", "public", "shared") in outcomes
        assert ("U0VENDOR", "answered", "public", "shared") in outcomes
        assert ("W111", "answered", "internal+W111", "dm") in outcomes  # staff, and the groups they are in
        staff_row = next(r for r in audit if r["user_id"] == "W111")
        assert any("memo" in doc for doc in staff_row["cited"]), staff_row

        # feedback points at the answer it rates: the button carries the audited request's id
        answer_id = re.search(r'"value": "([0-9a-f-]{36})"', answered)
        assert answer_id and answer_id.group(1) == staff_row["request_id"]
        rate(app, staff, answer_id.group(1))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not app.services.audit.since(dt.date(2026, 1, 1))[1]["feedback"]:
            time.sleep(0.1)
        rated = next(r for r in app.services.audit.since(dt.date(2026, 1, 1)) if r["request_id"] == answer_id.group(1))
        assert rated["feedback"] == ["W111:helpful"]


def rate(app: App, seat: Seat, request_id: str) -> None:
    payload: dict[str, Any] = json.loads(json.dumps(load_payload("block_actions.json")))
    payload["user"] = {"id": seat.user, "name": seat.user.lower()}
    payload["actions"] = [
        {"action_id": FEEDBACK_HELPFUL, "block_id": f"feedback:{request_id}", "value": request_id, "type": "button"}
    ]
    post(app, urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


def test_the_cli_answers_as_a_slack_user_would_be_answered(
    leak_home: Path, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    """`ask --as USER_ID` asks Slack who that is, as the app would."""
    with serve(FakeSlack()) as fake:
        configure(fake)
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": fake.api_url,
            "CITYBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        }

        def ask_as(user: str, question: str) -> dict[str, Any]:
            done = subprocess.run(
                [sys.executable, "-m", "bot", "--home", str(leak_home), "ask", question, "--as", user, "--json"],
                capture_output=True,
                text=True,
                env=env,
                timeout=180,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            answer: dict[str, Any] = json.loads(done.stdout)
            return answer

        weights = "What are the scoring weights for the Kestrel transit data platform?"
        evaluator = ask_as("U0EVAL", weights)
        assert "weights.md" in [c["doc_id"] for c in evaluator["citations"]]  # the committee may see its sheet
        staff = json.dumps(ask_as("W111", weights))
        assert "weights.md" not in staff and "Osprey Scoring Sheet" not in staff and RESTRICTED not in staff
        vendor = json.dumps(ask_as("U0VENDOR", ASK))
        assert INTERNAL not in vendor and "Kestrel Budget Memo" not in vendor
