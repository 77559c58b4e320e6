"""Starting the server: the index is ready before the first request, the model is warm."""

from __future__ import annotations

import logging
import threading

import uvicorn
from rich.console import Console

from bot.render import RichProgress
from bot.services import Services
from bot.slack.app import build_app, start_socket_mode
from bot.store import EventLedger
from bot.web.app import build_web_app

logger = logging.getLogger(__name__)


def run_server(services: Services, *, host: str, port: int, console: Console, chat: bool = False) -> None:
    settings = services.settings
    ready = threading.Event()
    services.ensure_library(RichProgress(console))
    services.embedder.embed_query("warm up")  # the first Slack request should not pay for loading the model
    ledger = EventLedger(services.engine)
    # the public /decisions pages read the same record Slack writes, on the same connection pool
    slack_configured = settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    bolt = build_app(settings, services, ledger) if slack_configured else None
    services.audit.prune(settings.audit_retention_days)
    if bolt is not None and settings.slack_app_token is not None:
        console.print("Slack Socket Mode: connecting (no public URL needed).")
        start_socket_mode(bolt, settings.slack_app_token.get_secret_value())
    elif bolt is None:
        console.print(
            "Slack is not configured (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET): serving /decisions and /healthz only. "
            "The README says how to connect Slack; the terminal chat works without it."
        )
    ready.set()
    console.print(f"CityBridge listening on http://{host}:{port} (GET /decisions, POST /slack/events, GET /healthz)")
    web = build_web_app(bolt, ready=ready.is_set, decisions=services.decisions, public_url=settings.public_url)
    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
    if not chat:
        server.run()
        return
    # The local console: the server keeps answering Slack while you try the assistant here.
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    from bot.chat import run_chat  # noqa: PLC0415

    try:
        run_chat(services, console, check_library=False)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
