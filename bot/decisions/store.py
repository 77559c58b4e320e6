"""The decision record on SQLAlchemy: every change is an event; the current state is kept in step with it.

Each write is one transaction: the id comes from a counter row updated inside it, so ids are unique
and gapless across processes, and a process killed mid-write leaves no half-written decision. Changes
read the decision under a write lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's FOR UPDATE), so two
people changing the same decision at once are applied one after the other, never both from the same
old state.

A database that stops answering is waited out: a write is retried with backoff for ``retry_seconds``,
then the caller gets DatabaseUnavailableError saying nothing was saved. A failed transaction was rolled
back, so retrying it is safe, with one exception: a commit whose acknowledgement was lost may have
landed. Every add() therefore stores a write key; a retry looks for it first and returns the decision
the lost commit saved instead of adding a second one. A retried status change or supersede whose
change is already the last event, by the same person, is likewise not applied twice. If retries run out
after such a commit, the message says the change may have been saved rather than that nothing was.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

from bot.decisions.models import Decision, DecisionDraft, DecisionEvent, check_transition, decision_id
from bot.errors import InputError
from bot.store import (
    UNAVAILABLE,
    UNAVAILABLE_READ,
    UNCERTAIN,
    DatabaseUnavailableError,
    counters,
    decision_events,
    decisions,
    writer,
)
from knowledge.visibility import Audience, Visibility

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Reads retry briefly: someone is waiting for an answer, and nothing is lost by asking them to try again.
READ_RETRY_SECONDS = 2.0
MAX_WRITE_KEY = 64
SQLITE_BUGS = ("no such ", "syntax error", "table ", "near ")  # messages of SQL mistakes, not of outages


class DecisionNotFoundError(InputError):
    pass


@dataclass
class _Attempts:
    """What the attempts of one operation have seen, for the retry checks and the final message."""

    count: int = 0
    committing: bool = False
    uncertain: bool = False  # some attempt failed while committing: its change may have been saved


class DecisionStore:
    def __init__(self, engine: Engine, *, retry_seconds: float = 10.0) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._retry_seconds = max(0.0, retry_seconds)

    # -- writing ------------------------------------------------------------------------------------

    def add(self, draft: DecisionDraft, *, actor: str, key: str | None = None) -> Decision:
        """Store a new decision and its ``created`` event; returns it with its id.

        ``key`` (up to 64 characters) makes the call idempotent across callers too: a second add with the
        same key (a redelivered Slack submission) returns the decision the first one stored. Without it,
        each call gets its own key, which protects its own retries.
        """
        write_key = key if key is not None else uuid.uuid4().hex
        if not write_key or len(write_key) > MAX_WRITE_KEY:
            raise InputError(f"A write key must be 1 to {MAX_WRITE_KEY} characters.")

        def work(connection: Connection, retrying: bool) -> Decision:
            if retrying or key is not None:
                existing = _by_key(connection, write_key)
                if existing is not None:
                    return existing
            number = connection.execute(
                update(counters)
                .where(counters.c.name == "decision")
                .values(value=counters.c.value + 1)
                .returning(counters.c.value)
            ).scalar_one()
            now = time.time()
            decision = Decision(
                **draft.model_dump(), id=decision_id(number), number=number, created_at=now, updated_at=now
            )
            connection.execute(insert(decisions).values(**_row(decision), write_key=write_key))
            _event(connection, decision.id, "created", actor, now, draft.model_dump(mode="json"))
            return decision

        try:
            return self._run(work, write=True)
        except IntegrityError:
            # Another transaction with this key committed first (a lost acknowledgement that landed late, or
            # the same key sent twice at once); its decision is the answer.
            existing = self._run(lambda connection, _: _by_key(connection, write_key), write=False)
            if existing is None:
                raise
            return existing

    def set_status(self, identifier: str, status: str, *, actor: str) -> Decision:
        def work(connection: Connection, retrying: bool) -> Decision:
            current = self._load(connection, identifier, lock=True)
            if retrying and current.status == status and _last_change_is(connection, current.id, actor, "status"):
                return current  # an earlier attempt's commit landed; its acknowledgement was lost
            check_transition(current.status, status)
            return self._change(connection, current, {"status": status}, "status", actor)

        return self._run(work, write=True)

    def supersede(self, old_id: str, new_id: str, *, actor: str) -> tuple[Decision, Decision]:
        """``new_id`` replaces ``old_id``; refuses self-links and finished decisions.

        Only a live decision may supersede, and the one it replaces becomes superseded, so every link
        points from a live decision to a finished one: no chain of links can loop back.
        """
        if _key(old_id) == _key(new_id):
            raise InputError("A decision cannot supersede itself.")

        def work(connection: Connection, retrying: bool) -> tuple[Decision, Decision]:
            old, new = self._load_locked_pair(connection, old_id, new_id)
            if (
                retrying
                and old.superseded_by == new.id
                and new.supersedes == old.id
                and _last_change_is(connection, new.id, actor, "supersedes")
            ):
                return old, new  # an earlier attempt's commit landed; its acknowledgement was lost
            if old.status == "superseded":
                raise InputError(f"{old.id} is already superseded by {old.superseded_by}.")
            if new.status in ("superseded", "rejected"):
                raise InputError(f"{new.id} is {new.status}; only a live decision can supersede another.")
            old = self._change(connection, old, {"status": "superseded", "superseded_by": new.id}, "superseded", actor)
            new = self._change(connection, new, {"supersedes": old.id}, "supersedes", actor)
            return old, new

        return self._run(work, write=True)

    def set_visibility(self, identifier: str, visibility: Visibility, *, actor: str) -> Decision:
        def work(connection: Connection, _: bool) -> Decision:
            current = self._load(connection, identifier, lock=True)
            if current.visibility == str(visibility):
                return current
            return self._change(connection, current, {"visibility": str(visibility)}, "visibility", actor)

        return self._run(work, write=True)

    # -- reading ------------------------------------------------------------------------------------

    def get(self, identifier: str, audience: Audience | None = None) -> Decision:
        """One decision; one that ``audience`` may not see is reported exactly like one that does not exist."""
        decision = self._run(lambda connection, _: self._load(connection, identifier), write=False)
        if audience is not None and not audience.may_see(decision.shown_to):
            raise DecisionNotFoundError(f"There is no decision {identifier!r}.")
        return decision

    def all(self, audience: Audience | None = None) -> list[Decision]:
        """Every decision (``audience``: only those it may see, filtered in the query)."""

        def work(connection: Connection, _: bool) -> list[Decision]:
            query = select(decisions.c.data).order_by(decisions.c.number)
            if audience is not None:
                query = query.where(_visible_to(audience))
            return [Decision.model_validate_json(row) for row in connection.execute(query).scalars()]

        return self._run(work, write=False)

    def search(self, query: str, audience: Audience | None = None) -> list[Decision]:
        """Decisions whose words contain every word of ``query`` (see :func:`matching`)."""
        return matching(self.all(audience), query)

    def history(self, identifier: str) -> list[DecisionEvent]:
        def work(connection: Connection, _: bool) -> list[DecisionEvent]:
            current = self._load(connection, identifier)
            rows = connection.execute(
                select(decision_events)
                .where(decision_events.c.decision_id == current.id)
                .order_by(decision_events.c.seq)
            ).mappings()
            return [
                DecisionEvent(
                    seq=r["seq"],
                    decision_id=r["decision_id"],
                    kind=r["kind"],
                    actor=r["actor"],
                    at=r["at"],
                    changes=json.loads(r["changes"]),
                )
                for r in rows
            ]

        return self._run(work, write=False)

    # -- plumbing -----------------------------------------------------------------------------------

    def _run(self, work: Callable[[Connection, bool], T], *, write: bool) -> T:
        """``work`` in one transaction, retried while the database is unavailable.

        ``work`` is told whether this is a retry, so it can check whether an earlier attempt's commit
        landed. Failures that are not about availability (bad input, a bug) are raised at once.
        """
        attempts = _Attempts()
        engine = self._writer if write else self._engine

        def once() -> T:
            attempts.count += 1
            attempts.committing = False
            try:
                with engine.begin() as connection:
                    result = work(connection, attempts.count > 1)
                    attempts.committing = write  # leaving the block commits
            except DBAPIError:
                attempts.uncertain = attempts.uncertain or attempts.committing
                raise
            return result

        limit = self._retry_seconds if write else min(self._retry_seconds, READ_RETRY_SECONDS)
        retrying = Retrying(
            stop=stop_after_delay(limit),
            wait=_backoff(limit),
            retry=retry_if_exception(_unavailable),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(once)
        except DBAPIError as exc:
            if not _unavailable(exc):
                raise
            message = UNCERTAIN if attempts.uncertain else UNAVAILABLE if write else UNAVAILABLE_READ
            logger.warning("giving up after %d attempts: %s", attempts.count, _reason(exc))
            raise DatabaseUnavailableError(message) from exc

    def _load(self, connection: Connection, identifier: str, *, lock: bool = False) -> Decision:
        """The decision; ``lock`` holds its row until the transaction ends (PostgreSQL; SQLite's write
        transactions already hold the whole database)."""
        query = select(decisions.c.data).where(decisions.c.id == _key(identifier))
        data = connection.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        if data is None:
            raise DecisionNotFoundError(f"There is no decision {identifier!r}.")
        return Decision.model_validate_json(data)

    def _load_locked_pair(self, connection: Connection, first: str, second: str) -> tuple[Decision, Decision]:
        """Both decisions, locked in id order: two supersedes naming the same pair can then not deadlock."""
        loaded = {
            identifier: self._load(connection, identifier, lock=True)
            for identifier in sorted((first, second), key=_key)
        }
        return loaded[first], loaded[second]

    def _change(
        self, connection: Connection, current: Decision, changes: dict[str, Any], kind: str, actor: str
    ) -> Decision:
        now = time.time()
        updated = current.model_copy(update={**changes, "updated_at": now, "version": current.version + 1})
        connection.execute(update(decisions).where(decisions.c.id == current.id).values(**_row(updated)))
        _event(connection, current.id, kind, actor, now, changes)
        return updated


def matching(decisions: Sequence[Decision], query: str) -> list[Decision]:
    """The decisions whose id, title, text, context, tags or options contain every word of ``query``."""
    words = [w.lower() for w in query.split()]
    found = []
    for decision in decisions:
        haystack = " ".join(
            [
                decision.id,
                decision.title,
                decision.decision,
                decision.context,
                " ".join(decision.tags),
                " ".join(decision.options),
            ]
        ).lower()
        if all(word in haystack for word in words):
            found.append(decision)
    return found


def _key(identifier: str) -> str:
    """``dec-7``, ``7`` and ``DEC-0007`` name the same decision."""
    key = identifier.strip().upper()
    return decision_id(int(key)) if key.isdigit() else key


def _by_key(connection: Connection, write_key: str) -> Decision | None:
    data = connection.execute(select(decisions.c.data).where(decisions.c.write_key == write_key)).scalar_one_or_none()
    return None if data is None else Decision.model_validate_json(data)


def _last_change_is(connection: Connection, identifier: str, actor: str, kind: str) -> bool:
    """Whether the newest event of ``identifier`` is a ``kind`` change by ``actor`` (an earlier attempt's)."""
    last = connection.execute(
        select(decision_events.c.kind, decision_events.c.actor)
        .where(decision_events.c.decision_id == identifier)
        .order_by(decision_events.c.seq.desc())
        .limit(1)
    ).one_or_none()
    return last is not None and (last.kind, last.actor) == (kind, _actor(actor))


def _unavailable(exc: BaseException) -> bool:
    """Failures worth waiting out: the database is locked, down, unreachable, or dropped the connection.

    SQLite also calls a missing table or bad SQL an OperationalError; those are bugs, raised at once.
    """
    if not isinstance(exc, DBAPIError):
        return False
    if isinstance(exc.orig, sqlite3.OperationalError) and str(exc.orig).startswith(SQLITE_BUGS):
        return False
    return isinstance(exc, OperationalError) or exc.connection_invalidated


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]


