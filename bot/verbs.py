"""The one registry of verbs. Every front door looks a verb up here, runs it through
:func:`bot.dispatch.handle`, and renders its result with the entry's renderer for that door; help in every
door is built from these entries. Adding a verb means adding one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich.console import RenderableType

from bot import render
from bot.assistant.results import SearchResult, StatsResult
from bot.decisions.models import DecisionList
from bot.errors import InputError
from bot.request import Door, Request
from bot.slack import blocks
from bot.slack import decision_blocks as cards

if TYPE_CHECKING:
    from bot.services import Workspace


@dataclass(frozen=True)
class SlackContext:
    """What a Slack renderer needs besides the result."""

    request_id: str
    command: str = "/citybridge"
    public_url: str = ""


SlackRenderer = Callable[[Any, SlackContext], blocks.SlackMessage]
TerminalRenderer = Callable[[Any], RenderableType]


@dataclass(frozen=True)
class Verb:
    name: str
    usage: str  # what follows the verb, e.g. "QUESTION"
    help: str
    run: Callable[[Request, Workspace], BaseModel]
    slack: SlackRenderer
    terminal: TerminalRenderer
    aliases: tuple[str, ...] = ()
    needs_text: bool = True
    takes_file: bool = False  # a shared or named file is read and its text handed to the verb
    doors: frozenset[Door] = frozenset({"slack", "chat", "cli"})
    searches: bool = True  # its answer draws on the knowledge base (so it is subject to a blackout)

    def line(self, prefix: str = "") -> tuple[str, str]:
        """``("/citybridge ask QUESTION", "A grounded answer…")`` for help lists."""
        usage = f"{self.name} {self.usage}".strip()
        return (f"{prefix} {usage}".strip(), self.help)


def _text(request: Request) -> str:
    return request.text or "\n\n".join(s.text for s in request.sections)


def _sections(request: Request) -> list[Any]:
    from ingest.documents import Section  # noqa: PLC0415

    return list(request.sections) or [Section((), request.text)]


def _search(request: Request, ws: Workspace) -> SearchResult:
    return SearchResult(query=request.text, hits=ws.searcher.search(request.text, k=5))


def _stats(_: Request, ws: Workspace) -> StatsResult:
    stats = ws.index.stats()
    return StatsResult(documents=stats.documents, chunks=stats.chunks, by_kind=stats.by_kind)


def _decisions(request: Request, ws: Workspace) -> DecisionList:
    found = ws.decisions.search(request.text) if request.text.strip() else ws.decisions.recent(15)
    return DecisionList(query=request.text.strip(), decisions=sorted(found, key=lambda d: d.number, reverse=True))


def _decide(_: Request, __: Workspace) -> BaseModel:
    raise InputError(
        "Logging a decision needs a form.",
        "In Slack use “Log as decision” on the message that settles it; here use `citybridge decisions add`.",
    )


class Help(BaseModel):
    """The help list; its lines are read from the registry when it is rendered, for the door it is shown in."""


def _help(_: Request, __: Workspace) -> Help:
    return Help()


def _slack_help(_: Any, context: SlackContext) -> blocks.SlackMessage:
    return blocks.help_message([verb.line(context.command) for verb in available("slack")])


def _terminal_help(_: Any) -> RenderableType:
    return render.help_table([verb.line() for verb in available("chat")])


VERBS: tuple[Verb, ...] = (
    Verb(
        name="ask",
        usage="QUESTION",
        help="A grounded answer with sources (the default: just type your question).",
        run=lambda request, ws: ws.skills.ask(request.text),
        slack=lambda result, c: blocks.answer_message(result, request_id=c.request_id),
        terminal=render.ask_panel,
        needs_text=False,
    ),
    Verb(
        name="gov",
        usage="TEXT",
        help="Explain a vendor proposal in government terms.",
        run=lambda request, ws: ws.skills.to_gov(_text(request)),
        slack=lambda result, c: blocks.gov_message(result, request_id=c.request_id),
        terminal=render.translate_gov_view,
        takes_file=True,
    ),
    Verb(
        name="tech",
        usage="TEXT",
        help="Turn a government requirement into technical requirements.",
        run=lambda request, ws: ws.skills.to_tech(_text(request)),
        slack=lambda result, c: blocks.tech_message(result, request_id=c.request_id),
        terminal=render.translate_tech_view,
        takes_file=True,
    ),
    Verb(
        name="plain",
        usage="TEXT",
        help="A plain-language summary that keeps every key fact.",
        run=lambda request, ws: ws.skills.summarize(_sections(request)),
        slack=lambda result, c: blocks.summary_message(result, request_id=c.request_id),
        terminal=render.summary_view,
        aliases=("summarize", "summarise", "summary"),
        takes_file=True,
    ),
    Verb(
        name="review",
        usage="TEXT",
        help="Check a proposal against the partnership checklist.",
        run=lambda request, ws: ws.skills.review(_text(request)),
        slack=lambda result, c: blocks.review_message(result, request_id=c.request_id),
        terminal=render.review_table,
        takes_file=True,
    ),
    Verb(
        name="lessons",
        usage="TOPIC",
        help="Search the lessons-learned archive.",
        run=lambda request, ws: ws.skills.lessons(request.text),
        slack=lambda result, c: blocks.lessons_message(result, request_id=c.request_id),
        terminal=render.lessons_view,
    ),
    Verb(
        name="search",
        usage="QUERY",
        help="The documents that match, best first.",
        run=_search,
        slack=lambda result, c: blocks.search_message(result),
        terminal=render.search_view,
    ),
    Verb(
        name="decide",
        usage="[TITLE]",
        help="Log a decision from this conversation (a form opens).",
        run=_decide,
        slack=_slack_help,
        terminal=_terminal_help,
        needs_text=False,
        doors=frozenset({"slack"}),  # Slack opens a form for it (bot.slack.decisions) instead of answering
        searches=False,
    ),
    Verb(
        name="decisions",
        usage="[QUERY]",
        help="Search the decision record (the newest without a query).",
        run=_decisions,
        slack=lambda result, c: cards.decisions_message(
            result.decisions, query=result.query, command=c.command, public_url=c.public_url
        ),
        terminal=lambda result: render.decisions_table(result.decisions),
        needs_text=False,
        searches=False,
    ),
    Verb(
        name="stats",
        usage="",
        help="What is in the knowledge base.",
        run=_stats,
        slack=lambda result, c: blocks.stats_message(result),
        terminal=render.stats_view,
        needs_text=False,
        searches=False,
    ),
    Verb(
        name="help",
        usage="",
        help="This list.",
        run=_help,
        slack=_slack_help,
        terminal=_terminal_help,
        aliases=("?",),
        needs_text=False,
        searches=False,
    ),
)

_BY_NAME: dict[str, Verb] = {name: verb for verb in VERBS for name in (verb.name, *verb.aliases)}
DEFAULT = "ask"


def find(name: str) -> Verb | None:
    return _BY_NAME.get(name.lower().rstrip(":"))


def get(name: str) -> Verb:
    verb = find(name)
    if verb is None:
        raise InputError(f"There is no {name!r} command.", "Type `help` to see what CityBridge can do.")
    return verb


def available(door: Door) -> Iterable[Verb]:
    return (verb for verb in VERBS if door in verb.doors)


def split(text: str, *, strict: bool = False) -> tuple[str, str]:
    """``(verb, rest)`` from typed text. Nothing at all asks for help; text that does not start with a known
    verb is a question, except where only verbs make sense (``strict``: the slash command), where it gets
    the help."""
    cleaned = (text or "").strip()
    if not cleaned:
        return "help", ""
    first, _, rest = cleaned.partition(" ")
    verb = find(first)
    if verb is not None:
        return verb.name, rest.strip()
    return ("help", "") if strict else (DEFAULT, cleaned)
