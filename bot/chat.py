"""The interactive terminal chat: the quickest way to see CityBridge work."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot import render
from bot.errors import CityBridgeError
from bot.services import Services
from ingest.documents import LoadError, Section
from ingest.loaders import read_document
from knowledge.search import SearchError

HELP = {
    "ask QUESTION": "A grounded answer with sources (the default: just type your question).",
    "gov TEXT|FILE": "Explain a vendor proposal in government terms.",
    "tech TEXT|FILE": "Turn a government requirement into technical requirements.",
    "plain TEXT|FILE": "Plain-language summary that keeps every key fact.",
    "review TEXT|FILE": "Check a proposal against the partnership checklist.",
    "lessons TOPIC": "Search the lessons-learned archive.",
    "search QUERY": "Show the matching documents.",
    "stats": "What is in the knowledge base.",
    "help": "This list.",
    "quit": "Leave (Ctrl-D works too).",
}
EXAMPLES = (
    "What is the micro-purchase threshold?",
    "Who has to approve a $300,000 software contract?",
    "lessons free pilot",
)


def help_table() -> Table:
    table = Table(title="Commands", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for verb, what in HELP.items():
        table.add_row(verb, what)
    return table


def _text_or_file(rest: str, services: Services) -> list[Section]:
    """The argument of a verb: a path to a readable file, or the text itself."""
    candidate = Path(rest.strip()).expanduser()
    if rest.strip() and len(rest) < 500 and candidate.is_file():
        try:
            return read_document(candidate, max_bytes=int(services.settings.max_file_mb * 1024 * 1024))
        except LoadError as exc:
            raise CityBridgeError(f"Cannot use {candidate.name}: {exc}") from exc
    if not rest.strip():
        raise CityBridgeError("Paste the text (or a file path) after the verb, e.g. `plain contract.pdf`.")
    return [Section((), rest)]


def handle(line: str, services: Services, console: Console) -> bool:
    """Answer one line; returns False when the user wants to leave."""
    verb, _, rest = line.strip().partition(" ")
    verb = verb.lower()
    skills = services.skills
    if verb in ("quit", "exit", "bye"):
        return False
    if verb in ("gov", "tech", "review"):
        text = "\n\n".join(s.text for s in _text_or_file(rest, services))
        if verb == "gov":
            console.print(render.translate_gov_view(skills.to_gov(text)))
        elif verb == "tech":
            console.print(render.translate_tech_view(skills.to_tech(text)))
        else:
            console.print(render.review_table(skills.review(text)))
    elif verb in ("plain", "summarize"):
        console.print(render.summary_view(skills.summarize(_text_or_file(rest, services))))
    elif verb in ("help", "?"):
        console.print(help_table())
    elif verb == "stats":
        console.print(render.stats_table(services.index.stats()))
    elif verb == "lessons":
        console.print(render.lessons_view(skills.lessons(rest)))
    elif verb == "search":
        if not rest.strip():
            raise CityBridgeError("Type what to search for after `search`.")
        console.print(render.hits_table(services.searcher.search(rest, k=5), rest))
    else:
        question = rest if verb == "ask" else line
        console.print(render.ask_panel(skills.ask(question)))
    return True


def run_chat(services: Services, console: Console, *, check_library: bool = True) -> None:
    if check_library:  # `serve --chat` has just done this
        console.print("[bold]CityBridge[/bold]: checking the sample knowledge base…")
        report = services.ensure_library(render.RichProgress(console))
        if report.documents_indexed:
            console.print(f"Indexed {report.documents_indexed} documents ({report.chunks_indexed} chunks).")
    stats = services.index.stats()
    console.print(f"{stats.documents} documents ready. Ask a question, or type [bold]help[/bold]. Try:")
    for example in EXAMPLES:
        console.print(f"  • {escape(example)}")
    while True:
        try:
            line = console.input("[bold cyan]you>[/bold cyan] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not line.strip():
            continue
        try:
            if not handle(line, services, console):
                return
        except (CityBridgeError, SearchError) as exc:
            console.print(f"[yellow]{escape(str(exc))}[/yellow]")
