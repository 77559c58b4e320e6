"""The HTTP front door (ASGI): Slack's events, commands and interactivity on one URL, a health check, and the
public, read-only decision pages."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.decisions.store import DecisionStore
from bot.web.decisions import DecisionPages
from bot.web.pages import build_templates


def build_web_app(
    bolt: App | None,
    *,
    ready: Callable[[], bool],
    decisions: DecisionStore | None = None,
    public_url: str = "",
) -> Starlette:
    """``POST /slack/events`` (bolt verifies signatures), ``GET /healthz``, and ``GET /decisions[/ID]``.

    ``decisions`` is the record the pages read; without it they answer 503. ``public_url`` only feeds the
    pages' canonical links.
    """

    async def slack_events(request: Request) -> Response:
        if bolt is None:
            return JSONResponse(
                {"error": "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"}, status_code=503
            )
        body = await request.body()
        # bolt's dispatch is synchronous (it acks, then runs lazy listeners in its own threads)
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    async def healthz(_request: Request) -> Response:
        if ready():
            return JSONResponse({"status": "ok", "slack": bolt is not None})
        return JSONResponse({"status": "starting"}, status_code=503)

    pages = DecisionPages(decisions, templates=build_templates(), public_url=public_url)
    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *pages.routes(),
        ],
        exception_handlers=pages.exception_handlers(),
    )
