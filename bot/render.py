"""Terminal rendering of skill results with rich (tables and panels, never raw dumps)."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bot.assistant.results import (
    AskResult,
    ConsiderationResult,
    LessonsResult,
    ReviewResult,
    SearchResult,
    SkillResult,
    StatsResult,
    SummaryResult,
    TermExplanation,
    TranslateGovResult,
    TranslateTechResult,
    UndefinedTerm,
    terms_line,
)
from bot.decisions.models import Decision, DecisionEvent
from bot.solicitations import Solicitation
from ingest.pipeline import IngestReport
from knowledge.index import IndexStats
from knowledge.models import Citation, Hit


class RichProgress:
    """The ingestion :class:`~ingest.pipeline.Progress` as a rich progress bar."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bar: Progress | None = None
        self._task: int | None = None

    def begin(self, label: str, total: int) -> None:
        if total <= 0:
            return
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._console,
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(label, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, amount)  # type: ignore[arg-type]

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._bar, self._task = None, None


def citation_label(citation: Citation) -> str:
    return citation.label()


def ask_panel(result: AskResult) -> Panel:
    body = Text()
    for sentence in result.sentences:
        body.append(sentence.text + " ")
        body.append(f"[{sentence.citation}]", style="bold cyan")
        body.append("\n")
    for note in result.notes if result.answered else [result.answer]:
        body.append(note + "\n", style="dim" if result.answered else "")
    sources = Table(show_header=False, box=None, pad_edge=False)
    sources.add_column(style="bold cyan", width=4)
    sources.add_column()
    for citation in result.citations:
        link = citation.url or citation.source
        sources.add_row(f"[{citation.number}]", f"{escape(citation_label(citation))}\n[dim]{escape(link)}[/dim]")
    if not result.answered:
        title = "Not covered by the knowledge base"
        return Panel(Group(body, sources) if result.citations else body, title=title, border_style="yellow")
    return Panel(
        Group(body, Text("Sources", style="bold"), sources),
        title=escape(result.question),
        border_style="green",
    )


