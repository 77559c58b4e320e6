"""Exports: one MADR-style Markdown file per decision, CSV and JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from bot.decisions.models import Decision

CSV_FIELDS = (
    "id",
    "title",
    "status",
    "date",
    "decision",
    "context",
    "decided_by",
    "participants",
    "tags",
    "supersedes",
    "superseded_by",
    "permalink",
)


def to_markdown(decision: Decision) -> str:
    """A Markdown Architectural Decision Record (MADR) for a shared docs repository."""
    lines = [
        f"# {decision.id}: {decision.title}",
        "",
        f"- Status: {decision.status}"
        + (f" (superseded by {decision.superseded_by})" if decision.superseded_by else ""),
        f"- Date: {decision.date}",
    ]
    if decision.decided_by:
        lines.append(f"- Deciders: {decision.name_of(decision.decided_by)}")
    if decision.participants:
        lines.append(f"- Participants: {', '.join(decision.name_of(p) for p in decision.participants)}")
    if decision.tags:
        lines.append(f"- Tags: {', '.join(decision.tags)}")
    if decision.supersedes:
        lines.append(f"- Supersedes: {decision.supersedes}")
    if decision.permalink:
        lines.append(f"- Discussion: {decision.permalink}")
    lines += ["", "## Context and problem statement", "", decision.context or "_Not recorded._", ""]
    if decision.options:
        lines += ["## Considered options", "", *(f"- {option}" for option in decision.options), ""]
    lines += ["## Decision outcome", "", decision.decision, ""]
    if decision.sources:
        lines += ["## Sources", ""]
        for source in decision.sources:
            label = source.title or source.doc_id
            lines.append(f"- [{label}]({source.url})" if source.url else f"- {label}")
        lines.append("")
    return "\n".join(lines)


def export(decisions: Sequence[Decision], fmt: str, out: Path) -> list[Path]:
    """Write the export into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        written = []
        for decision in decisions:
            path = out / f"{decision.id.lower()}.md"
            path.write_text(to_markdown(decision), encoding="utf-8")
            written.append(path)
        return written
    if fmt == "json":
        path = out / "decisions.json"
        path.write_text(
            json.dumps([d.model_dump(mode="json") for d in decisions], indent=2, ensure_ascii=False), encoding="utf-8"
        )
        return [path]
    if fmt == "csv":
        path = out / "decisions.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for d in decisions:
                row = d.model_dump(mode="json")
                row["decided_by"] = d.name_of(d.decided_by)
                row["participants"] = "; ".join(d.name_of(p) for p in d.participants)
                row["tags"] = "; ".join(d.tags)
                writer.writerow({field: row.get(field) or "" for field in CSV_FIELDS})
        return [path]
    raise ValueError(f"unknown export format {fmt!r}")
