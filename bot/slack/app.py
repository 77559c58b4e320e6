"""The slack-bolt app: every skill where people already talk. Listeners know nothing about retrieval."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from slack_bolt import Ack, App, BoltResponse, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import verbs
from bot.dispatch import Dispatcher, OfficerNotice, Outcome
from bot.errors import CityBridgeError, InputError
from bot.request import Place, Request
from bot.services import Services
from bot.settings import Settings
from bot.slack import blocks
from bot.slack import decision_blocks as cards
from bot.slack.audience import AudienceResolver
from bot.slack.blocks import HomeStats
from bot.slack.decisions import register_decisions
from bot.store import EventLedger
from bot.verbs import SlackContext
from ingest.documents import LoadError, Section
from ingest.loaders import UnsupportedFileError, load_file
from ingest.records import RecordColumns
from knowledge.visibility import PUBLIC, Audience

logger = logging.getLogger(__name__)

SHORTCUTS = {  # message shortcut callback id → verb (declared in the app manifest)
    "citybridge_explain_gov": "gov",
    "citybridge_explain_tech": "tech",
    "citybridge_plain_summary": "plain",
}
WORKING = "hourglass_flowing_sand"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def parse_request(text: str, *, strict: bool = False) -> tuple[str, str]:
    """``(verb, rest)`` from a message, mentions removed (see :func:`bot.verbs.split`)."""
    return verbs.split(_MENTION.sub("", text or ""), strict=strict)


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


def read_shared_file(file: dict[str, Any], data: bytes) -> tuple[list[Section], str]:
    """A shared file read like any ingested document: its sections, or why it cannot be used."""
    name = str(file.get("name") or "file")
    try:
        documents = load_file(Path(name), name, data, RecordColumns())
    except UnsupportedFileError:
        return [], f"I can't read {name}: that file type isn't supported."
    except LoadError as exc:
        return [], f"I couldn't read {name}: {exc}."
    sections = [section for document in documents for section in document.sections]
    return sections, "" if sections else f"{name} has no text I can read (scanned PDFs need OCR first)."


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


def build_app(settings: Settings, services: Services, ledger: EventLedger, *, decisions: bool = True) -> App:
    """The bolt app over ``services``; nothing heavy is built until a request needs it."""
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
    door = SlackDoor(
        settings,
        services,
        AudienceResolver(client, home_teams=settings.slack_home_teams, ttl=settings.audience_cache_seconds),
        client,
    )
    _register(app, door, ledger, decisions=decisions)
    return app


def start_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Connect over Socket Mode (no public URL needed) in background threads; returns the handler."""
    handler = SocketModeHandler(app, app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    return handler


def _once_per_event(ledger: EventLedger) -> Callable[..., BoltResponse | None]:
    def once(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not ledger.first_time(event_id):
            logger.info("skipping re-delivered event %s", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return once


class SlackDoor:
    """Turns what Slack sent into a :class:`Request` and an :class:`Outcome` into a Slack message."""

    def __init__(self, settings: Settings, services: Services, resolver: AudienceResolver, client: WebClient) -> None:
        self.settings = settings
        self.services = services
        self.resolver = resolver
        self.dispatcher = Dispatcher(services, notify=lambda notice: _tell_officer(client, notice))

    def request(
        self,
        body: dict[str, Any],
        *,
        user: str,
        channel: str,
        text: str,
        verb: str = "",
        user_team: str = "",
        thread_ts: str = "",
        strict: bool = False,
        sections: Sequence[Section] = (),
        file_name: str = "",
    ) -> Request:
        team, enterprise = _installation(body)
        who = self.resolver.who(user, team=team, enterprise=enterprise, user_team=user_team)
        place = self.resolver.place(channel, team=team, enterprise=enterprise, thread_ts=thread_ts)
        if body.get("is_ext_shared_channel") and place.ceiling is not None:
            place = Place(place.channel_id, "shared", PUBLIC, place.thread_ts)  # the event says so: no need to ask
        if not verb:
            verb, text = parse_request(text, strict=strict)
        return Request(who, place, verb, text, sections, file_name, door="slack")

    def audience_of(self, body: dict[str, Any]) -> Audience:
        user = str((body.get("user") or {}).get("id") or body.get("user_id") or "")
        channel = str((body.get("channel") or {}).get("id") or body.get("channel_id") or "")
        return self.request(body, user=user, channel=channel, text="", verb="help").audience

    def ceiling_of(self, body: dict[str, Any], channel: str) -> Audience | None:
        """The most an answer or card in ``channel`` may show (None: a DM, only its person reads it)."""
        team, enterprise = _installation(body)
        return self.resolver.place(channel, team=team, enterprise=enterprise).ceiling

    def answer(self, request: Request) -> blocks.SlackMessage:
        return self.render(self.dispatcher.handle(request))

    def render(self, outcome: Outcome) -> blocks.SlackMessage:
        if outcome.result is not None and outcome.verb is not None:
            context = SlackContext(outcome.request.request_id, self.settings.slash_command, self.settings.public_url)
            return outcome.verb.slack(outcome.result, context)
        if outcome.status == "blocked":
            return blocks.notice_message(outcome.message)
        return blocks.error_message(outcome.message, outcome.hint)

    def help(self) -> blocks.SlackMessage:
        return blocks.help_message([verb.line(self.settings.slash_command) for verb in verbs.available("slack")])


def _installation(body: dict[str, Any]) -> tuple[str, str]:
    """The team and enterprise the app is installed in. In Slack Connect the envelope's ``team_id`` is the
    *sender's* organisation, so the authorization (or ``context_team_id``) comes first."""
    authorization = (body.get("authorizations") or [{}])[0] or {}
    team = (
        authorization.get("team_id")
        or body.get("context_team_id")
        or body.get("team_id")
        or (body.get("team") or {}).get("id")
        or ""
    )
    enterprise = (
        authorization.get("enterprise_id")
        or body.get("context_enterprise_id")
        or body.get("enterprise_id")
        or (body.get("enterprise") or {}).get("id")
        or ""
    )
    return str(team), str(enterprise)


def _tell_officer(client: WebClient, notice: OfficerNotice) -> None:
    client.chat_postMessage(channel=notice.officer, text=notice.text)


def _register(app: App, door: SlackDoor, ledger: EventLedger, *, decisions: bool) -> None:
    settings, services = door.settings, door.services
    command = settings.slash_command
    decision_handlers = (
        register_decisions(
            app,
            settings,
            lambda: services.skills,
            lambda audience: services.workspace(audience).decision_desk,
            door.audience_of,
            door.ceiling_of,
        )
        if decisions
        else None
    )

    def post(client: WebClient, channel: str, thread_ts: str | None, message: blocks.SlackMessage) -> None:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks)

    def event_request(body: dict[str, Any], event: dict[str, Any], text: str, **extra: Any) -> Request:
        return door.request(
            body,
            user=str(event.get("user") or ""),
            channel=str(event.get("channel") or ""),
            text=text,
            user_team=str(
                event.get("user_team") or (event.get("user_profile") or {}).get("team") or event.get("team") or ""
            ),
            thread_ts=str(event.get("thread_ts") or ""),
            **extra,
        )

    def reply_in_thread(body: dict[str, Any], event: dict[str, Any], client: WebClient, *, in_thread: bool) -> None:
        channel, ts = event["channel"], event["ts"]
        thread_ts = event.get("thread_ts") or (ts if in_thread else None)
        request = event_request(body, event, event.get("text", ""))
        if request.verb == "ask" and event.get("thread_ts"):
            request = request.with_text(thread_question(client, channel, event["thread_ts"], ts, request.text))
        _react(client, "reactions_add", channel, ts)
        try:
            post(client, channel, thread_ts, door.help() if request.verb == "help" else door.answer(request))
        finally:
            _react(client, "reactions_remove", channel, ts)

    def on_mention(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("files"):
            reply_with_files(body, {**event, "thread_ts": event.get("thread_ts") or event["ts"]}, client)
        else:
            reply_in_thread(body, event, client, in_thread=True)

    def on_message(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return  # bots, edits and joins are not questions
        in_thread = bool(event.get("thread_ts"))
        if event.get("channel_type") != "im" and not (event.get("subtype") == "file_share" and in_thread):
            return  # channel chatter is for mentions
        if event.get("files"):
            reply_with_files(body, event, client)
        else:
            reply_in_thread(body, event, client, in_thread=False)

    def reply_with_files(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        channel, ts = event["channel"], event["ts"]
        verb, _ = parse_request(event.get("text", ""))
        verb = verb if verb in ("gov", "tech", "review") else "plain"
        _react(client, "reactions_add", channel, ts)
        try:
            for file in event.get("files", [])[:3]:
                message = file_reply(body, event, client, file, verb)
                post(client, channel, event.get("thread_ts"), message)
        finally:
            _react(client, "reactions_remove", channel, ts)

    def file_reply(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, file: dict[str, Any], verb: str
    ) -> blocks.SlackMessage:
        try:
            info, data, problem = download(client, str(file.get("id")), int(settings.max_upload_mb * 1024**2))
        except (SlackApiError, httpx.HTTPError) as exc:
            logger.warning("could not fetch file %s: %s", file.get("id"), type(exc).__name__)
            info, data, problem = {}, None, "I couldn't fetch that file from Slack."
        name = str(info.get("name") or file.get("name") or "file")
        sections, unreadable = read_shared_file(info, data) if data is not None else ([], "")
        request = event_request(body, event, "", verb=verb, sections=sections, file_name=name)
        if data is None or unreadable:
            reason = problem or unreadable
            hint = (
                "Share a smaller file, or paste the part you need."
                if problem
                else ("Share a PDF, DOCX, Markdown, HTML or plain-text file that opens on your computer.")
            )
            return door.render(door.dispatcher.refuse(request, InputError(reason, hint)))
        return door.answer(request)

    def on_shortcut(body: dict[str, Any], respond: Respond) -> None:
        message = body.get("message") or {}
        request = door.request(
            body,
            user=str((body.get("user") or {}).get("id") or ""),
            channel=str((body.get("channel") or {}).get("id") or ""),
            text=_MENTION.sub("", str(message.get("text", ""))).strip(),
            verb=SHORTCUTS.get(str(body.get("callback_id")), "plain"),
            user_team=str((body.get("user") or {}).get("team_id") or ""),
        )
        reply = door.answer(request)
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

    def on_home(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        team, enterprise = _installation(body)
        audience = door.resolver.who(str(event.get("user") or ""), team=team, enterprise=enterprise).audience
        workspace = services.workspace(audience)
        recent: list[Any] = []
        if decisions:
            try:
                recent = cards.recent_decisions_blocks(workspace.decisions.recent(5), public_url=settings.public_url)
            except CityBridgeError as exc:
                recent = [blocks.context(f"Recent decisions are unavailable: {exc}")]
        stats = workspace.index.stats()
        home = HomeStats(documents=stats.documents, by_kind=stats.by_kind, chunks=stats.chunks)
        lines = [verb.line(command) for verb in verbs.available("slack")]
        client.views_publish(user_id=event["user"], view=blocks.home_view(lines, home, recent))

    def ack_event(ack: Ack) -> None:
        ack()

    def ack_command(ack: Ack, body: dict[str, Any]) -> None:
        verb, _ = parse_request(body.get("text", ""), strict=True)
        if verb == "help":
            message = door.help()
            ack(text=message.text, blocks=message.blocks)
        elif verb == "decide" and decision_handlers is not None:
            ack()  # the form opens in a moment
        else:
            ack(text=":hourglass_flowing_sand: Working on it…")

    def run_command(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        request = door.request(
            body,
            user=str(body.get("user_id") or ""),
            channel=str(body.get("channel_id") or ""),
            text=str(body.get("text") or ""),
            strict=True,
        )
        if request.verb == "help":
            return
        if request.verb == "decide" and decision_handlers is not None:
            decision_handlers.from_command(body, client, title=request.text)
            return
        message = door.answer(request)
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
