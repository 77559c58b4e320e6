"""No decision is lost or half-written: many writer processes, a writer killed mid-write, brief outages.

Every test runs on SQLite and on PostgreSQL (the ``database_url`` fixture). Writers are separate processes
started with "spawn", so they share nothing but the database, as replicas of the bot do.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import pytest
import sqlalchemy
from sqlalchemy import Engine, event, func, select

from bot.decisions.models import Decision, DecisionDraft, decision_id
from bot.decisions.store import DecisionStore
from bot.errors import InputError
from bot.store import DatabaseUnavailableError, build_engine, counters, decision_events, decisions, migrate, open_engine
from bot.store import database_url as store_url
from tests.fakes.tcp_forwarder import TcpForwarder, tcp_forwarder

WRITERS = 8
PER_WRITER = 200
RACED = 24  # DEC-0001..DEC-0024: every writer tries to accept (even workers) or reject (odd) each of them at once
OWN_ACCEPT_EVERY = 20  # each writer also accepts every 20th decision it wrote (past the raced ones)
PROCESS_TIMEOUT = 240
HEAD = "0004"


def draft(title: str) -> DecisionDraft:
    return DecisionDraft(
        title=title,
        decision="Require Open311 GeoReport v2 from every 311 CRM vendor.",
        context="Procurement review of the three finalists; TS-04 prefers open standards. " * 3,
        tags=["311", "procurement"],
    )


# -- invariants ---------------------------------------------------------------------------------------


def assert_consistent(url: str) -> int:
    """The record's invariants; returns the number of decisions.

    Ids are DEC-0001..DEC-N with N the counter, each row's JSON agrees with its columns, every decision has
    exactly one ``created`` event and as many events as its version, no event points at a missing decision,
    and on SQLite the file itself is sound.
    """
    engine = sqlalchemy.create_engine(store_url(url))
    try:
        with engine.connect() as connection:
            counter: int = connection.execute(
                select(counters.c.value).where(counters.c.name == "decision")
            ).scalar_one()
            rows = connection.execute(select(decisions.c.id, decisions.c.number, decisions.c.status, decisions.c.data))
            stored = {row.id: (row, Decision.model_validate_json(row.data)) for row in rows}
            events = connection.execute(select(decision_events.c.decision_id, decision_events.c.kind)).all()
            orphans = connection.execute(
                select(func.count())
                .select_from(decision_events.outerjoin(decisions, decisions.c.id == decision_events.c.decision_id))
                .where(decisions.c.id.is_(None))
            ).scalar_one()
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()
    assert sorted(row.number for row, _ in stored.values()) == list(range(1, counter + 1)), "ids have gaps"
    for identifier, (row, decision) in stored.items():
        assert identifier == decision_id(row.number) == decision.id
        assert (decision.number, decision.status) == (row.number, row.status)
    assert orphans == 0, f"{orphans} events point at no decision"
    created = Counter(identifier for identifier, kind in events if kind == "created")
    assert created == Counter(stored.keys()), "a decision lacks its created event, or has two"
    per_decision = Counter(identifier for identifier, _ in events)
    assert {i: d.version for i, (_, d) in stored.items()} == dict(per_decision), "history and state disagree"
    return counter


def creators(url: str) -> dict[str, str]:
    """Decision id → who created it."""
    engine = sqlalchemy.create_engine(store_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(decision_events.c.decision_id, decision_events.c.actor).where(
                    decision_events.c.kind == "created"
                )
            )
            return {row.decision_id: row.actor for row in rows}
    finally:
        engine.dispose()


# -- many writers ---------------------------------------------------------------------------------------


def _writer(url: str, worker: int, count: int, barrier: Any, out: str) -> None:
    """Add ``count`` decisions (accepting some of its own), then race the other writers on DEC-0001..RACED."""
    store = DecisionStore(build_engine(url))
    actor = f"W{worker}"
    added: list[str] = []
    own_accepted: list[str] = []
    started = time.time()
    for n in range(count):
        decision = store.add(draft(f"Worker {worker} decision {n}"), actor=actor)
        added.append(decision.id)
        if n % OWN_ACCEPT_EVERY == OWN_ACCEPT_EVERY - 1 and decision.number > RACED:
            store.set_status(decision.id, "accepted", actor=actor)
            own_accepted.append(decision.id)
    finished = time.time()
    barrier.wait(timeout=PROCESS_TIMEOUT)
    target = "accepted" if worker % 2 == 0 else "rejected"
    wins: dict[str, str] = {}
    losses = 0
    for number in range(1, RACED + 1):
        try:
            wins[decision_id(number)] = store.set_status(decision_id(number), target, actor=actor).status
        except InputError:
            losses += 1
    result = {"worker": worker, "added": added, "own_accepted": own_accepted, "wins": wins, "losses": losses}
    Path(out).write_text(json.dumps({**result, "started": started, "finished": finished}))


def test_eight_processes_write_1600_decisions_with_unique_gapless_ids_and_complete_history(
    database_url: str, tmp_path: Path
) -> None:
    # No process migrates first: all eight start on an empty database at once, as replicas of the bot may.
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    outputs = [tmp_path / f"writer-{w}.json" for w in range(WRITERS)]
    processes = [
        context.Process(target=_writer, args=(database_url, w, PER_WRITER, barrier, str(outputs[w])))
        for w in range(WRITERS)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=PROCESS_TIMEOUT)
    elapsed = time.monotonic() - started
    assert [p.exitcode for p in processes] == [0] * WRITERS
    results = [json.loads(path.read_text()) for path in outputs]

    total = WRITERS * PER_WRITER
    assert assert_consistent(database_url) == total
    added = [identifier for r in results for identifier in r["added"]]
    assert sorted(added) == [decision_id(n) for n in range(1, total + 1)]  # each writer got back what it stored
    made_by = creators(database_url)
    assert all(made_by[i] == f"W{r['worker']}" for r in results for i in r["added"])

    # The race: exactly one transition wins per decision, every other writer is refused, one event each.
    for number in range(1, RACED + 1):
        winners = [r for r in results if decision_id(number) in r["wins"]]
        assert len(winners) == 1, f"{decision_id(number)} changed by {len(winners)} writers"
    assert sum(r["losses"] for r in results) == RACED * (WRITERS - 1)
    expected = Counter(
        [(i, f"W{r['worker']}", status) for r in results for i, status in r["wins"].items()]
        + [(i, f"W{r['worker']}", "accepted") for r in results for i in r["own_accepted"]]
    )
    engine = sqlalchemy.create_engine(store_url(database_url))
    with engine.connect() as connection:
        events = connection.execute(
            select(decision_events.c.decision_id, decision_events.c.actor, decision_events.c.changes).where(
                decision_events.c.kind == "status"
            )
        ).all()
        statuses = dict(connection.execute(select(decisions.c.id, decisions.c.status)).tuples().all())
    engine.dispose()
    assert Counter((e.decision_id, e.actor, json.loads(e.changes)["status"]) for e in events) == expected
    assert all(statuses[i] == status for i, _, status in expected)

    span = max(r["finished"] for r in results) - min(r["started"] for r in results)
    status_writes = sum(len(r["own_accepted"]) + len(r["wins"]) + r["losses"] for r in results)
    print(  # shown with -s: the numbers the issue asks for
        f"\n{store_url(database_url).get_backend_name()}: {total} decisions by {WRITERS} processes in {elapsed:.1f}s "
        f"(adds {span:.1f}s, {total / span:.0f} adds/s; {status_writes} status changes)"
    )


# -- a writer killed mid-write ----------------------------------------------------------------------------


def _steady(url: str, worker: int, count: int) -> None:
    store = DecisionStore(build_engine(url))
    for n in range(count):
        store.add(draft(f"Steady {worker} decision {n}"), actor=f"S{worker}")


def _dies_inside_a_transaction(url: str, before: int, marker: str) -> None:
    """Add ``before`` decisions, then hang just before committing the next one (the parent SIGKILLs it)."""
    engine = build_engine(url)
    armed = threading.Event()

    @event.listens_for(engine, "commit")
    def _hang(_connection: Any) -> None:
        if armed.is_set():
            Path(marker).write_text("in the transaction")  # the counter, row and event are written, uncommitted
            time.sleep(600)

    store = DecisionStore(engine)
    for n in range(before):
        store.add(draft(f"Victim decision {n}"), actor="VICTIM")
    armed.set()
    store.add(draft("Never committed"), actor="VICTIM")


def _dies_anywhere(url: str, progress: str) -> None:
    """Add decisions as fast as it can, reporting how many were stored, until killed."""
    store = DecisionStore(build_engine(url))
    n = 0
    while True:
        store.add(draft(f"Runner decision {n}"), actor="RUNNER")
        n += 1
        Path(f"{progress}.new").write_text(str(n))
        Path(f"{progress}.new").replace(progress)  # atomic: a kill mid-report leaves the previous count


def _wait_for(condition: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _count(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def test_a_writer_killed_with_sigkill_mid_write_leaves_the_record_consistent(database_url: str, tmp_path: Path) -> None:
    build_engine(database_url)
    context = multiprocessing.get_context("spawn")
    steady = [context.Process(target=_steady, args=(database_url, w, 100)) for w in range(4)]
    marker, progress = tmp_path / "in-transaction", tmp_path / "progress"
    victim = context.Process(target=_dies_inside_a_transaction, args=(database_url, 25, str(marker)))
    runner = context.Process(target=_dies_anywhere, args=(database_url, str(progress)))
    for process in [*steady, victim, runner]:
        process.start()
    try:
        _wait_for(marker.exists)
        assert victim.pid is not None and runner.pid is not None
        os.kill(victim.pid, signal.SIGKILL)  # holding the counter, the row and its event, uncommitted
        _wait_for(lambda: _count(progress) >= 25)
        time.sleep(random.uniform(0, 0.02))
        os.kill(runner.pid, signal.SIGKILL)  # somewhere in a write or between two
        for process in [*steady, victim, runner]:
            process.join(timeout=PROCESS_TIMEOUT)
    finally:
        for process in [*steady, victim, runner]:
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in steady] == [0] * 4
    assert (victim.exitcode, runner.exitcode) == (-signal.SIGKILL, -signal.SIGKILL)

    total = assert_consistent(database_url)
    by_actor = Counter(creators(database_url).values())
    assert [by_actor[f"S{w}"] for w in range(4)] == [100] * 4
    assert by_actor["VICTIM"] == 25  # the one it was killed inside is gone, whole
    reported = _count(progress)
    assert reported <= by_actor["RUNNER"] <= reported + 1  # killed after a commit, before reporting it: +1
    assert total == 400 + 25 + by_actor["RUNNER"]
    store = DecisionStore(build_engine(database_url))
    assert all(d.title != "Never committed" for d in store.all())
    assert store.add(draft("After the crash"), actor="U1").id == decision_id(total + 1)
    assert_consistent(database_url)


# -- brief outages ---------------------------------------------------------------------------------------


class Outage(Protocol):
    """Makes the database unavailable to the store under test, and available again."""

    def engine(self) -> Engine: ...
    def down(self) -> None: ...
    def up(self) -> None: ...
    def lose_next_commit_reply(self, engine: Engine, *, then_down: bool = False) -> None: ...


class SqliteOutage:
    """Another connection holds the write lock (BEGIN EXCLUSIVE) for longer than the store's busy timeout."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._holder: sqlite3.Connection | None = None

    def engine(self) -> Engine:
        return build_engine(self.url, busy_timeout=0.3)

    def down(self) -> None:
        path = store_url(self.url).database
        assert path
        self._holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._holder.execute("BEGIN EXCLUSIVE")

    def up(self) -> None:
        if self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None

    def lose_next_commit_reply(self, engine: Engine, *, then_down: bool = False) -> None:
        """The next commit happens, then reports an I/O error (SQLite has no network to lose a reply on)."""
        dialect = engine.dialect
        original = dialect.do_commit

        def commit_then_fail(dbapi_connection: Any) -> None:
            dialect.do_commit = original  # type: ignore[method-assign]
            original(dbapi_connection)
            if then_down:
                self.down()
            raise sqlite3.OperationalError("disk I/O error (simulated after the commit)")

        dialect.do_commit = commit_then_fail  # type: ignore[method-assign]


