"""Terminal rendering of skill results with rich (tables and panels, never raw dumps)."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bot.assistant.results import AskResult, LessonsResult
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
    section = f", §{citation.section}" if citation.section else ""
    return f"{citation.title}{section}"


def ask_panel(result: AskResult) -> Panel:
    if not result.answered:
        return Panel(escape(result.answer), title="No answer in the knowledge base", border_style="yellow")
    body = Text()
    for sentence in result.sentences:
        body.append(sentence.text + " ")
        body.append(f"[{sentence.citation}]", style="bold cyan")
        body.append("\n")
    sources = Table(show_header=False, box=None, pad_edge=False)
    sources.add_column(style="bold cyan", width=4)
    sources.add_column()
    for citation in result.citations:
        link = citation.url or citation.source
        sources.add_row(
            f"[{citation.number}]", f"{escape(citation_label(citation))}\n[dim]{escape(link)}[/dim]"
        )
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
            detail.add_row(
                f"[{style}]{outcome.status}[/{style}]", escape(outcome.path), escape(outcome.reason)
            )
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
    last = (
        time.strftime("%Y-%m-%d %H:%M", time.localtime(stats.last_ingest)) if stats.last_ingest else "never"
    )
    table.add_row("last ingest", last)
    table.add_row("index folder", escape(stats.path))
    return table
