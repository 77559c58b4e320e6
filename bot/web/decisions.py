"""The public, read-only decision pages: ``/decisions`` (list, search, filter) and ``/decisions/ID``.

Residents read these, so every failure is a plain page (404, 405, 503) rather than a stack trace, and
nothing here writes: the routes answer GET and HEAD only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.decisions.models import STATUSES, Decision, DecisionEvent, decision_id
from bot.decisions.store import DecisionNotFoundError, DecisionStore, DecisionView, matching
from bot.request import Place, Who
from bot.request import Request as CityRequest
from bot.store import DatabaseUnavailableError
from bot.web.pages import base_path, render, safe_href, utc
from knowledge.visibility import PUBLIC

logger = logging.getLogger(__name__)

# DEC-0001, dec-0001, DEC1 or 1; ASCII digits only, and few enough that int() is always cheap and safe.
ID_PATTERN = re.compile(r"(?:DEC-?)?(\d{1,9})", re.IGNORECASE | re.ASCII)
MAX_QUERY = 200
UNREACHABLE = "The decision record cannot be reached right now. Please try again in a few minutes."
NOT_CONFIGURED = "The decision record is not set up on this server."
JSON_HEADERS = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}


class _UnavailableError(Exception):
    """The record cannot be read; ``str()`` is the sentence shown to the reader."""


@dataclass(frozen=True)
class HistoryRow:
    """One line of a decision's history, ready to print: who, when (UTC), what changed."""

    actor: str
    at_iso: str
    at_text: str
    text: str
    link: str | None = None


@dataclass(frozen=True)
class SourceLink:
    label: str
    href: str | None


def parse_id(raw: str) -> str | None:
    """The canonical id (``DEC-0001``) for what someone typed in the address bar, or None if it cannot be one."""
    match = ID_PATTERN.fullmatch(raw.strip())
    return decision_id(int(match.group(1))) if match else None


def newest_first(decisions: Iterable[Decision]) -> list[Decision]:
    """By decision date, then by id: a decision recorded later about an earlier meeting sorts by the meeting."""
    return sorted(decisions, key=lambda d: (d.date, d.number), reverse=True)


def history_rows(events: Iterable[DecisionEvent], name_of: Callable[[str], str] = str) -> list[HistoryRow]:
    """Each event in words. Events store only the new state, so the previous status is tracked along the way.
    ``name_of`` shows a person's name instead of their Slack id when the record knows it."""
    rows = []
    status = ""
    for event in events:
        text, link, status = _describe(event.kind, event.changes, status)
        at_iso, at_text = utc(event.at)
        rows.append(HistoryRow(actor=name_of(event.actor), at_iso=at_iso, at_text=at_text, text=text, link=link))
    return rows


def _describe(kind: str, changes: Mapping[str, Any], status: str) -> tuple[str, str | None, str]:
    """(sentence, linked decision id or None, status after the event)."""
    new_status = str(changes.get("status") or status)
    if kind == "created":
        return f"Recorded as {new_status or 'proposed'}.", None, new_status or "proposed"
    if kind == "status":
        before = f" from {status}" if status else ""
        return f"Status changed{before} to {new_status}.", None, new_status
    if kind == "superseded" and changes.get("superseded_by"):
        return "Superseded by", str(changes["superseded_by"]), "superseded"
    if kind == "supersedes" and changes.get("supersedes"):
        return "Now supersedes", str(changes["supersedes"]), status
    fields = ", ".join(sorted(str(key) for key in changes)) or "nothing recorded"
    return f"Changed: {fields}.", None, new_status


def source_links(decision: Decision) -> list[SourceLink]:
    return [SourceLink(label=s.title or s.doc_id, href=safe_href(s.url)) for s in decision.sources]


def _relative_path(request: Request) -> str:
    path = str(request.scope["path"])
    root = base_path(request)
    return path[len(root) :] if root and path.startswith(root) else path


def reader(request: Request) -> CityRequest:
    """A page request as a typed request: whoever reads these pages is anyone (a resident, a vendor, a search
    engine), so the audience is public and every query below is filtered to public decisions."""
    query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY]
    return CityRequest(Who(audience=PUBLIC), Place(kind="web", ceiling=PUBLIC), "decisions", query, door="web")


def is_decision_path(request: Request) -> bool:
    path = _relative_path(request)
    return path == "/decisions" or path.startswith(("/decisions/", "/decisions."))