class PostgresOutage:
    """The store reaches PostgreSQL through a loopback forwarder that can cut and refuse connections."""

    def __init__(self, url: str, forwarder: TcpForwarder) -> None:
        self.url = store_url(url).set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
        self.forwarder = forwarder

    def engine(self) -> Engine:
        return build_engine(self.url)

    def down(self) -> None:
        self.forwarder.down()

    def up(self) -> None:
        self.forwarder.up()

    def lose_next_commit_reply(self, engine: Engine, *, then_down: bool = False) -> None:
        """The server receives the next COMMIT and commits; its answer never reaches the client."""
        self.forwarder.lose_reply_after(b"COMMIT\x00", then_down=then_down)


@pytest.fixture
def outage(database_url: str) -> Iterator[Outage]:
    if database_url.startswith("sqlite"):
        sqlite_outage = SqliteOutage(database_url)
        yield sqlite_outage
        sqlite_outage.up()
        return
    parsed = store_url(database_url)
    with tcp_forwarder(parsed.host or "127.0.0.1", parsed.port or 5432) as forwarder:
        yield PostgresOutage(database_url, forwarder)


def _retries(caplog: pytest.LogCaptureFixture) -> int:
    return sum("retrying" in r.getMessage() for r in caplog.records if r.name == "bot.decisions.store")


