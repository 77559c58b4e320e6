"""Decisions as knowledge-base documents (kind ``decision``), so `ask` finds what was decided."""

from __future__ import annotations

from collections.abc import Sequence

from bot.decisions.models import Decision
from ingest.documents import LoadedDocument, Section
from ingest.pipeline import Ingestor

SOURCE = "decision record"


def as_document(decision: Decision) -> LoadedDocument:
    sections = [Section(("Decision",), f"{decision.title}. {decision.decision}")]
    if decision.context:
        sections.append(Section(("Context",), decision.context))
    if decision.options:
        sections.append(Section(("Options considered",), "\n\n".join(f"- {o}" for o in decision.options)))
    status = decision.status + (f" (superseded by {decision.superseded_by})" if decision.superseded_by else "")
    return LoadedDocument(
        doc_id=f"decisions/{decision.id}",
        title=f"{decision.id}: {decision.title}",
        sections=sections,
        url=decision.permalink,
        date=decision.date,
        meta={"status": status, "tags": decision.tags, "decided_by": decision.decided_by},
        visibility=decision.visibility,  # `ask` shows a decision only to those who may read it in the record
    )


def index_decisions(ingestor: Ingestor, decisions: Sequence[Decision], *, chunk_chars: int) -> int:
    return ingestor.upsert([as_document(d) for d in decisions], kind="decision", source=SOURCE, chunk_chars=chunk_chars)
