"""The shared database (SQLite by default, PostgreSQL for multi-user deployments)."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, create_engine, event, insert
from sqlalchemy.exc import IntegrityError, OperationalError

logger = logging.getLogger(__name__)

metadata = MetaData()
handled_events = Table(
    "handled_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("received_at", Float, nullable=False),
)
feedback = Table(
    "feedback",
    metadata,
    Column("request_id", String(255), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("verdict", String(16), nullable=False),
    Column("at", Float, nullable=False),
)


def build_engine(url: str) -> Engine:
    """An engine with the pragmas SQLite needs for several processes (WAL, a busy timeout)."""
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    metadata.create_all(engine)
    return engine


class EventLedger:
    """Remembers which Slack deliveries were handled, so a retry or a second replica answers once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def first_time(self, event_id: str) -> bool:
        """True exactly once per id, across processes sharing the database."""
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(handled_events).values(event_id=event_id, received_at=time.time()))
        except IntegrityError:
            return False
        except OperationalError:
            logger.exception("event ledger unavailable; handling %s without de-duplication", event_id)
            return True
        return True

    def record_feedback(self, request_id: str, user_id: str, verdict: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                feedback.delete().where(feedback.c.request_id == request_id, feedback.c.user_id == user_id)
            )
            connection.execute(
                insert(feedback).values(request_id=request_id, user_id=user_id, verdict=verdict, at=time.time())
            )
