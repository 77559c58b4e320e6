"""The slack-bolt app: every skill where people already talk. Listeners know nothing about retrieval."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.assistant.skills import Skills
from bot.errors import CityBridgeError
from bot.settings import Settings
from bot.slack import blocks
from bot.store import EventLedger
from ingest.documents import Section

logger = logging.getLogger(__name__)

VERBS = ("ask", "gov", "tech", "plain", "review", "lessons", "help")
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


def answer(skills: Skills, verb: str, text: str, *, command: str, request_id: str) -> blocks.SlackMessage:
    """Run one request through the skills and render it; errors become a short reason with a way forward."""
    if verb == "help" or (verb != "ask" and not text):
        return blocks.help_message(command)
    try:
        if verb == "gov":
            return blocks.gov_message(skills.to_gov(text), request_id=request_id)
        if verb == "tech":
            return blocks.tech_message(skills.to_tech(text), request_id=request_id)
        if verb == "plain":
            return blocks.summary_message(skills.summarize([Section((), text)]), request_id=request_id)
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


def build_app(settings: Settings, skills: Callable[[], Skills], ledger: EventLedger) -> App:
    """The bolt app; ``skills`` is called on first use so that startup stays fast."""
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
    _register(app, settings, skills, ledger)
    return app


def _once_per_event(ledger: EventLedger) -> Callable[..., BoltResponse | None]:
    def once(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not ledger.first_time(event_id):
            logger.info("skipping re-delivered event %s", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return once


def _register(app: App, settings: Settings, skills: Callable[[], Skills], ledger: EventLedger) -> None:
    command = settings.slash_command

    def reply_in_thread(event: dict[str, Any], client: WebClient, *, in_thread: bool) -> None:
        channel, ts = event["channel"], event["ts"]
        thread_ts = event.get("thread_ts") or (ts if in_thread else None)
        verb, text = parse_request(event.get("text", ""))
        if verb == "ask" and event.get("thread_ts"):
            text = thread_question(client, channel, event["thread_ts"], ts, text)
        _react(client, "reactions_add", channel, ts)
        message = answer(skills(), verb, text, command=command, request_id=str(uuid.uuid4()))
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks)
        finally:
            _react(client, "reactions_remove", channel, ts)

    def on_mention(event: dict[str, Any], client: WebClient) -> None:
        reply_in_thread(event, client, in_thread=True)

    def on_message(event: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return  # channel chatter is for mentions; bots and edits are not questions
        reply_in_thread(event, client, in_thread=False)

    def ack_event(ack: Ack) -> None:
        ack()

    def ack_command(ack: Ack, body: dict[str, Any]) -> None:
        verb, _ = parse_request(body.get("text", ""), strict=True)
        if verb == "help":
            message = blocks.help_message(command)
            ack(text=message.text, blocks=message.blocks)
        else:
            ack(text=":hourglass_flowing_sand: Working on it…")

    def run_command(body: dict[str, Any], respond: Respond) -> None:
        verb, text = parse_request(body.get("text", ""), strict=True)
        if verb == "help":
            return
        message = answer(skills(), verb, text, command=command, request_id=str(uuid.uuid4()))
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=True)

    def on_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        verdict = "helpful" if action.get("action_id") == blocks.FEEDBACK_HELPFUL else "not_helpful"
        ledger.record_feedback(str(action.get("value", "")), str(body.get("user", {}).get("id", "")), verdict)

    app.event("app_mention")(ack=ack_event, lazy=[on_mention])
    app.event("message")(ack=ack_event, lazy=[on_message])
    app.command(command)(ack=ack_command, lazy=[run_command])
    app.action(blocks.FEEDBACK_HELPFUL)(on_feedback)
    app.action(blocks.FEEDBACK_NOT_HELPFUL)(on_feedback)


def _react(client: WebClient, method: str, channel: str, ts: str) -> None:
    """Show (or clear) that work is under way; a missing reaction is not worth failing the answer."""
    try:
        getattr(client, method)(channel=channel, timestamp=ts, name=WORKING)
    except SlackApiError as exc:
        logger.info("%s failed: %s", method, exc.response.get("error"))
