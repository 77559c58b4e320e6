"""The slack-bolt app: every skill where people already talk. Listeners know nothing about retrieval."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from slack_bolt import Ack, App, BoltResponse, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.assistant.skills import Skills
from bot.decisions.desk import DecisionDesk
from bot.errors import CityBridgeError
from bot.settings import Settings
from bot.slack import blocks
from bot.slack import decision_blocks as cards
from bot.slack.blocks import HomeStats
from bot.slack.decisions import NOT_SET_UP, decisions_reply, register_decisions
from bot.store import EventLedger
from ingest.documents import LoadError, Section
from ingest.loaders import UnsupportedFileError, load_file
from ingest.records import RecordColumns
from knowledge.index import KnowledgeIndex

logger = logging.getLogger(__name__)

VERBS = ("ask", "gov", "tech", "plain", "review", "lessons", "decide", "decisions", "help")
SHORTCUTS = {  # message shortcut callback id → verb (declared in the app manifest)
    "citybridge_explain_gov": "gov",
    "citybridge_explain_tech": "tech",
    "citybridge_plain_summary": "plain",
}
WORKING = "hourglass_flowing_sand"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
SORRY = "Something went wrong on our side while answering."
SORRY_HINT = "Try again in a minute. If it keeps failing, tell the CityBridge admins (the details are in the log)."


def parse_request(text: str, *, strict: bool = False) -> tuple[str, str]:
    """``(verb, rest)``; nothing at all asks for help. Text without a known verb is a question, except
    for the slash command (``strict``), where an unknown verb gets the help."""
    cleaned = _MENTION.sub("", text or "").strip()
    if not cleaned:
        return "help", ""
    first, _, rest = cleaned.partition(" ")
    verb = first.lower().rstrip(":")
    if verb in VERBS:
        return verb, rest.strip()
    if verb in ("summarize", "summary", "summarise"):
        return "plain", rest.strip()
    return ("help", "") if strict else ("ask", cleaned)


def answer(
    skills: Skills, verb: str, text: str, *, command: str, request_id: str, sections: list[Section] | None = None
) -> blocks.SlackMessage:
    """Run one request through the skills and render it; errors become a short reason with a way forward.

    ``sections`` carries a shared document's structure, so summaries work section by section.
    """
    if verb == "help" or (verb != "ask" and not text):
        return blocks.help_message(command)
    try:
        if verb == "gov":
            return blocks.gov_message(skills.to_gov(text), request_id=request_id)
        if verb == "tech":
            return blocks.tech_message(skills.to_tech(text), request_id=request_id)
        if verb == "plain":
            summary = skills.summarize(sections or [Section((), text)])
            return blocks.summary_message(summary, request_id=request_id)
        if verb == "review":
            return blocks.review_message(skills.review(text), request_id=request_id)
        if verb == "lessons":
            return blocks.lessons_message(skills.lessons(text), request_id=request_id)
        return blocks.answer_message(skills.ask(text), request_id=request_id)
    except CityBridgeError as exc:
        return blocks.error_message(str(exc))
    except Exception:
        logger.exception("request %s failed", request_id)
        return blocks.error_message(SORRY, SORRY_HINT)


def thread_question(client: WebClient, channel: str, thread_ts: str, current_ts: str, text: str) -> str:
    """A short follow-up in a thread is read with the question that came before it."""
    if len(text.split()) >= 8:
        return text
    try:
        replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=20)
    except SlackApiError:
        logger.warning("could not read thread %s in %s", thread_ts, channel)
        return text
    messages: list[dict[str, Any]] = replies.get("messages", [])
    earlier = [
        _MENTION.sub("", m.get("text", "")).strip()
        for m in messages
        if m.get("ts") != current_ts and not m.get("bot_id") and m.get("text")
    ]
    return f"{earlier[-1]} {text}".strip() if earlier else text


def answer_file(
    skills: Skills, verb: str, file: dict[str, Any], data: bytes, *, command: str, request_id: str
) -> blocks.SlackMessage:
    """A shared file read like any ingested document, then handled by the verb asked for (default: plain)."""
    name = str(file.get("name") or "file")
    try:
        documents = load_file(Path(name), name, data, RecordColumns())
    except UnsupportedFileError:
        return blocks.error_message(
            f"I can't read {name}: that file type isn't supported.",
            "Share a PDF, DOCX, Markdown, HTML or plain-text file.",
        )
    except LoadError as exc:
        return blocks.error_message(f"I couldn't read {name}: {exc}.", "Check the file opens on your computer.")
    sections = [section for document in documents for section in document.sections]
    if not sections:
        return blocks.error_message(f"{name} has no text I can read.", "Scanned PDFs need text (OCR) first.")
    verb = verb if verb in ("gov", "tech", "review") else "plain"
    text = "\n\n".join(s.text for s in sections)
    return answer(skills, verb, text, command=command, request_id=request_id, sections=sections)


def download(client: WebClient, file_id: str, max_bytes: int) -> tuple[dict[str, Any], bytes | None, str]:
    """``files.info`` then ``url_private`` with the bot token; returns the file, its bytes, or why not."""
    info: dict[str, Any] = client.files_info(file=file_id).get("file", {})
    size = int(info.get("size") or 0)
    if size > max_bytes:
        return (
            info,
            None,
            f"{info.get('name', 'The file')} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.",
        )
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    response = httpx.get(url, headers={"Authorization": f"Bearer {client.token}"}, timeout=30, follow_redirects=True)
    if response.status_code != 200 or len(response.content) > max_bytes:
        return info, None, f"I couldn't download {info.get('name', 'the file')} from Slack."
    return info, response.content, ""


def build_app(
    settings: Settings,
    skills: Callable[[], Skills],
    ledger: EventLedger,
    stats: Callable[[], HomeStats],
    decisions: Callable[[], DecisionDesk] | None = None,
) -> App:
    """The bolt app; ``skills``, ``stats`` and ``decisions`` are called when needed so that startup stays fast."""
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        raise CityBridgeError("Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to run the Slack app.")
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url or WebClient.BASE_URL,
    )
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=False,
        token_verification_enabled=False,
    )
    app.use(_once_per_event(ledger))
    _register(app, settings, skills, ledger, stats, decisions)
    return app


def start_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Connect over Socket Mode (no public URL needed) in background threads; returns the handler."""
    handler = SocketModeHandler(app, app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    return handler


def index_stats(index: KnowledgeIndex) -> Callable[[], HomeStats]:
    def read() -> HomeStats:
        stats = index.stats()
        return HomeStats(documents=stats.documents, by_kind=stats.by_kind, chunks=stats.chunks)

    return read


def _once_per_event(ledger: EventLedger) -> Callable[..., BoltResponse | None]:
    def once(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not ledger.first_time(event_id):
            logger.info("skipping re-delivered event %s", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return once


def _register(
    app: App,
    settings: Settings,
    skills: Callable[[], Skills],
    ledger: EventLedger,
    stats: Callable[[], HomeStats],
    decisions: Callable[[], DecisionDesk] | None,
) -> None:
    command = settings.slash_command
    decision_handlers = register_decisions(app, settings, skills, decisions) if decisions is not None else None

    def decision_verb(verb: str, text: str) -> blocks.SlackMessage:
        """``decisions QUERY`` searches the record; ``decide`` needs a form, which only Slack can open."""
        if decisions is None:
            return blocks.error_message(NOT_SET_UP)
        if verb == "decisions":
            try:
                desk = decisions()
            except CityBridgeError as exc:
                return blocks.error_message(str(exc))
            return decisions_reply(desk, text, command=command, public_url=settings.public_url)
        return blocks.error_message(
            "Logging a decision needs a form.",
            f"Use _Log as decision_ on the message that settles it, or type `{command} decide`.",
        )

    def reply_in_thread(event: dict[str, Any], client: WebClient, *, in_thread: bool) -> None:
        channel, ts = event["channel"], event["ts"]
        thread_ts = event.get("thread_ts") or (ts if in_thread else None)
        verb, text = parse_request(event.get("text", ""))
        if verb == "ask" and event.get("thread_ts"):
            text = thread_question(client, channel, event["thread_ts"], ts, text)
        _react(client, "reactions_add", channel, ts)
        if verb in ("decide", "decisions"):
            message = decision_verb(verb, text)
        else:
            message = answer(skills(), verb, text, command=command, request_id=str(uuid.uuid4()))
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks)
        finally:
            _react(client, "reactions_remove", channel, ts)

    def on_mention(event: dict[str, Any], client: WebClient) -> None:
        if event.get("files"):
            reply_with_files({**event, "thread_ts": event.get("thread_ts") or event["ts"]}, client)
        else:
            reply_in_thread(event, client, in_thread=True)

    def on_message(event: dict[str, Any], client: WebClient) -> None:
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return  # bots, edits and joins are not questions
        in_thread = bool(event.get("thread_ts"))
        if event.get("channel_type") != "im" and not (event.get("subtype") == "file_share" and in_thread):
            return  # channel chatter is for mentions
        if event.get("files"):
            reply_with_files(event, client)
        else:
            reply_in_thread(event, client, in_thread=False)

    def reply_with_files(event: dict[str, Any], client: WebClient) -> None:
        channel, ts = event["channel"], event["ts"]
        verb, _ = parse_request(event.get("text", ""))
        _react(client, "reactions_add", channel, ts)
        try:
            for file in event.get("files", [])[:3]:
                request_id = str(uuid.uuid4())
                try:
                    info, data, problem = download(client, str(file.get("id")), int(settings.max_upload_mb * 1024**2))
                except (SlackApiError, httpx.HTTPError) as exc:
                    logger.warning("could not fetch file %s: %s", file.get("id"), type(exc).__name__)
                    info, data, problem = {}, None, "I couldn't fetch that file from Slack."
                if data is None:
                    message = blocks.error_message(problem, "Share a smaller file, or paste the part you need.")
                else:
                    message = answer_file(skills(), verb, info, data, command=command, request_id=request_id)
                client.chat_postMessage(
                    channel=channel, thread_ts=event.get("thread_ts"), text=message.text, blocks=message.blocks
                )
        finally:
            _react(client, "reactions_remove", channel, ts)

    def on_shortcut(body: dict[str, Any], respond: Respond) -> None:
        verb = SHORTCUTS.get(str(body.get("callback_id")), "plain")
        text = str(body.get("message", {}).get("text", ""))
        message = answer(skills(), verb, _MENTION.sub("", text).strip(), command=command, request_id=str(uuid.uuid4()))
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

    def on_home(event: dict[str, Any], client: WebClient) -> None:
        recent: list[Any] = []
        if decisions is not None:
            try:
                recent = cards.recent_decisions_blocks(decisions().recent(5), public_url=settings.public_url)
            except CityBridgeError as exc:
                recent = [blocks.context(f"Recent decisions are unavailable: {exc}")]
        view = blocks.home_view(command, stats(), recent)
        client.views_publish(user_id=event["user"], view=view)

    def ack_event(ack: Ack) -> None:
        ack()

    def ack_command(ack: Ack, body: dict[str, Any]) -> None:
        verb, _ = parse_request(body.get("text", ""), strict=True)
        if verb == "help":
            message = blocks.help_message(command)
            ack(text=message.text, blocks=message.blocks)
        elif verb == "decide" and decision_handlers is not None:
            ack()  # the form opens in a moment
        else:
            ack(text=":hourglass_flowing_sand: Working on it…")

    def run_command(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        verb, text = parse_request(body.get("text", ""), strict=True)
        if verb == "help":
            return
        if verb == "decide" and decision_handlers is not None:
            decision_handlers.from_command(body, client, title=text)
            return
        if verb in ("decide", "decisions"):
            message = decision_verb(verb, text)
        else:
            message = answer(skills(), verb, text, command=command, request_id=str(uuid.uuid4()))
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=True)

    def on_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        verdict = "helpful" if action.get("action_id") == blocks.FEEDBACK_HELPFUL else "not_helpful"
        ledger.record_feedback(str(action.get("value", "")), str(body.get("user", {}).get("id", "")), verdict)

    app.event("app_mention")(ack=ack_event, lazy=[on_mention])
    app.event("message")(ack=ack_event, lazy=[on_message])
    app.command(command)(ack=ack_command, lazy=[run_command])
    for callback_id in SHORTCUTS:
        app.shortcut(callback_id)(ack=ack_event, lazy=[on_shortcut])
    app.event("app_home_opened")(ack=ack_event, lazy=[on_home])
    app.event("reaction_added")(ack_event)
    app.action(blocks.FEEDBACK_HELPFUL)(on_feedback)
    app.action(blocks.FEEDBACK_NOT_HELPFUL)(on_feedback)


def _react(client: WebClient, method: str, channel: str, ts: str) -> None:
    """Show (or clear) that work is under way; a missing reaction is not worth failing the answer."""
    try:
        getattr(client, method)(channel=channel, timestamp=ts, name=WORKING)
    except SlackApiError as exc:
        logger.info("%s failed: %s", method, exc.response.get("error"))