def test_a_write_during_a_brief_outage_waits_it_out_and_is_saved_once(
    database_url: str, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.decisions.store")
    store = DecisionStore(outage.engine(), retry_seconds=20)
    store.add(draft("Before the outage"), actor="U1")
    outage.down()
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        during = pool.submit(store.add, draft("During the outage"), actor="U2")
        time.sleep(2.0)
        assert not during.done(), "the write neither waited nor failed clearly"
        outage.up()
        decision = during.result(timeout=30)
    assert time.monotonic() - started >= 2.0
    assert decision.id == "DEC-0002"
    assert _retries(caplog) >= 1
    assert assert_consistent(database_url) == 2
    assert [d.title for d in store.all()] == ["Before the outage", "During the outage"]


def test_an_outage_longer_than_retry_seconds_is_refused_clearly_and_nothing_is_saved(
    database_url: str, outage: Outage
) -> None:
    store = DecisionStore(outage.engine(), retry_seconds=1.5)
    store.add(draft("Before the outage"), actor="U1")
    outage.down()
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError, match="nothing was saved"):
        store.add(draft("Lost to the outage"), actor="U2")
    waited = time.monotonic() - started
    assert 1.0 <= waited < 6.0, waited  # retried for about retry_seconds, then told the user
    with pytest.raises(DatabaseUnavailableError, match="nothing was saved"):
        store.set_status("DEC-0001", "accepted", actor="U2")
    outage.up()
    assert assert_consistent(database_url) == 1
    assert [e.kind for e in store.history("DEC-0001")] == ["created"]
    assert store.add(draft("After the outage"), actor="U2").id == "DEC-0002"  # no id was used up