def _backoff(limit: float) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter (writers that failed together retry apart), cut short at ``limit``
    so the last attempt is made at the deadline rather than given up a long sleep early."""
    jittered = wait_random_exponential(multiplier=0.05, max=1.0)

    def wait(state: RetryCallState) -> float:
        return max(0.0, min(jittered(state), limit - (state.seconds_since_start or 0.0)))

    return wait


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning(
        "database unavailable (attempt %d, %.1fs so far): %s; retrying",
        state.attempt_number,
        state.seconds_since_start,
        _reason(exc) if exc else "unknown",
    )


def _visible_to(audience: Audience) -> ColumnElement[bool]:
    allowed: list[ColumnElement[bool]] = [decisions.c.visibility.in_(audience.levels())]
    allowed += [decisions.c.groups.contains(f",{group},", autoescape=True) for group in audience.readable_groups()]
    return or_(*allowed)


def _row(decision: Decision) -> dict[str, Any]:
    shown_to = decision.shown_to
    return {
        "visibility": shown_to.level,
        "groups": f",{','.join(shown_to.groups)}," if shown_to.groups else "",
        "id": decision.id,
        "number": decision.number,
        "title": decision.title,
        "status": decision.status,
        "data": decision.model_dump_json(),
        "updated_at": decision.updated_at,
    }


def _event(connection: Connection, identifier: str, kind: str, actor: str, at: float, changes: dict[str, Any]) -> None:
    connection.execute(
        insert(decision_events).values(
            decision_id=identifier,
            kind=kind,
            actor=_actor(actor),
            at=at,
            changes=json.dumps(changes, default=str),
        )
    )


def _actor(actor: str) -> str:
    return actor[:128] or "unknown"


def as_rows(items: Sequence[Decision]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items]


class DecisionView:
    """The record as one audience may read it; the filter is in every query."""

    def __init__(self, store: DecisionStore, audience: Audience) -> None:
        self.store = store
        self.audience = audience

    def all(self) -> list[Decision]:
        return self.store.all(self.audience)

    def search(self, query: str) -> list[Decision]:
        return self.store.search(query, self.audience)

    def recent(self, limit: int = 5) -> list[Decision]:
        return sorted(self.all(), key=lambda d: d.number, reverse=True)[:limit]

    def get(self, identifier: str) -> Decision:
        return self.store.get(identifier, self.audience)

    def history(self, identifier: str) -> list[DecisionEvent]:
        self.get(identifier)  # not found, for an audience that may not see it
        return self.store.history(identifier)
