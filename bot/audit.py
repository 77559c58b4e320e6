"""The audit record: every request and what came of it, kept for records requests.

One row per request: who, their audience, where, the verb, the question, the documents cited, the
outcome, and (in ``feedback``, keyed by the same request id) what people said about the answer.
Rows older than the retention setting are removed by :meth:`AuditLog.prune`; nothing else deletes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import time
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import InputError
from bot.store import audit_log, feedback, writer

logger = logging.getLogger(__name__)

Outcome = Literal["answered", "declined", "blocked", "error"]
MAX_QUESTION = 20_000


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self,
        *,
        request_id: str,
        door: str,
        user_id: str,
        user_name: str,
        team: str,
        audience: str,
        channel: str,
        place: str,
        verb: str,
        question: str,
        cited: Sequence[str],
        outcome: Outcome,
        detail: str = "",
    ) -> bool:
        """Keep one request's record; a database that is away costs the record (logged), never the answer."""
        row = {
            "request_id": request_id[:64],
            "at": time.time(),
            "door": door,
            "user_id": user_id[:64],
            "user_name": user_name[:200],
            "team": team[:64],
            "audience": audience[:200],
            "channel": channel[:64],
            "place": place,
            "verb": verb[:32],
            "question": question[:MAX_QUESTION],
            "cited": json.dumps(list(dict.fromkeys(cited))),
            "outcome": outcome,
            "detail": detail[:2000],
        }
        try:
            with writer(self._engine).begin() as connection:
                connection.execute(insert(audit_log).values(**row))
        except SQLAlchemyError as exc:
            logger.error("audit record for request %s not saved: %s", request_id, type(exc).__name__)
            return False
        return True

    def since(self, start: dt.date) -> list[dict[str, Any]]:
        """Records from ``start`` on, oldest first, each with the feedback given on its answer."""
        cutoff = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC).timestamp()
        with self._engine.connect() as connection:
            rows = connection.execute(select(audit_log).where(audit_log.c.at >= cutoff).order_by(audit_log.c.at))
            records = [dict(row._mapping) for row in rows]
            ratings = connection.execute(select(feedback.c.request_id, feedback.c.user_id, feedback.c.verdict)).all()
        given: dict[str, list[str]] = {}
        for rating in ratings:
            given.setdefault(rating.request_id, []).append(f"{rating.user_id}:{rating.verdict}")
        for record in records:
            record["cited"] = json.loads(record["cited"])
            record["at"] = dt.datetime.fromtimestamp(record["at"], tz=dt.UTC).isoformat(timespec="seconds")
            record["feedback"] = given.get(record["request_id"], [])
        return records

    def prune(self, retention_days: int) -> int:
        """Remove records older than the retention period (and only those); returns how many."""
        cutoff = time.time() - retention_days * 86_400
        with writer(self._engine).begin() as connection:
            result = connection.execute(delete(audit_log).where(audit_log.c.at < cutoff))
        return int(result.rowcount or 0)


def export(records: list[dict[str, Any]], fmt: str) -> str:
    """The records as CSV (lists joined with ``;``) or JSON lines."""
    if fmt == "json":
        return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if fmt != "csv":
        raise InputError(f"--format must be csv or json, not {fmt!r}.")
    columns = [c.name for c in audit_log.columns] + ["feedback"]
    out = io.StringIO()
    writer_ = csv.DictWriter(out, fieldnames=columns)
    writer_.writeheader()
    for record in records:
        writer_.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in record.items()})
    return out.getvalue()
