"""The ``citybridge`` command line."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from bot import render, verbs
from bot.errors import CityBridgeError, InputError
from bot.request import Request, local_request
from bot.services import Services
from bot.settings import Settings, get_settings
from ingest.documents import LoadError, Section
from ingest.loaders import read_document
from ingest.records import RecordColumns, parse_jsonl
from knowledge.models import KINDS, Kind, MetaValue
from knowledge.search import Mode, SearchError
from knowledge.visibility import PUBLIC, STAFF, Audience, Visibility

app = typer.Typer(
    help="CityBridge: answers for city staff and technology vendors, grounded in a knowledge base.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks (measurements, not tests).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
decisions_app = typer.Typer(help="The shared decision record.", no_args_is_help=True)
app.add_typer(decisions_app, name="decisions")
visibility_app = typer.Typer(help="Who may see a document or a decision.", no_args_is_help=True)
app.add_typer(visibility_app, name="visibility")
solicitations_app = typer.Typer(help="Open solicitations (the procurement blackout).", no_args_is_help=True)
app.add_typer(solicitations_app, name="solicitations")
audit_app = typer.Typer(help="The audit record of every request.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

console = Console()
errors = Console(stderr=True)

HomeOption = Annotated[
    Path | None, typer.Option("--home", help="Folder for the index and database (default: $CITYBRIDGE_HOME).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
KindOption = Annotated[str | None, typer.Option("--kind", help=f"One of: {', '.join(KINDS)}.")]
AsOption = Annotated[
    str,
    typer.Option(
        "--as", help="Answer as this audience would be told: public, internal, or a Slack user id (asks Slack)."
    ),
]
VisibilityOption = Annotated[
    str | None, typer.Option("--visibility", help="public, internal or restricted:GROUP[,GROUP…].")
]


class State:
    settings: Settings


state = State()


@app.callback()
def main_options(home: HomeOption = None) -> None:
    settings = get_settings().with_home(home)
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    state.settings = settings


def _services() -> Services:
    return Services(state.settings)


def _kind(value: str | None) -> Kind | None:
    if value is None:
        return None
    if value not in KINDS:
        raise CityBridgeError(f"Unknown kind {value!r}: use one of {', '.join(KINDS)}.")
    return value


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to index.")],
    kind: KindOption = None,
    prune: Annotated[bool, typer.Option("--prune", help="Remove documents whose files are gone.")] = False,
    id_col: Annotated[str | None, typer.Option("--id-col", help="Record files: the id column.")] = None,
    title_col: Annotated[str | None, typer.Option("--title-col", help="Record files: the title column.")] = None,
    text_col: Annotated[list[str] | None, typer.Option("--text-col", help="Record files: text column(s).")] = None,
    visibility: VisibilityOption = None,
    as_json: JsonOption = False,
) -> None:
    """Index documents; unchanged files cost nothing, changed ones replace their chunks.

    Who may see each document: its front matter `visibility:`, else its MANIFEST.csv row, else --visibility,
    else the folder rules and default in the settings (internal unless changed)."""
    services = _services()
    columns = RecordColumns(id=id_col, title=title_col, text=tuple(text_col or ()))
    shown_to = Visibility.parse(visibility) if visibility else None
    options = services.ingest_options(kind=_kind(kind), prune=prune, columns=columns, visibility=shown_to)
    progress = None if as_json else render.RichProgress(errors)
    report = services.ingestor(progress).run(paths, options)
    if as_json:
        _print_json(report.model_dump())
    else:
        console.print(render.ingest_summary(report))
    raise typer.Exit(1 if report.failed else 0)


def _parse_filters(values: list[str] | None) -> dict[str, MetaValue]:
    filters: dict[str, MetaValue] = {}
    for value in values or []:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise CityBridgeError(f"Filter {value!r} must look like key=value.")
        filters[key.strip()] = raw.strip()
    return filters


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many documents.")] = 10,
    kind: KindOption = None,
    where: Annotated[list[str] | None, typer.Option("--filter", help="Metadata equality, key=value.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or lexical.")] = "hybrid",
    batch: Annotated[Path | None, typer.Option("--batch", help="JSONL queries: {id, text, filter?}.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Hybrid search over the knowledge base."""
    if mode not in ("hybrid", "dense", "lexical"):
        raise CityBridgeError("--mode must be hybrid, dense or lexical.")
    searcher = _services().searcher
    filters = _parse_filters(where)
    if batch is not None:
        _search_batch(searcher, batch, k=k, kind=_kind(kind), mode=mode)  # type: ignore[arg-type]
        return
    if not query:
        raise CityBridgeError("Give a query, or --batch FILE.")
    hits = searcher.search(query, k=k, kind=_kind(kind), where=filters, mode=mode)  # type: ignore[arg-type]
    if as_json:
        _print_json({"query": query, "hits": [hit.model_dump() for hit in hits]})
    elif hits:
        console.print(render.hits_table(hits, query))
    else:
        console.print("No documents match.")