class DecisionPages:
    """The routes and error pages, with the store and templates they need passed in."""

    def __init__(self, store: DecisionStore | None, *, templates: Environment, public_url: str = "") -> None:
        self._store = store
        self._templates = templates
        self._public_url = (safe_href(public_url) or "").rstrip("/")

    def routes(self) -> list[BaseRoute]:
        # The CSS sits under /decisions too, so a proxy that publishes only /decisions publishes a whole site.
        # Order matters: "assets" and "ID.json" must be tried before the catch-all "/decisions/{ident}".
        return [
            Route("/", self.home, methods=["GET"]),
            Mount("/decisions/assets", StaticFiles(packages=[("bot.web", "static")]), name="decision-assets"),
            Route("/decisions", self.list_page, methods=["GET"]),
            Route("/decisions.json", self.list_json, methods=["GET"]),
            Route("/decisions/{ident}.json", self.decision_json, methods=["GET"]),
            Route("/decisions/{ident}", self.decision_page, methods=["GET"]),
        ]

    def exception_handlers(self) -> dict[Any, Any]:
        return {
            HTTPException: self.http_error,
            DatabaseUnavailableError: self.unavailable,
            _UnavailableError: self.unavailable,
        }

    # -- pages --------------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        return RedirectResponse(f"{base_path(request)}/decisions", status_code=307)

    def list_page(self, request: Request) -> Response:
        query, status = self._filters(request)
        found, total = self._find(request, query, status)
        kept = {key: value for key, value in (("q", query), ("status", status)) if value}
        return self._render(
            request,
            "list.html",
            decisions=found,
            total=total,
            q=query,
            status=status,
            statuses=STATUSES,
            max_query=MAX_QUERY,
            query_string=urlencode(kept),
        )

    def list_json(self, request: Request) -> Response:
        query, status = self._filters(request)
        found, _total = self._find(request, query, status)
        return JSONResponse([d.model_dump(mode="json") for d in found], headers=JSON_HEADERS)

    def decision_page(self, request: Request) -> Response:
        decision = self._load(request, request.path_params["ident"])
        if decision is None:
            return self._not_found(request, request.path_params["ident"])
        store = self._require_store(request)
        return self._render(
            request,
            "decision.html",
            d=decision,
            supersedes_title=self._title(request, decision.supersedes),
            superseded_by_title=self._title(request, decision.superseded_by),
            permalink=safe_href(decision.permalink),
            sources=source_links(decision),
            history=history_rows(store.history(decision.id), decision.name_of),
            path=f"/decisions/{decision.id}",
        )

    def decision_json(self, request: Request) -> Response:
        decision = self._load(request, request.path_params["ident"])
        if decision is None:
            raw = request.path_params["ident"]
            return JSONResponse({"error": f"There is no decision {raw!r}."}, status_code=404, headers=JSON_HEADERS)
        events = self._require_store(request).history(decision.id)
        body = {**decision.model_dump(mode="json"), "history": [e.model_dump(mode="json") for e in events]}
        return JSONResponse(body, headers=JSON_HEADERS)

    # -- errors -------------------------------------------------------------------------------------

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """HTML 404/405 pages under /decisions; elsewhere (/slack/events, /healthz) Starlette's plain text as before."""
        assert isinstance(exc, HTTPException)
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=exc.headers)
        if not is_decision_path(request):
            return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 404:
            return self._not_found(request, None)
        if exc.status_code == 405:
            message = "These pages are read-only: they can be viewed, not changed."
            return self._error(request, 405, "Not allowed", message, headers=exc.headers)
        return self._error(request, exc.status_code, "Something went wrong", str(exc.detail), headers=exc.headers)

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        """503, saying so plainly; the reason goes to the log, never to the page (no hosts, paths or drivers)."""
        message = str(exc) if isinstance(exc, _UnavailableError) else UNREACHABLE
        logger.warning("decision pages: %s (%s)", message, exc.__cause__ or exc)
        headers = {"Retry-After": "60"}
        if _relative_path(request).endswith(".json"):
            return JSONResponse({"error": message}, status_code=503, headers={**JSON_HEADERS, **headers})
        return self._error(request, 503, "The decision record is unavailable", message, headers=headers)

    def _not_found(self, request: Request, ident: str | None) -> Response:
        if _relative_path(request).endswith(".json"):
            return JSONResponse({"error": "Not found."}, status_code=404, headers=JSON_HEADERS)
        if ident is not None and parse_id(ident) is not None:
            heading, message = "Decision not found", f"There is no decision {parse_id(ident)} in the record."
        else:
            heading, message = "Page not found", "There is no page at this address."
        return self._error(request, 404, heading, message)

    def _error(
        self,
        request: Request,
        status_code: int,
        heading: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        response = self._render(request, "error.html", status_code=status_code, heading=heading, message=message)
        response.headers.update(headers or {})
        return response

    # -- plumbing -----------------------------------------------------------------------------------

    def _render(self, request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
        path = context.pop("path", None)
        canonical = f"{self._public_url}{path}" if self._public_url and path else ""
        if self._public_url and name == "list.html":
            canonical = f"{self._public_url}/decisions"
        return render(self._templates, request, name, status_code=status_code, canonical=canonical, **context)

    def _require_store(self, request: Request) -> DecisionView:
        """The record as this page's reader may see it: the audience comes from the typed request."""
        if self._store is None:
            raise _UnavailableError(NOT_CONFIGURED)
        return DecisionView(self._store, reader(request).audience)

    def _filters(self, request: Request) -> tuple[str, str]:
        query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY]
        status = request.query_params.get("status", "").strip().lower()
        return query, status if status in STATUSES else ""

    def _find(self, request: Request, query: str, status: str) -> tuple[list[Decision], int]:
        """(matching decisions newest first, how many there are in all)."""
        store = self._require_store(request)
        everything = store.all()
        found = matching(everything, query)
        if status:
            found = [d for d in found if d.status == status]
        return newest_first(found), len(everything)

    def _load(self, request: Request, raw: str) -> Decision | None:
        store = self._require_store(request)
        canonical = parse_id(raw)
        if canonical is None:
            return None
        try:
            return store.get(canonical)
        except DecisionNotFoundError:
            return None

    def _title(self, request: Request, identifier: str | None) -> str:
        """The linked decision's title, so a link says where it goes; its id alone if it has gone missing."""
        if not identifier:
            return ""
        try:
            return self._require_store(request).get(identifier).title
        except DecisionNotFoundError:
            return ""
