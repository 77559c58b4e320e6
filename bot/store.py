"""The shared database (SQLite by default, PostgreSQL for multi-user deployments)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    make_url,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, ProgrammingError

from bot.errors import CityBridgeError, InputError

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
counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)
decisions = Table(
    "decisions",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)
decision_events = Table(
    "decision_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(16), ForeignKey("decisions.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", Float, nullable=False),
    Column("changes", Text, nullable=False),
)
decision_cards = Table(
    "decision_cards",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("ts", String(32), primary_key=True),
    Column("decision_id", String(16), ForeignKey("decisions.id"), nullable=False, index=True),
)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailableError(CityBridgeError):
    """The database did not answer; nothing was written."""


UNAVAILABLE = "The database is not reachable right now; nothing was saved. Try again shortly."


def database_url(url: str) -> URL:
    """``postgresql://`` means the psycopg 3 driver CityBridge installs (SQLAlchemy's default is psycopg2)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError("CITYBRIDGE_DATABASE_URL is not a database URL (sqlite:///PATH or postgresql://...).") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def build_engine(url: str) -> Engine:
    """An engine with the pragmas SQLite needs for several processes (WAL, a busy timeout), migrated."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError(f"Cannot create the database folder {folder}: {exc.strerror}.") from exc
    engine = create_engine(parsed, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    try:
        migrate(engine)
    except OperationalError as exc:
        logger.exception("database %s unavailable at startup", parsed.render_as_string(hide_password=True))
        raise DatabaseUnavailableError(UNAVAILABLE) from exc
    return engine


def migrate(engine: Engine, attempts: int = 5) -> None:
    """Bring the schema to the newest Alembic revision (several processes may start at once)."""
    from alembic import command  # noqa: PLC0415 - only needed at startup
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            return
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))  # another process is migrating; its work will be visible next time


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
