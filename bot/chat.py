"""The interactive terminal chat: the quickest way to see CityBridge work."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot import render
from bot.assistant.ask import Assistant
from bot.errors import CityBridgeError
from bot.services import Services
from knowledge.search import SearchError

HELP = {
    "ask QUESTION": "A grounded answer with sources (the default: just type your question).",
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


def handle(line: str, services: Services, assistant: Assistant, console: Console) -> bool:
    """Answer one line; returns False when the user wants to leave."""
    verb, _, rest = line.strip().partition(" ")
    verb = verb.lower()
    if verb in ("quit", "exit", "bye"):
        return False
    if verb in ("help", "?"):
        console.print(help_table())
    elif verb == "stats":
        console.print(render.stats_table(services.index.stats()))
    elif verb == "lessons":
        console.print(render.lessons_view(assistant.lessons(rest)))
    elif verb == "search":
        if not rest.strip():
            raise CityBridgeError("Type what to search for after `search`.")
        console.print(render.hits_table(services.searcher.search(rest, k=5), rest))
    else:
        question = rest if verb == "ask" else line
        console.print(render.ask_panel(assistant.ask(question)))
    return True


def run_chat(services: Services, assistant: Assistant, console: Console) -> None:
    console.print("[bold]CityBridge[/bold]: checking the sample knowledge base…")
    report = services.ensure_library(render.RichProgress(console))
    stats = services.index.stats()
    if report.documents_indexed:
        console.print(f"Indexed {report.documents_indexed} documents ({report.chunks_indexed} chunks).")
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
            if not handle(line, services, assistant, console):
                return
        except (CityBridgeError, SearchError) as exc:
            console.print(f"[yellow]{escape(str(exc))}[/yellow]")
