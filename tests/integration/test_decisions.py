"""The decision record: sayable ids, append-only history, rules on changes (many writers: test_decision_integrity)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy
from pydantic import ValidationError

from bot.decisions.models import DecisionDraft
from bot.decisions.store import DecisionStore
from bot.errors import InputError
from bot.store import DatabaseUnavailableError, build_engine
from bot.store import database_url as store_url
from tests.conftest import unreachable_like
from tests.fakes.http import free_port


@pytest.fixture
def store(database_url: str) -> DecisionStore:
    return DecisionStore(build_engine(database_url))


def draft(title: str = "Store body-camera video in the city's cloud tenant", **extra: object) -> DecisionDraft:
    return DecisionDraft(title=title, decision="Use the evidence platform's US-region storage.", **extra)  # type: ignore[arg-type]


def test_ids_are_sayable_and_gapless_and_history_is_kept(store: DecisionStore) -> None:
    first = store.add(draft(tags=["Body Cameras", "body cameras", "storage"]), actor="U1")
    second = store.add(draft("Adopt Open311 for the new 311 CRM"), actor="U2")
    assert (first.id, second.id) == ("DEC-0001", "DEC-0002")
    assert first.tags == ["body cameras", "storage"] and first.status == "proposed"
    accepted = store.set_status("dec-0001", "accepted", actor="U3")
    assert accepted.status == "accepted" and accepted.version == 2
    assert [(e.kind, e.actor) for e in store.history("DEC-0001")] == [("created", "U1"), ("status", "U3")]
    assert store.get("1").status == "accepted"
    assert [d.id for d in store.search("open311 crm")] == ["DEC-0002"]


def test_unknown_transitions_and_missing_decisions_are_refused(store: DecisionStore) -> None:
    store.add(draft(), actor="U1")
    store.set_status("DEC-0001", "accepted", actor="U1")
    with pytest.raises(InputError, match="An accepted decision cannot become rejected"):
        store.set_status("DEC-0001", "rejected", actor="U1")
    with pytest.raises(InputError, match="Use supersede"):
        store.set_status("DEC-0001", "superseded", actor="U1")
    with pytest.raises(InputError, match="There is no decision 'DEC-0042'"):
        store.get("DEC-0042")


def test_supersede_links_both_ways_and_refuses_self_and_cycles(store: DecisionStore) -> None:
    for title in ("Pilot A", "Pilot B", "Pilot C"):
        store.add(draft(title), actor="U1")
    old, new = store.supersede("DEC-0001", "DEC-0002", actor="U9")
    assert (old.status, old.superseded_by, new.supersedes) == ("superseded", "DEC-0002", "DEC-0001")
    with pytest.raises(InputError, match="cannot supersede itself"):
        store.supersede("DEC-0003", "dec-0003", actor="U9")
    store.supersede("DEC-0002", "DEC-0003", actor="U9")
    store.add(draft("Pilot D"), actor="U1")
    with pytest.raises(InputError, match="already superseded"):
        store.supersede("DEC-0001", "DEC-0004", actor="U9")
    with pytest.raises(InputError, match="only a live decision"):
        store.supersede("DEC-0004", "DEC-0002", actor="U9")
    assert [e.kind for e in store.history("DEC-0002")] == ["created", "supersedes", "superseded"]


def test_supersede_cycles_are_refused(store: DecisionStore) -> None:
    store.add(draft("A"), actor="U1")
    store.add(draft("B"), actor="U1")
    store.supersede("DEC-0001", "DEC-0002", actor="U1")  # B supersedes A
    store.add(draft("C"), actor="U1")
    store.supersede("DEC-0002", "DEC-0003", actor="U1")  # C supersedes B
    # closing the loop would need a superseded decision to supersede again: refused, nothing written
    with pytest.raises(InputError, match="only a live decision"):
        store.supersede("DEC-0003", "DEC-0001", actor="U1")
    assert store.get("DEC-0003").status == "proposed"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "   "}, "needs a title"),
        ({"decision": "x" * 100_000}, "100,000 characters; the limit is 20,000"),
        ({"status": "superseded"}, "cannot start as superseded"),
        ({"date": "next week"}, "is not YYYY-MM-DD"),
    ],
)
def test_invalid_input_is_refused_with_a_reason(fields: dict[str, object], message: str) -> None:
    values = {"title": "Title", "decision": "Decided.", **fields}
    with pytest.raises(ValidationError, match=message):
        DecisionDraft(**values)  # type: ignore[arg-type]


def test_an_unreachable_database_is_reported_and_nothing_is_half_written(database_url: str, tmp_path: Path) -> None:
    store = DecisionStore(build_engine(database_url))
    store.add(draft(), actor="U1")
    nowhere = unreachable_like(database_url, tmp_path)
    unreachable = DecisionStore(sqlalchemy.create_engine(store_url(nowhere)), retry_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError, match="nothing was saved"):
        unreachable.add(draft("Second"), actor="U1")
    assert time.monotonic() - started >= 0.3  # it retried before giving up
    with pytest.raises(DatabaseUnavailableError, match="not reachable"):
        unreachable.all()
    assert [d.id for d in store.all()] == ["DEC-0001"]


def test_cli_add_list_show_transition_and_export(tmp_path: Path) -> None:
    import csv
    import json

    from typer.testing import CliRunner

    from bot.cli import app

    runner = CliRunner()
    home = ["--home", str(tmp_path / "home")]
    added = runner.invoke(
        app,
        [
            *home,
            "decisions",
            "add",
            "--title",
            "Adopt Open311 GeoReport v2",
            "--decision",
            "The new 311 CRM must expose Open311 GeoReport v2.",
            "--context",
            "TS-04 prefers Open311.",
            "--tag",
            "311",
            "--tag",
            "Open Standards",
            "--json",
        ],
    )
    assert added.exit_code == 0, added.output
    record = json.loads(added.stdout)
    assert record["id"] == "DEC-0001" and record["tags"] == ["311", "open standards"]
    assert runner.invoke(app, [*home, "decisions", "accept", "DEC-0001"]).exit_code == 0
    listed = json.loads(runner.invoke(app, [*home, "decisions", "list", "--json"]).stdout)
    assert [(d["id"], d["status"]) for d in listed] == [("DEC-0001", "accepted")]
    shown = json.loads(runner.invoke(app, [*home, "decisions", "show", "DEC-0001", "--json"]).stdout)
    assert [e["kind"] for e in shown["history"]] == ["created", "status"]

    for fmt in ("md", "csv", "json"):
        out = tmp_path / fmt
        assert runner.invoke(app, [*home, "decisions", "export", "--format", fmt, "--out", str(out)]).exit_code == 0
    assert (tmp_path / "md" / "dec-0001.md").read_text().startswith("# DEC-0001: Adopt Open311 GeoReport v2")
    rows = list(csv.DictReader((tmp_path / "csv" / "decisions.csv").open()))
    assert rows[0]["id"] == "DEC-0001" and rows[0]["tags"] == "311; open standards"
    assert json.loads((tmp_path / "json" / "decisions.json").read_text())[0]["status"] == "accepted"

    bad = runner.invoke(app, [*home, "decisions", "add", "--title", " ", "--decision", "x"])
    assert bad.exit_code != 0 and "a decision needs a title" in str(bad.exception)
    again = runner.invoke(app, [*home, "decisions", "reject", "DEC-0001"])
    assert "An accepted decision cannot become rejected" in str(again.exception)


def test_decisions_are_indexed_so_ask_finds_them(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from bot.decisions.knowledge import index_decisions
    from tests.conftest import make_services

    services = make_services(tmp_path / "home", embedder)
    store = DecisionStore(build_engine(services.settings.database))
    stored = store.add(
        DecisionDraft(
            title="Body-camera video storage",
            decision=(
                "Store body-worn camera video in the evidence platform's US-only cloud region, keeping untagged video "
                "for 180 days."
            ),
            context="Storage costs grew faster than the budget.",
            tags=["body cameras"],
            permalink="https://portalder.slack.com/archives/C1/p1",
        ),
        actor="U1",
    )
    assert index_decisions(services.ingestor(), [stored], chunk_chars=services.settings.chunk_chars) > 0
    assert index_decisions(services.ingestor(), [stored], chunk_chars=services.settings.chunk_chars) == 0
    result = services.assistant.ask("What did we decide about body-camera storage?")
    assert result.answered and result.citations[0].doc_id == "decisions/DEC-0001"
    assert result.citations[0].url == "https://portalder.slack.com/archives/C1/p1"
    assert result.citations[0].kind == "decision"

    accepted = store.set_status("DEC-0001", "accepted", actor="U2")
    assert index_decisions(services.ingestor(), [accepted], chunk_chars=services.settings.chunk_chars) > 0
    hit = services.searcher.search("body camera video storage", k=1, kind="decision")[0]
    assert hit.meta["status"] == "accepted"


def test_cli_with_an_unreachable_database_says_so_without_a_traceback_or_the_password(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    port = free_port()  # a loopback port nobody listens on
    env = {**os.environ, "CITYBRIDGE_DATABASE_URL": f"postgresql://citybridge:hunter2@127.0.0.1:{port}/record"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--home", str(tmp_path), "decisions", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    output = " ".join((done.stdout + done.stderr).split())  # rich wraps long lines
    assert done.returncode == 2 and "is not reachable, so nothing was read or saved" in output
    assert "hunter2" not in output and "Traceback" not in output