def _search_batch(searcher: Any, path: Path, *, k: int, kind: Kind | None, mode: Mode) -> None:
    for number, item in enumerate(_jsonl(path), start=1):
        query_id = item.get("id", item.get("_id"))
        filters = item.get("filter") or {}
        if "text" not in item or not isinstance(filters, dict):
            raise CityBridgeError(f"{path}:{number}: expected {{id, text, filter?}} with filter an object.")
        started = time.perf_counter()
        try:
            hits = searcher.search(str(item["text"]), k=k, kind=kind, where=filters, mode=mode)
        except SearchError as exc:  # one bad query must not cost the answers to the others
            _print_json({"id": query_id, "hits": [], "ms": 0.0, "error": str(exc)})
            continue
        elapsed = (time.perf_counter() - started) * 1000
        _print_json({"id": query_id, "hits": [hit.doc_id for hit in hits], "ms": round(elapsed, 2)})


def _audience(value: str, services: Services) -> Audience:
    """``--as``: public, internal (staff), or a Slack user id looked up as the Slack app would."""
    lowered = value.strip().lower()
    if lowered in ("public", "vendor", "guest", "resident"):
        return PUBLIC
    if lowered in ("internal", "staff"):
        return STAFF
    if not re.fullmatch(r"[UW][A-Z0-9]{2,20}", value.strip()):
        raise InputError(f"--as {value!r} is not an audience.", "Use public, internal or a Slack user id (U012…).")
    settings = services.settings
    if settings.slack_bot_token is None:
        raise InputError("--as USER_ID asks Slack who that is.", "Set SLACK_BOT_TOKEN (and SLACK_API_URL if needed).")
    from slack_sdk import WebClient  # noqa: PLC0415

    from bot.slack.audience import AudienceResolver  # noqa: PLC0415

    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url or WebClient.BASE_URL
    )
    teams = settings.slack_home_teams or [str(client.auth_test().get("team_id") or "")]
    resolver = AudienceResolver(client, home_teams=teams, ttl=0)
    return resolver.who(value.strip(), team=teams[0]).audience


def _run_verb(
    verb: str,
    text: str = "",
    *,
    sections: list[Section] | None = None,
    audience: str = "internal",
    as_json: bool = False,
) -> None:
    """The CLI as a front door: one request through the one request path, rendered as a table or JSON."""
    from bot.dispatch import Dispatcher  # noqa: PLC0415

    services = _services()
    request = local_request(verb, text, audience=_audience(audience, services))
    if sections:
        request = Request(request.who, request.where, verb, "", sections, door="cli", request_id=request.request_id)
    outcome = Dispatcher(services).handle(request)
    if outcome.result is None or outcome.verb is None:
        raise CityBridgeError(outcome.message, outcome.hint)
    if as_json:
        _print_json(outcome.result.model_dump(mode="json"))
    else:
        console.print(outcome.verb.terminal(outcome.result))


@app.command(help=verbs.get("ask").help)
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    kind: KindOption = None,
    audience: AsOption = "internal",
    as_json: JsonOption = False,
) -> None:
    if kind:  # a narrower search than any door offers: the operator's own tool, over what --as may see
        services = _services()
        result = services.workspace(_audience(audience, services)).assistant.ask(question, kind=_kind(kind))
        _emit(result, render.ask_panel(result), as_json)
        return
    _run_verb("ask", question, audience=audience, as_json=as_json)


@app.command(help=verbs.get("lessons").help)
def lessons(
    query: Annotated[str, typer.Argument(help="Topic to look for in the lessons-learned archive.")],
    audience: AsOption = "internal",
    as_json: JsonOption = False,
) -> None:
    _run_verb("lessons", query, audience=audience, as_json=as_json)


@app.command()
def stats(as_json: JsonOption = False) -> None:
    """What is in the knowledge base."""
    result = _services().index.stats()
    if as_json:
        _print_json(result.__dict__)
    else:
        console.print(render.stats_table(result))


