"""What the Slack app does with decisions: store them, keep the knowledge base in step, remember the cards.

The store is the record; the knowledge base is a copy for `ask`. If indexing fails the decision is still
saved (and says so in the log); `citybridge decisions reindex` repairs the copy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.decisions.models import Decision, DecisionDraft, SourceRef
from bot.decisions.store import DecisionStore
from bot.store import decision_cards, writer
from knowledge.visibility import STAFF, Audience

logger = logging.getLogger(__name__)

Publish = Callable[[Sequence[Decision]], object]
FindSources = Callable[[str], list[tuple[SourceRef, float]]]
# Sources this close to the draft start ticked; weaker ones are offered unticked.
PRESELECT_SIMILARITY = 0.55


class DecisionDesk:
    def __init__(
        self,
        store: DecisionStore,
        engine: Engine,
        *,
        publish: Publish,
        sources: FindSources,
        audience: Audience = STAFF,
    ) -> None:
        """``audience`` is who reads what this desk lists and suggests (the channel a form was opened in)."""
        self.store = store
        self.audience = audience
        self._engine = engine
        self._publish = publish
        self._sources = sources

    def add(self, draft: DecisionDraft, *, actor: str, key: str | None = None) -> Decision:
        """``key`` makes a redelivered or retried submission return the decision it already stored."""
        decision = self.store.add(draft, actor=actor, key=key)
        self._index(decision)
        return decision

    def set_status(self, identifier: str, status: str, *, actor: str) -> Decision:
        decision = self.store.set_status(identifier, status, actor=actor)
        self._index(decision)
        return decision

    def supersede(self, old_id: str, new_id: str, *, actor: str) -> tuple[Decision, Decision]:
        old, new = self.store.supersede(old_id, new_id, actor=actor)
        self._index(old, new)
        return old, new

    def recent(self, limit: int = 5) -> list[Decision]:
        return sorted(self.store.all(self.audience), key=lambda d: d.number, reverse=True)[:limit]

    def suggest_sources(self, text: str) -> tuple[list[SourceRef], list[str]]:
        """Knowledge-base documents that look relevant to a draft, and the ids of those close enough to
        start ticked; an index problem means none."""
        if not text.strip():
            return [], []
        try:
            scored = self._sources(text)
        except Exception:
            logger.exception("could not suggest sources for a decision draft")
            return [], []
        strong = [source.doc_id for source, score in scored if score >= PRESELECT_SIMILARITY]
        return [source for source, _ in scored], strong

    # -- where each decision's card was posted, so a change updates every copy ----------------------

    def remember_card(self, decision_id: str, channel: str, ts: str) -> None:
        try:
            with writer(self._engine).begin() as connection:
                connection.execute(insert(decision_cards).values(decision_id=decision_id, channel=channel, ts=ts))
        except IntegrityError:
            pass  # already remembered
        except OperationalError:
            logger.warning("could not remember the card of %s; later changes will not update it", decision_id)

    def cards(self, decision_id: str) -> list[tuple[str, str]]:
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(
                    select(decision_cards.c.channel, decision_cards.c.ts).where(
                        decision_cards.c.decision_id == decision_id
                    )
                ).all()
        except OperationalError:
            logger.warning("could not read the cards of %s", decision_id)
            return []
        return [(row.channel, row.ts) for row in rows]

    def _index(self, *decisions: Decision) -> None:
        try:
            self._publish(decisions)
        except Exception:
            logger.exception("saved %s but could not index it for ask", ", ".join(d.id for d in decisions))
