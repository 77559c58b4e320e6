"""The decision record on SQLAlchemy: every change is an event; the current state is kept in step with it.

Each write is one transaction: the id comes from a counter row updated inside it, so ids are unique
and gapless across processes, and a process killed mid-write leaves no half-written decision.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import OperationalError

from bot.decisions.models import Decision, DecisionDraft, DecisionEvent, check_transition, decision_id
from bot.errors import InputError
from bot.store import UNAVAILABLE, DatabaseUnavailableError, counters, decision_events, decisions


class DecisionNotFoundError(InputError):
    pass


class DecisionStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- writing ------------------------------------------------------------------------------------

    def add(self, draft: DecisionDraft, *, actor: str) -> Decision:
        """Store a new decision and its ``created`` event; returns it with its id."""
        with self._write() as connection:
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
            connection.execute(insert(decisions).values(**_row(decision)))
            _event(connection, decision.id, "created", actor, now, draft.model_dump(mode="json"))
            return decision

    def set_status(self, identifier: str, status: str, *, actor: str) -> Decision:
        with self._write() as connection:
            current = self._load(connection, identifier)
            check_transition(current.status, status)
            return self._change(connection, current, {"status": status}, "status", actor)

    def supersede(self, old_id: str, new_id: str, *, actor: str) -> tuple[Decision, Decision]:
        """``new_id`` replaces ``old_id``; refuses self-links and finished decisions.

        Only a live decision may supersede, and the one it replaces becomes superseded, so every link
        points from a live decision to a finished one: no chain of links can loop back.
        """
        if old_id.upper() == new_id.upper():
            raise InputError("A decision cannot supersede itself.")
        with self._write() as connection:
            old, new = self._load(connection, old_id), self._load(connection, new_id)
            if old.status == "superseded":
                raise InputError(f"{old.id} is already superseded by {old.superseded_by}.")
            if new.status in ("superseded", "rejected"):
                raise InputError(f"{new.id} is {new.status}; only a live decision can supersede another.")
            old = self._change(connection, old, {"status": "superseded", "superseded_by": new.id}, "superseded", actor)
            new = self._change(connection, new, {"supersedes": old.id}, "supersedes", actor)
            return old, new

    # -- reading ------------------------------------------------------------------------------------

    def get(self, identifier: str) -> Decision:
        with self._read() as connection:
            return self._load(connection, identifier)

    def all(self) -> list[Decision]:
        with self._read() as connection:
            rows = connection.execute(select(decisions.c.data).order_by(decisions.c.number)).scalars()
            return [Decision.model_validate_json(row) for row in rows]

    def search(self, query: str) -> list[Decision]:
        """Decisions whose words contain every word of ``query`` (title, text, context, tags, id)."""
        words = [w.lower() for w in query.split() if w.strip()]
        found = []
        for decision in self.all():
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

    def history(self, identifier: str) -> list[DecisionEvent]:
        with self._read() as connection:
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

    # -- plumbing -----------------------------------------------------------------------------------

    def _write(self) -> Any:
        return _Guard(self._engine, write=True)

    def _read(self) -> Any:
        return _Guard(self._engine, write=False)

    def _load(self, connection: Connection, identifier: str) -> Decision:
        key = identifier.strip().upper()
        if key.isdigit():
            key = decision_id(int(key))
        data = connection.execute(select(decisions.c.data).where(decisions.c.id == key)).scalar_one_or_none()
        if data is None:
            raise DecisionNotFoundError(f"There is no decision {identifier!r}.")
        return Decision.model_validate_json(data)

    def _change(
        self, connection: Connection, current: Decision, changes: dict[str, Any], kind: str, actor: str
    ) -> Decision:
        now = time.time()
        updated = current.model_copy(update={**changes, "updated_at": now, "version": current.version + 1})
        connection.execute(update(decisions).where(decisions.c.id == current.id).values(**_row(updated)))
        _event(connection, current.id, kind, actor, now, changes)
        return updated


class _Guard:
    """A transaction whose database failures become one clear, safe message."""

    def __init__(self, engine: Engine, *, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._context: Any = None

    def __enter__(self) -> Connection:
        try:
            self._context = self._engine.begin() if self._write else self._engine.connect()
            return self._context.__enter__()  # type: ignore[no-any-return]
        except OperationalError as exc:
            raise DatabaseUnavailableError(UNAVAILABLE) from exc

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self._context.__exit__(*exc_info)
        except OperationalError as exc:
            raise DatabaseUnavailableError(UNAVAILABLE) from exc


def _row(decision: Decision) -> dict[str, Any]:
    return {
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
            actor=actor[:128] or "unknown",
            at=at,
            changes=json.dumps(changes, default=str),
        )
    )


def as_rows(items: Sequence[Decision]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items]