def test_a_lost_commit_acknowledgement_is_not_applied_twice(
    database_url: str, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.decisions.store")
    engine = outage.engine()
    store = DecisionStore(engine, retry_seconds=10)

    outage.lose_next_commit_reply(engine)
    assert store.add(draft("Saved once"), actor="U1").id == "DEC-0001"
    assert _retries(caplog) == 1, "the commit's reply was not lost, so the retry path was not exercised"
    outage.lose_next_commit_reply(engine)
    assert store.set_status("DEC-0001", "accepted", actor="U2").status == "accepted"
    store.add(draft("Its successor"), actor="U1")
    outage.lose_next_commit_reply(engine)
    old, new = store.supersede("DEC-0001", "DEC-0002", actor="U3")
    assert (old.superseded_by, new.supersedes) == ("DEC-0002", "DEC-0001")
    assert _retries(caplog) == 3

    assert assert_consistent(database_url) == 2
    assert [e.kind for e in store.history("DEC-0001")] == ["created", "status", "superseded"]
    assert [e.kind for e in store.history("DEC-0002")] == ["created", "supersedes"]


def test_a_lost_acknowledgement_then_an_outage_says_the_decision_may_have_been_saved(
    database_url: str, outage: Outage
) -> None:
    engine = outage.engine()
    store = DecisionStore(engine, retry_seconds=1.5)
    outage.lose_next_commit_reply(engine, then_down=True)
    with pytest.raises(DatabaseUnavailableError, match="may or may not have been saved"):
        store.add(draft("Saved, but nobody heard"), actor="U1")
    outage.up()
    assert assert_consistent(database_url) == 1  # it was: saying "nothing was saved" would have been wrong
    assert store.get("DEC-0001").title == "Saved, but nobody heard"


def test_the_same_write_key_adds_one_decision_even_when_sent_at_once(database_url: str) -> None:
    store = DecisionStore(build_engine(database_url))
    store.add(draft("Unrelated"), actor="U1")
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: store.add(draft("Redelivered"), actor="U1", key="slack:V123"), range(6)))
    assert {d.id for d in results} == {"DEC-0002"}
    assert store.add(draft("Next"), actor="U1").id == "DEC-0003"  # the duplicates used up no id
    assert assert_consistent(database_url) == 3
    with pytest.raises(InputError, match="1 to 64 characters"):
        store.add(draft("Bad key"), actor="U1", key="k" * 65)


def _migrate(url: str, barrier: Any) -> None:
    engine = open_engine(url)
    import alembic.command  # noqa: F401 - loaded before the barrier, so the processes really start together

    barrier.wait(timeout=PROCESS_TIMEOUT)
    migrate(engine, attempts=1)


def test_several_processes_can_migrate_an_empty_database_at_once(database_url: str) -> None:
    """No retries allowed: they must take turns (an advisory lock on PostgreSQL, the write lock on SQLite)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    processes = [context.Process(target=_migrate, args=(database_url, barrier)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=PROCESS_TIMEOUT)
    assert [p.exitcode for p in processes] == [0] * 4
    engine = sqlalchemy.create_engine(store_url(database_url))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == [HEAD]
    engine.dispose()
    assert assert_consistent(database_url) == 0
    assert DecisionStore(build_engine(database_url)).add(draft("First"), actor="U1").id == "DEC-0001"