def hits_table(hits: list[Hit], query: str) -> Table:
    table = Table(title=f"Results for “{query}”", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("Document")
    table.add_column("Kind")
    table.add_column("Score", justify="right")
    table.add_column("Passage")
    for number, hit in enumerate(hits, start=1):
        section = f"\n§ {hit.section_number or hit.section}" if (hit.section or hit.section_number) else ""
        doc = f"[bold]{escape(hit.title)}[/bold]{escape(section)}\n[dim]{escape(hit.link)}[/dim]"
        snippet = hit.text if len(hit.text) <= 280 else hit.text[:277] + "…"
        table.add_row(str(number), doc, hit.kind, f"{hit.score:.4f}", escape(snippet))
    return table


def search_view(result: SearchResult) -> Table | Text:
    return hits_table(result.hits, result.query) if result.hits else Text("No documents match.")


def stats_view(result: StatsResult) -> Table:
    table = Table(title="Knowledge base")
    table.add_column("What")
    table.add_column("Count", justify="right")
    table.add_row("documents", f"{result.documents:,}")
    for kind, count in result.by_kind.items():
        table.add_row(f"  {kind}", f"{count:,}")
    table.add_row("passages", f"{result.chunks:,}")
    return table


def solicitations_table(items: list[Solicitation], today: dt.date) -> Table | Text:
    if not items:
        return Text("No solicitations recorded.")
    table = Table(title="Solicitations")
    for column in ("Id", "Title", "Opens", "Closes", "Officer", "Keywords", "Now"):
        table.add_column(column)
    for item in items:
        now = "[bold red]open (blackout)[/bold red]" if item.is_open(today) else "closed"
        table.add_row(
            escape(item.id),
            escape(item.title),
            item.opens.isoformat(),
            item.closes.isoformat(),
            escape(item.officer),
            escape(", ".join(item.keywords)),
            now,
        )
    return table


def help_table(verbs: list[tuple[str, str]]) -> Table:
    """Help from the verb registry: ``(usage, what it does)`` pairs."""
    table = Table(title="Commands", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for usage, what in [*verbs, ("quit", "Leave (Ctrl-D works too).")]:
        table.add_row(escape(usage), escape(what))
    return table


def lessons_view(result: LessonsResult) -> Panel | Table:
    if not result.found:
        return Panel(escape(result.message), title="No matching lessons", border_style="yellow")
    table = Table(title=f"Lessons learned: “{result.query}”", show_lines=True)
    table.add_column("Lesson")
    table.add_column("Year", justify="right")
    table.add_column("Takeaway")
    for card in result.lessons:
        where = " · ".join(part for part in (card.project, card.department) if part)
        heading = f"[bold]{escape(card.title)}[/bold]\n{escape(where)}\n[dim]{escape(card.source)}[/dim]"
        table.add_row(heading, card.year, escape(card.takeaway))
    return table


def ingest_summary(report: IngestReport) -> Group:
    counts = Counter(f.status for f in report.files)
    table = Table(title="Ingest summary")
    table.add_column("Files")
    table.add_column("Count", justify="right")
    for status in ("indexed", "unchanged", "skipped", "failed", "removed"):
        if counts.get(status):
            table.add_row(status, f"{counts[status]:,}")
    table.add_row("documents indexed", f"{report.documents_indexed:,}")
    table.add_row("chunks indexed", f"{report.chunks_indexed:,}")
    if report.documents_removed:
        table.add_row("documents removed", f"{report.documents_removed:,}")
    rate = report.chunks_indexed / report.embed_seconds if report.embed_seconds else 0.0
    table.add_row("time", f"{report.seconds:.1f} s" + (f" ({rate:.0f} chunks/s embedding)" if rate else ""))
    parts: list[Table] = [table]
    problems = [f for f in report.files if f.status in ("failed", "skipped")]
    if problems:
        detail = Table(title="Not indexed", show_lines=False)
        detail.add_column("Status")
        detail.add_column("File")
        detail.add_column("Reason")
        for outcome in problems:
            style = "red" if outcome.status == "failed" else "yellow"
            detail.add_row(f"[{style}]{outcome.status}[/{style}]", escape(outcome.path), escape(outcome.reason))
        parts.append(detail)
    return Group(*parts)


def stats_table(stats: IndexStats) -> Table:
    table = Table(title="Knowledge base")
    table.add_column("What")
    table.add_column("Count", justify="right")
    table.add_row("documents", f"{stats.documents:,}")
    for kind, count in stats.by_kind.items():
        table.add_row(f"  {kind}", f"{count:,}")
    table.add_row("chunks", f"{stats.chunks:,}")
    table.add_row("vectors", f"{stats.vectors:,}")
    table.add_row("source files", f"{stats.sources:,}")
    last = time.strftime("%Y-%m-%d %H:%M", time.localtime(stats.last_ingest)) if stats.last_ingest else "never"
    table.add_row("last ingest", last)
    table.add_row("index folder", escape(stats.path))
    return table


def _terms_table(terms: list[TermExplanation], title: str = "Terms explained") -> Table:
    table = Table(title=title, show_lines=True)
    table.add_column("Term", style="bold")
    table.add_column("What it means")
    table.add_column("The other side would say")
    for term in terms:
        table.add_row(escape(term.term), escape(term.definition), escape(term.other_side))
    return table


def _considerations_table(considerations: list[ConsiderationResult]) -> Table:
    table = Table(title="What to check", show_lines=True)
    table.add_column("Consideration", style="bold")
    table.add_column("Why it matters")
    table.add_column("Rules in the knowledge base")
    for item in considerations:
        rules = "\n".join(f"• {escape(citation_label(c))}" for c in item.citations) or "[dim]none indexed[/dim]"
        quote = f"\n[dim]“{escape(item.quotes[0])}”[/dim]" if item.quotes else ""
        table.add_row(escape(item.name), escape(item.why) + quote, rules)
    return table


def _notice(result: SkillResult) -> list[Text]:
    return [Text(result.notice, style="yellow")] if result.notice else []


def _undefined_table(undefined: list[UndefinedTerm]) -> list[Table]:
    if not undefined:
        return []
    table = Table(title="Ask the vendor to define", show_lines=False)
    table.add_column("Term")
    table.add_column("Question")
    for item in undefined:
        table.add_row(escape(item.term), escape(item.question))
    return [table]


def translate_gov_view(result: TranslateGovResult) -> Group:
    questions = Text("\n".join(f"{n}. {q}" for n, q in enumerate(result.questions, start=1)))
    parts: list[Any] = [
        *_notice(result),
        Panel(escape(result.summary), title="What is proposed, in plain words", border_style="green"),
        Text(terms_line(result.terms_found, len(result.terms), len(result.undefined)), style="dim"),
        _terms_table(result.terms),
        *_undefined_table(result.undefined),
        _considerations_table(result.considerations),
        Panel(questions, title="Questions to ask the vendor"),
    ]
    if result.lessons:
        parts.append(lessons_view(LessonsResult(query="related lessons", found=True, lessons=result.lessons)))
    parts.append(Text(f"Reading grade of this brief: {result.grade:.1f}", style="dim"))
    return Group(*parts)


def translate_tech_view(result: TranslateTechResult) -> Group:
    table = Table(title="Technical requirements", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("Requirement")
    table.add_column("Acceptance criteria")
    table.add_column("Basis")
    for requirement in result.requirements:
        basis = "the text" if requirement.source == "text" else requirement.source
        cites = "\n".join(escape(citation_label(c)) for c in requirement.citations[:2])
        standards = (
            f"\n[dim]Standards: {escape(', '.join(requirement.standards))}[/dim]" if requirement.standards else ""
        )
        bar = f"\n[dim]Threshold: {escape(requirement.threshold)}[/dim]" if requirement.threshold else ""
        mapped = standards + bar
        table.add_row(
            str(requirement.number),
            escape(requirement.text) + mapped,
            escape(requirement.acceptance),
            f"{escape(basis)}\n[dim]{cites}[/dim]",
        )
    vague = Text("\n".join(f"• {v.question}" for v in result.vague))
    return Group(
        *_notice(result),
        table,
        *([Panel(vague, title="Too vague to test: ask")] if result.vague else []),
        Text(terms_line(result.terms_found, len(result.terms), len(result.undefined)), style="dim"),
        _terms_table(result.terms, "Government terms explained"),
        *_undefined_table(result.undefined),
        Text(f"Reading grade of the explanations: {result.grade:.1f}", style="dim"),
    )


def summary_view(result: SummaryResult) -> Group:
    facts = Text("\n".join(f"• {fact}" for fact in result.key_facts) or "No amounts, dates or durations found.")
    parts: list[Any] = [
        *_notice(result),
        Panel(escape(result.summary), title="Plain-language summary", border_style="green"),
        Panel(facts, title="Key facts"),
    ]
    if result.obligations:
        duties = Table(title="Who must do what", show_lines=True)
        duties.add_column("Party", style="bold")
        duties.add_column("Duty")
        for obligation in result.obligations[:15]:
            duties.add_row(escape(obligation.party), escape(obligation.duty))
        parts.append(duties)
    if result.terms:
        parts.append(_terms_table(result.terms, "Jargon kept in the summary"))
    parts.append(
        Text(
            f"Reading grade: {result.grade_before:.1f} before → {result.grade_after:.1f} after "
            f"({result.sentences_out} of {result.sentences_in} sentences)",
            style="dim",
        )
    )
    return Group(*parts)


_STATUS_STYLE = {"covered": "green", "partial": "yellow", "missing": "red"}


def review_table(result: ReviewResult) -> Group:
    table = Table(title="Partnership review", show_lines=True)
    table.add_column("Item", style="bold")
    table.add_column("Status")
    table.add_column("Evidence in the proposal / what to ask")
    for item in result.items:
        style = _STATUS_STYLE[item.status]
        detail = "\n".join(f"“{escape(e)}”" for e in item.evidence) or ""
        if item.questions:
            detail += ("\n" if detail else "") + "\n".join(f"[dim]Ask: {escape(q)}[/dim]" for q in item.questions)
        table.add_row(escape(item.name), f"[{style}]{item.status}[/{style}]", detail)
    summary = Text(f"{result.covered} covered · {result.partial} partly · {result.missing} missing")
    return Group(*_notice(result), table, summary)


def decisions_table(items: list[Decision]) -> Table | Text:
    if not items:
        return Text("No decisions match.")
    table = Table(title="Decisions", show_lines=False)
    for column in ("Id", "Title", "Status", "Date", "Tags"):
        table.add_column(column)
    for d in items:
        table.add_row(d.id, escape(d.title), d.status, d.date, escape(", ".join(d.tags)))
    return table


def decision_panel(decision: Decision, history: list[DecisionEvent]) -> Group:
    body = Text()
    body.append(f"{decision.decision}\n\n")
    if decision.context:
        body.append("Why: ", style="bold")
        body.append(f"{decision.context}\n")
    links = " · ".join(
        part
        for part in (
            f"supersedes {decision.supersedes}" if decision.supersedes else "",
            f"superseded by {decision.superseded_by}" if decision.superseded_by else "",
        )
        if part
    )
    events = Table(title="History", show_header=True)
    for column in ("When", "Who", "What"):
        events.add_column(column)
    for event in history:
        events.add_row(time.strftime("%Y-%m-%d %H:%M", time.localtime(event.at)), escape(event.actor), event.kind)
    return Group(
        Panel(body, title=f"{decision.id} · {escape(decision.title)} · {decision.status}", subtitle=links or None),
        events,
    )
