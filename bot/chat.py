"""The interactive terminal chat: the quickest way to see CityBridge work.

A door like the others: each line becomes a :class:`Request` (the local operator is staff), goes through
the one request path, and is rendered with the verb's terminal renderer.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot import render, verbs
from bot.dispatch import Dispatcher, Outcome
from bot.errors import CityBridgeError, InputError
from bot.request import Request, local_request
from bot.services import Services
from ingest.documents import Section
from ingest.loaders import read_document

EXAMPLES = (
    "What is the micro-purchase threshold?",
    "Who has to approve a $300,000 software contract?",
    "lessons free pilot",
)
QUIT = ("quit", "exit", "bye")


def _file_sections(rest: str, services: Services) -> list[Section] | None:
    """The sections of a readable file named by ``rest``, or None when ``rest`` is text."""
    candidate = Path(rest.strip()).expanduser()
    if not rest.strip() or len(rest) >= 500 or not candidate.is_file():
        return None
    return read_document(candidate, max_bytes=int(services.settings.max_file_mb * 1024 * 1024))


def request_for(line: str, services: Services) -> Request:
    name, rest = verbs.split(line)
    verb = verbs.get(name)
    sections = _file_sections(rest, services) if verb.takes_file else None
    request = local_request(verb.name, rest, door="chat")
    if sections is None:
        return request
    return Request(request.who, request.where, verb.name, "", sections, rest.strip(), door="chat")


def show(outcome: Outcome, console: Console) -> None:
    if outcome.result is not None and outcome.verb is not None:
        console.print(outcome.verb.terminal(outcome.result))
    else:
        hint = f" {outcome.hint}" if outcome.hint else ""
        console.print(f"[yellow]{escape(outcome.message + hint)}[/yellow]")


def handle(line: str, services: Services, console: Console, dispatcher: Dispatcher | None = None) -> bool:
    """Answer one line; returns False when the user wants to leave."""
    if line.strip().lower() in QUIT:
        return False
    dispatcher = dispatcher or Dispatcher(services)
    try:
        request = request_for(line, services)
    except CityBridgeError as exc:  # an unknown verb, an unreadable file
        request = local_request(line.split(" ", 1)[0], line, door="chat")
        show(dispatcher.refuse(request, exc if exc.hint else InputError(str(exc), "Type `help`.")), console)
        return True
    show(dispatcher.handle(request), console)
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
    dispatcher = Dispatcher(services)
    while True:
        try:
            line = console.input("[bold cyan]you>[/bold cyan] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if line.strip() and not handle(line, services, console, dispatcher):
            return
