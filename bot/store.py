"""The shared database (SQLite by default, PostgreSQL for multi-user deployments)."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
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
    func,
    insert,
    make_url,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, ProgrammingError
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random

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
    # Set by each add() (see DecisionStore.add): a retry whose first commit did land finds it instead of adding twice.
    Column("write_key", String(64), nullable=True, unique=True, index=True),
    Column("visibility", String(16), nullable=False, server_default="internal"),
    Column("groups", Text, nullable=False, server_default=""),
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
audit_log = Table(
    "audit_log",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("at", Float, nullable=False, index=True),
    Column("door", String(16), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("team", String(64), nullable=False),
    Column("audience", String(200), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("place", String(16), nullable=False),
    Column("verb", String(32), nullable=False),
    Column("question", Text, nullable=False),
    Column("cited", Text, nullable=False),  # JSON list of document ids
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False),
)
solicitations = Table(
    "solicitations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("keywords", Text, nullable=False),  # JSON list: keywords and aliases
    Column("documents", Text, nullable=False),  # JSON list: ids of its documents in the knowledge base
    Column("opens", String(10), nullable=False),
    Column("closes", String(10), nullable=False),
    Column("officer", String(64), nullable=False),
    Column("qa_address", String(300), nullable=False),
    Column("closed_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Execution option that marks a write transaction: on SQLite it begins with BEGIN IMMEDIATE (see _sqlite_transactions).
WRITE_OPTION = "citybridge_write"
# Key of the PostgreSQL advisory lock that lets one process at a time migrate (any constant all processes share).
MIGRATION_LOCK = 0x43_69_74_79_42_72  # "CityBr"


class DatabaseUnavailableError(CityBridgeError):
    """The database did not answer; nothing was written."""


UNAVAILABLE = "The database is not reachable right now; nothing was saved. Try again shortly."
UNAVAILABLE_READ = "The database is not reachable right now. Try again shortly."
UNCERTAIN = (
    "The database stopped answering while the change was being saved, so it may or may not have been saved. "
    "Check the decision record before trying again."
)


def database_url(url: str) -> URL:
    """``postgresql://`` means the psycopg 3 driver CityBridge installs (SQLAlchemy's default is psycopg2)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError("CITYBRIDGE_DATABASE_URL is not a database URL (sqlite:///PATH or postgresql://...).") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def build_engine(url: str, *, busy_timeout: float = 5.0, connect_timeout: int = 5) -> Engine:
    """``open_engine``, migrated: what every CityBridge process uses."""
    engine = open_engine(url, busy_timeout=busy_timeout, connect_timeout=connect_timeout)
    try:
        migrate(engine)
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0][:200]
        logger.error("database %s unavailable at startup: %s", where, reason)  # no traceback: it's not a bug
        raise DatabaseUnavailableError(
            f"The database at {where} is not reachable, so nothing was read or saved. "
            "Check CITYBRIDGE_DATABASE_URL and that the server is running, then try again."
        ) from exc
    return engine


def open_engine(url: str, *, busy_timeout: float = 5.0, connect_timeout: int = 5) -> Engine:
    """An engine set up for several processes writing at once (not migrated).

    SQLite waits up to ``busy_timeout`` seconds for another writer's lock; PostgreSQL gives up connecting after
    ``connect_timeout`` seconds, so an unreachable server is reported instead of hanging the caller.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError(f"Cannot create the database folder {folder}: {exc.strerror}.") from exc
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = connect_timeout
    engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine, busy_timeout)
    return engine


def _sqlite_transactions(engine: Engine, busy_timeout: float) -> None:
    """Let SQLAlchemy, not pysqlite, begin SQLite transactions (SQLAlchemy's documented recipe).

    pysqlite's legacy mode begins a transaction only at the first INSERT/UPDATE/DELETE, so a SELECT before an
    UPDATE reads outside it and two processes can both change the same decision from the same old state.
    With the driver in autocommit, every SQLAlchemy transaction starts with an explicit BEGIN: ``BEGIN
    IMMEDIATE`` for writes (see ``writer``), which takes the write lock up front, so read-modify-write
    transactions run one at a time and never fail half-way for want of the lock; plain ``BEGIN`` for reads,
    which then see one consistent snapshot. WAL lets those reads go on while someone writes.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={max(0, round(busy_timeout * 1000))}")
        # Several processes opening a new database at once can each find the switch to WAL locked, and SQLite
        # answers that at once rather than waiting out the busy timeout: wait here instead.
        Retrying(
            stop=stop_after_delay(busy_timeout),
            wait=wait_random(0.01, 0.05),
            retry=retry_if_exception(_locked),
            reraise=True,
        )(cursor.execute, "PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def writer(engine: Engine) -> Engine:
    """``engine`` for write transactions: on SQLite they take the write lock at BEGIN (``_sqlite_transactions``)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def migrate(engine: Engine, attempts: int = 5) -> None:
    """Bring the schema to the newest Alembic revision (several processes may start at once).

    One process migrates at a time: on PostgreSQL the others wait on an advisory lock held until the
    migration commits (DDL is transactional there), then find the schema current; on SQLite the write
    transaction's lock does the same, and the retries cover a lock that outlasts the busy timeout.
    """
    from alembic import command  # noqa: PLC0415 - only needed at startup
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    for attempt in range(attempts):
        try:
            with writer(engine).begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
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
        self._engine = writer(engine)

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