@app.command()
def chat() -> None:
    """An interactive terminal chat (indexes the bundled sample knowledge base on first run)."""
    from bot.chat import run_chat  # noqa: PLC0415

    services = _services()
    run_chat(services, console)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port for HTTP mode.")] = 3000,
    chat: Annotated[bool, typer.Option("--chat", help="Also open the terminal chat (when run interactively).")] = False,
) -> None:
    """Serve Slack over HTTP (POST /slack/events) with GET /healthz; Socket Mode when SLACK_APP_TOKEN is set."""
    from bot.serve import run_server  # noqa: PLC0415 - web stack loads only for serve

    run_server(_services(), host=host, port=port, console=console, chat=chat and sys.stdin.isatty())


def _decision_store() -> Any:
    return _services().decisions


ACTOR = "cli"


def _index_decisions(*decisions: Any) -> None:
    """Keep the knowledge base in step with the record, so `ask` finds what was decided."""
    _services().index_decisions(decisions)


@decisions_app.command("add")
def decisions_add(
    title: Annotated[str, typer.Option("--title", help="A short title people can find.")],
    decision: Annotated[str, typer.Option("--decision", help="What was decided.")],
    context: Annotated[str, typer.Option("--context", help="Why: the context and rationale.")] = "",
    status: Annotated[str, typer.Option("--status", help="proposed, accepted or rejected.")] = "proposed",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", help="An option considered (repeatable).")] = None,
    decided_by: Annotated[str, typer.Option("--by", help="Who decided.")] = "",
    visibility: Annotated[
        str | None, typer.Option("--visibility", help="public (shown on the public pages) or internal.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a decision; prints it with its id (DEC-0001…)."""
    from pydantic import ValidationError  # noqa: PLC0415

    from bot.decisions.models import DecisionDraft  # noqa: PLC0415

    try:
        draft = DecisionDraft(
            title=title,
            decision=decision,
            context=context,
            status=status,  # type: ignore[arg-type]
            tags=tag or [],
            options=option or [],
            decided_by=decided_by,
            visibility=visibility or state.settings.decision_visibility,
        )
    except ValidationError as exc:
        raise CityBridgeError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())) from exc
    stored = _decision_store().add(draft, actor=decided_by or ACTOR)
    _index_decisions(stored)
    _emit(stored, f"Recorded {stored.id}: {stored.title}", as_json)


@decisions_app.command("list")
def decisions_list(as_json: JsonOption = False) -> None:
    """Every decision, current state."""
    items = _decision_store().all()
    if as_json:
        _print_json([d.model_dump(mode="json") for d in items])
    else:
        console.print(render.decisions_table(items))


@decisions_app.command("show")
def decisions_show(
    identifier: Annotated[str, typer.Argument(help="DEC-0042 or 42.")], as_json: JsonOption = False
) -> None:
    """One decision with its history."""
    store = _decision_store()
    decision = store.get(identifier)
    if as_json:
        _print_json(
            {
                **decision.model_dump(mode="json"),
                "history": [e.model_dump(mode="json") for e in store.history(identifier)],
            }
        )
    else:
        console.print(render.decision_panel(decision, store.history(identifier)))


@decisions_app.command("search")
def decisions_search(query: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Decisions containing every word of the query."""
    items = _decision_store().search(query)
    if as_json:
        _print_json([d.model_dump(mode="json") for d in items])
    else:
        console.print(render.decisions_table(items))


@decisions_app.command("accept")
def decisions_accept(identifier: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Mark a proposed decision accepted."""
    decision = _decision_store().set_status(identifier, "accepted", actor=ACTOR)
    _index_decisions(decision)
    _emit(decision, f"{decision.id} is now accepted.", as_json)


@decisions_app.command("reject")
def decisions_reject(identifier: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Mark a proposed decision rejected."""
    decision = _decision_store().set_status(identifier, "rejected", actor=ACTOR)
    _index_decisions(decision)
    _emit(decision, f"{decision.id} is now rejected.", as_json)


@decisions_app.command("supersede")
def decisions_supersede(
    old: Annotated[str, typer.Argument(help="The decision being replaced.")],
    by: Annotated[str, typer.Option("--by", help="The decision that replaces it.")],
    as_json: JsonOption = False,
) -> None:
    """Replace a decision with a newer one (links both ways)."""
    replaced, replacement = _decision_store().supersede(old, by, actor=ACTOR)
    _index_decisions(replaced, replacement)
    _emit(replaced, f"{replaced.id} is superseded by {replacement.id}.", as_json)


@decisions_app.command("reindex")
def decisions_reindex() -> None:
    """Copy every decision into the knowledge base again (after a restore, or if indexing failed)."""
    items = _decision_store().all()
    chunks = _services().index_decisions(items)
    console.print(f"{len(items)} decision(s) checked; {chunks} passage(s) re-embedded.")


@decisions_app.command("export")
def decisions_export(
    fmt: Annotated[str, typer.Option("--format", help="md (one MADR file each), csv or json.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write into.")],
) -> None:
    """Export the record for a docs repository or a spreadsheet."""
    from bot.decisions.export import export  # noqa: PLC0415

    if fmt not in ("md", "csv", "json"):
        raise CityBridgeError("--format must be md, csv or json.")
    written = export(_decision_store().all(), fmt, out)
    console.print(f"Wrote {len(written)} file(s) to {out}")


@visibility_app.command("set")
def visibility_set(
    target: Annotated[str, typer.Argument(help="A document id (as `search` shows it) or a decision (DEC-0042).")],
    level: Annotated[str, typer.Argument(help="public, internal or restricted:GROUP[,GROUP…].")],
) -> None:
    """Change who may see a document or a decision, everywhere it is stored."""
    from bot.decisions.models import DECISION_ID  # noqa: PLC0415

    services = _services()
    shown_to = Visibility.parse(level)
    if DECISION_ID.fullmatch(target.strip()):
        decision = services.decisions.set_visibility(target, shown_to, actor=ACTOR)
        services.index_decisions([decision])
        console.print(f"{decision.id} is now {decision.visibility}.")
        return
    changed = services.index.set_visibility(target, shown_to)
    if not changed:
        raise InputError(f"There is no document {target!r} in the index.", "`citybridge search` shows document ids.")
    console.print(f"{target} is now {shown_to} ({changed} passages).")


@solicitations_app.command("add")
def solicitations_add(
    identifier: Annotated[str, typer.Option("--id", help="The solicitation number, e.g. RFP-2026-014.")],
    title: Annotated[str, typer.Option("--title", help="Its title.")],
    opens: Annotated[str, typer.Option("--opens", help="First day it is open (YYYY-MM-DD).")],
    closes: Annotated[str, typer.Option("--closes", help="Last day it is open (YYYY-MM-DD).")],
    officer: Annotated[str, typer.Option("--officer", help="The procurement officer's Slack user id.")],
    keyword: Annotated[list[str] | None, typer.Option("--keyword", help="A keyword or alias (repeatable).")] = None,
    document: Annotated[list[str] | None, typer.Option("--document", help="A document id of it (repeatable).")] = None,
    qa_address: Annotated[str, typer.Option("--qa", help="Where written questions go.")] = "",
) -> None:
    """Open a blackout: outside questions about it get the officer's address instead of an answer."""
    from pydantic import ValidationError  # noqa: PLC0415

    from bot.solicitations import Solicitation, keywords_of, parse_day  # noqa: PLC0415

    try:
        solicitation = Solicitation(
            id=identifier,
            title=title,
            keywords=keywords_of(keyword or []),
            documents=document or [],
            opens=parse_day(opens, "--opens"),
            closes=parse_day(closes, "--closes"),
            officer=officer,
            qa_address=qa_address,
        )
    except ValidationError as exc:
        raise InputError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())) from exc
    _services().solicitations.add(solicitation)
    console.print(f"{solicitation.id} is open from {solicitation.opens} to {solicitation.closes}.")


@solicitations_app.command("list")
def solicitations_list(as_json: JsonOption = False) -> None:
    """Every solicitation, open or not."""
    import datetime as dt  # noqa: PLC0415

    items = _services().solicitations.all()
    if as_json:
        _print_json([item.model_dump(mode="json") for item in items])
    else:
        console.print(render.solicitations_table(items, dt.date.today()))


@solicitations_app.command("close")
def solicitations_close(identifier: Annotated[str, typer.Argument(help="The solicitation id.")]) -> None:
    """End a blackout early (it also ends on its closing date)."""
    closed = _services().solicitations.close(identifier)
    console.print(f"{closed.id} is closed: questions about it are answered again.")


@audit_app.command("export")
def audit_export(
    since: Annotated[str, typer.Option("--since", help="First day to include (YYYY-MM-DD).")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json (one record per line).")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="A file to write (default: standard output).")] = None,
) -> None:
    """Every request since a date, with its outcome, sources and feedback (for records requests)."""
    from bot.audit import export  # noqa: PLC0415
    from bot.solicitations import parse_day  # noqa: PLC0415

    records = _services().audit.since(parse_day(since, "--since"))
    text = export(records, fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        errors.print(f"Wrote {len(records)} record(s) to {out}")


SourceArgument = Annotated[str, typer.Argument(help="A file (PDF, DOCX, Markdown, HTML, text) or - for stdin.")]


def _read_sections(source: str, services: Services) -> list[Section]:
    if source == "-":
        return [Section((), sys.stdin.read())]
    try:
        return read_document(Path(source), max_bytes=int(services.settings.max_file_mb * 1024 * 1024))
    except LoadError as exc:
        raise CityBridgeError(f"Cannot use {source}: {exc}") from exc


def _read_text(source: str, services: Services) -> str:
    return "\n\n".join(section.text for section in _read_sections(source, services))


@app.command()
def translate(
    source: SourceArgument = "-",
    to: Annotated[
        str, typer.Option("--to", help="gov (vendor text → city terms) or tech (city text → requirements).")
    ] = "gov",
    audience: AsOption = "internal",
    as_json: JsonOption = False,
) -> None:
    """Explain a vendor proposal in government terms, or a government requirement in technical terms."""
    if to not in ("gov", "tech"):
        raise CityBridgeError("--to must be gov or tech.")
    _run_verb(to, _read_text(source, _services()), audience=audience, as_json=as_json)


@app.command()
def summarize(
    source: SourceArgument = "-",
    batch: Annotated[Path | None, typer.Option("--batch", help="JSONL inputs: {id, text}.")] = None,
    audience: AsOption = "internal",
    as_json: JsonOption = False,
) -> None:
    """A plain-language summary that keeps every key fact, with reading grades before and after."""
    services = _services()
    if batch is not None:
        for number, item in enumerate(_jsonl(batch), start=1):
            if "text" not in item:
                raise CityBridgeError(f"{batch}:{number}: each line needs a text field.")
            result = services.skills.summarize([Section((), str(item["text"]))])
            _print_json(
                {
                    "id": item.get("id", item.get("_id")),
                    "summary": result.summary,
                    "grade_after": result.grade_after,
                }
            )
        return
    sections = _read_sections(source, services)
    if not any(section.text.strip() for section in sections):
        raise CityBridgeError("There is no text to summarize.")
    _run_verb("plain", sections=sections, audience=audience, as_json=as_json)


@app.command(help=verbs.get("review").help)
def review(source: SourceArgument = "-", audience: AsOption = "internal", as_json: JsonOption = False) -> None:
    _run_verb("review", _read_text(source, _services()), audience=audience, as_json=as_json)


def _emit(result: BaseModel, view: Any, as_json: bool) -> None:
    if as_json:
        _print_json(result.model_dump(mode="json"))
    else:
        console.print(view)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return parse_jsonl(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CityBridgeError(f"Cannot read {path}: {exc.strerror}") from exc
    except LoadError as exc:
        raise CityBridgeError(f"{path}: {exc}.") from exc


def _register_bench() -> None:
    from bench import commands  # noqa: PLC0415

    commands.register(bench_app, lambda: state.settings, console)


def main() -> None:
    """Entry point: errors meant for people become a message and exit code 2; anything else is logged with a
    reference id and reported in one line (exit code 1), never as a traceback."""
    _register_bench()
    try:
        app()
    except CityBridgeError as exc:
        hint = f"\n{exc.hint}" if exc.hint else ""
        errors.print(f"[red]Error:[/red] {escape(str(exc))}{escape(hint)}")
        sys.exit(2)
    except KeyboardInterrupt:
        errors.print("Interrupted.")
        sys.exit(130)
    except Exception:
        reference = uuid.uuid4().hex[:8]
        where = _crash_log(reference)
        errors.print(f"[red]Error:[/red] something went wrong (reference {reference}); the details are in {where}.")
        sys.exit(1)


def _crash_log(reference: str) -> Path:
    """The traceback goes to a file in the home folder, not to the person's terminal."""
    home = getattr(state, "settings", None)
    folder = home.home if home is not None else Path.cwd()
    path = folder / "citybridge-errors.log"
    crash = logging.getLogger("citybridge.crash")
    crash.propagate = False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler, path = logging.StreamHandler(sys.stderr), Path("standard error")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    crash.addHandler(handler)
    crash.exception("citybridge failed (reference %s)", reference)
    return path
