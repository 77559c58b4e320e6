"""The decision record in Slack: log a decision from a thread, change its status, find it again.

Flow: the "Log as decision" shortcut (or ``/citybridge decide``) opens a form at once, drafts it from the
conversation and fills it in. On submit the form shows "Saving…" while the record is written (with retries
if the database is briefly away); then the card goes to the thread and the decisions channel. If the
database stays away the form comes back with everything the person typed and a clear reason, and they also
get a DM with the text, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.assistant.skills import Skills
from bot.decisions.desk import DecisionDesk
from bot.decisions.draft import DecisionSuggestion, ThreadMessage
from bot.decisions.models import Decision, DecisionDraft, SourceRef
from bot.errors import CityBridgeError
from bot.settings import Settings
from bot.slack import decision_blocks as cards
from bot.slack.blocks import SlackMessage, error_message
from knowledge.visibility import STAFF, Audience

logger = logging.getLogger(__name__)

THREAD_LIMIT = 100
CHANNEL_LIMIT = 20
VERB_DECIDE = "decide"
VERB_DECISIONS = "decisions"
NOT_SET_UP = "The decision record is not set up on this server."


AudienceOf = Callable[[dict[str, Any]], Audience]
CeilingOf = Callable[[dict[str, Any], str], Audience | None]  # (payload, channel) → the most it may be shown


def register_decisions(
    app: App,
    settings: Settings,
    skills: Callable[[], Skills],
    desk: Callable[[Audience], DecisionDesk],
    audience_of: AudienceOf,
    ceiling_of: CeilingOf,
) -> DecisionHandlers:
    """Listeners for the shortcut, the form, the card buttons and the supersede form. ``audience_of`` says
    who may read what a form suggests (the person, capped by the channel it was opened in)."""
    handler = DecisionHandlers(settings, skills, desk, audience_of, ceiling_of)
    app.shortcut(cards.LOG_DECISION)(ack=_ack, lazy=[handler.from_message])
    app.view(cards.DECISION_MODAL)(handler.submit)
    app.view(cards.SUPERSEDE_MODAL)(handler.submit_supersede)
    for action_id in (cards.ACCEPT, cards.REJECT, cards.REOPEN):
        app.action(action_id)(handler.change_status)
    app.action(cards.SUPERSEDE)(handler.open_supersede)
    app.action(cards.VIEW_PAGE)(_ack)  # a link button; Slack still reports the click
    return handler


def _ack(ack: Ack) -> None:
    ack()


class DecisionHandlers:
    def __init__(
        self,
        settings: Settings,
        skills: Callable[[], Skills],
        desk: Callable[[Audience], DecisionDesk],
        audience_of: AudienceOf,
        ceiling_of: CeilingOf,
    ) -> None:
        self._ceiling_of = ceiling_of
        self._settings = settings
        self._skills = skills
        self._desk_for = desk
        self._audience_of = audience_of
        self._names = SlackNames()

    # -- opening the form ---------------------------------------------------------------------------

    def from_message(self, body: dict[str, Any], client: WebClient) -> None:
        """The "Log as decision" shortcut: the whole thread the message belongs to is the draft's source."""
        channel = str(body.get("channel", {}).get("id", ""))
        message = body.get("message", {})
        focus = str(message.get("ts", ""))
        thread_ts = str(message.get("thread_ts") or focus)
        opened = self._open_form(client, body, channel)
        if opened is None:
            return
        messages, notice = read_thread(client, channel, thread_ts, fallback=message)
        permalink = permalink_of(client, channel, thread_ts)
        metadata = {"channel": channel, "thread_ts": thread_ts, "permalink": permalink}
        self._fill_form(client, opened, messages, focus, metadata, self._audience_of(body), notice=notice)

    def from_command(self, body: dict[str, Any], client: WebClient, title: str) -> None:
        """``/citybridge decide [TITLE]``: the channel's recent messages are the draft's source."""
        channel = str(body.get("channel_id", ""))
        opened = self._open_form(client, body, channel)
        if opened is None:
            return
        messages, notice = read_channel(client, channel)
        metadata = {"channel": channel, "thread_ts": "", "permalink": ""}
        self._fill_form(client, opened, messages, "", metadata, self._audience_of(body), notice=notice, title=title)

    def _open_form(self, client: WebClient, body: dict[str, Any], channel: str) -> dict[str, Any] | None:
        """The form opens at once (a trigger_id lasts 3 seconds); if Slack refuses, the person is told."""
        try:
            opened = client.views_open(trigger_id=body["trigger_id"], view=cards.loading_modal())
        except SlackApiError as exc:
            logger.warning("could not open the decision form: %s", exc.response.get("error"))
            user = str(body.get("user", {}).get("id") or body.get("user_id") or "")
            self._tell(
                client,
                {"channel": {"id": channel}},
                user,
                "Slack did not let me open the decision form (it may have taken too long). Please try again.",
            )
            return None
        view: dict[str, Any] = opened["view"]
        return view

    def _fill_form(
        self,
        client: WebClient,
        view: dict[str, Any],
        messages: list[ThreadMessage],
        focus: str,
        metadata: dict[str, Any],
        audience: Audience,
        *,
        notice: str = "",
        title: str = "",
    ) -> None:
        try:
            suggestion = self._skills().draft_decision(messages, focus)
        except Exception:
            logger.exception("drafting a decision failed")
            suggestion = DecisionSuggestion(notice="I could not draft this one; please fill in the form.")
        if title:
            suggestion = suggestion.model_copy(update={"title": title})
        text = " ".join([suggestion.title, suggestion.decision, suggestion.context])
        sources, strong = self._desk_for(audience).suggest_sources(text)  # only what the channel may see
        updates: dict[str, Any] = {"sources": sources, "preselected": strong}
        if self._settings.decision_visibility in ("internal", "public"):
            updates["visibility"] = self._settings.decision_visibility
        if notice:
            updates["notice"] = " ".join(x for x in (notice, suggestion.notice) if x)
        suggestion = suggestion.model_copy(update=updates)
        form = cards.decision_modal(suggestion, metadata, today=dt.date.today().isoformat())
        _show(client, view["id"], form, view_hash=view.get("hash"))

    # -- saving ---------------------------------------------------------------------------------------

    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        user = str(body.get("user", {}).get("id", ""))
        metadata = cards.unpack_metadata(view.get("private_metadata", ""))
        fields = cards.form_values(view.get("state", {}), metadata)
        try:
            draft = DecisionDraft.model_validate(fields)
        except ValidationError as exc:
            ack(response_action="errors", errors=cards.form_errors(exc.errors()))
            return
        ack(response_action="update", view=cards.notice_modal("Saving the decision…", closable=False))
        people = [draft.decided_by, *draft.participants, user]
        draft = draft.model_copy(update={"names": self._names.resolve(client, people)})
        try:
            decision = self._desk_for(STAFF).add(
                draft, actor=self._names.actor(client, user), key=f"slack-view:{view['id']}"
            )
        except CityBridgeError as exc:  # an unreachable database (after retries), or a refused input
            self._not_saved(client, view["id"], user, draft, metadata, str(exc))
            return
        problems = self._publish(client, body, decision, metadata)
        page = cards.page_url(self._settings.public_url, decision.id)
        lines = [f":white_check_mark: Saved as *{decision.id}*: {decision.title}."]
        lines += [f":warning: {p}" for p in problems]
        if page:
            lines.append(f"Public page: {page}")
        _show(client, view["id"], cards.notice_modal("\n".join(lines)))

    def _publish(
        self, client: WebClient, body: dict[str, Any], decision: Decision, metadata: dict[str, Any]
    ) -> list[str]:
        """The card in the thread (or channel) it came from and in the decisions channel, but only where
        everyone who can read that channel may see the decision."""
        card = cards.decision_card(decision, public_url=self._settings.public_url)
        targets: list[tuple[str, str | None]] = []
        if metadata.get("channel"):
            targets.append((str(metadata["channel"]), str(metadata.get("thread_ts") or "") or None))
        if self._settings.decisions_channel:
            targets.append((self._settings.decisions_channel, None))
        problems = []
        for channel, thread_ts in targets:
            ceiling = self._ceiling_of(body, channel)
            if ceiling is not None and not ceiling.may_see(decision.shown_to):
                problems.append(
                    f"The card was not posted to <#{channel}>: the decision is {decision.visibility} and people "
                    "who may not see it can read that channel."
                )
                continue
            try:
                posted = client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, text=card.text, blocks=card.blocks, unfurl_links=False
                )
                self._desk_for(STAFF).remember_card(decision.id, str(posted["channel"]), str(posted["ts"]))
            except SlackApiError as exc:
                error = exc.response.get("error")
                logger.warning("could not post %s to %s: %s", decision.id, channel, error)
                problems.append(f"Could not post the card to <#{channel}> ({error}); invite CityBridge there.")
        return problems

    def _not_saved(
        self, client: WebClient, view_id: str, user: str, draft: DecisionDraft, metadata: dict[str, Any], why: str
    ) -> None:
        """The form comes back with everything typed, and a DM keeps a copy in case it is closed."""
        kept = draft.model_dump(
            include={"title", "decision", "context", "options", "decided_by", "participants", "tags"}
        )
        suggestion = DecisionSuggestion(
            **kept,
            status="accepted" if draft.status == "accepted" else "proposed",
            sources=[SourceRef.model_validate(s) for s in metadata.get("sources", []) if isinstance(s, dict)],
            preselected=[s.doc_id for s in draft.sources],
            notice=f"{why} Your text is below: press Save decision to try again.",
        )
        form = cards.decision_modal(suggestion, metadata, today=draft.date)
        _show(client, view_id, form)
        copy = "\n".join(
            [
                f"*Your decision was not saved.* {why}",
                "Here is what you wrote, so nothing is lost:",
                f"*Title:* {draft.title}",
                f"*Decision:* {draft.decision}",
                *([f"*Context:* {draft.context}"] if draft.context else []),
                *([f"*Options:* {'; '.join(draft.options)}"] if draft.options else []),
                *([f"*Tags:* {', '.join(draft.tags)}"] if draft.tags else []),
            ]
        )
        try:
            client.chat_postMessage(channel=user, text=copy[:39_000])
        except SlackApiError:
            logger.warning("could not DM the unsaved decision to %s", user)

    # -- changing -------------------------------------------------------------------------------------

    def change_status(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = str(body.get("user", {}).get("id", ""))
        identifier = str(action.get("value", ""))
        status = {cards.ACCEPT: "accepted", cards.REJECT: "rejected", cards.REOPEN: "proposed"}[action["action_id"]]
        if not self._allowed(client, body, user):
            return
        try:
            decision = self._desk_for(STAFF).set_status(identifier, status, actor=self._names.actor(client, user))
        except CityBridgeError as exc:
            self._tell(client, body, user, f"{identifier} was not changed: {exc}")
            return
        verb = {"accepted": "accepted", "rejected": "rejected", "proposed": "reopened"}[status]
        self._refresh(client, decision, body, note=cards.status_note(user, decision, verb))

    def open_supersede(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user = str(body.get("user", {}).get("id", ""))
        if not self._allowed(client, body, user):
            return
        try:
            decision = self._desk_for(STAFF).store.get(str(action.get("value", "")))
        except CityBridgeError as exc:
            self._tell(client, body, user, str(exc))
            return
        client.views_open(trigger_id=body["trigger_id"], view=cards.supersede_modal(decision, {}))

    def submit_supersede(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Mistakes that need no database are shown in the form at once; then the form says "Superseding…"
        while the change is written (the database may need retries, longer than Slack waits for an ack)."""
        view = body["view"]
        user = str(body.get("user", {}).get("id", ""))
        metadata = cards.unpack_metadata(view.get("private_metadata", ""))
        old = str(metadata.get("old", ""))
        values = view.get("state", {}).get("values", {})
        replacement = str(values.get("replacement", {}).get("value", {}).get("value") or "").strip()
        problem = ""
        if not self._settings.may_change_decisions(user):
            problem = "You are not one of the decision editors."
        elif not replacement:
            problem = "Give the id of the decision that replaces this one."
        elif replacement.upper() == old.upper():
            problem = "A decision cannot supersede itself."
        if problem:
            ack(response_action="errors", errors={"replacement": problem})
            return
        ack(
            response_action="update",
            view=cards.notice_modal(f"Superseding {old}…", title=cards.SUPERSEDE_TITLE, closable=False),
        )
        try:
            old_decision, new_decision = self._desk_for(STAFF).supersede(
                old, replacement, actor=self._names.actor(client, user)
            )
        except CityBridgeError as exc:
            try:
                current = self._desk_for(STAFF).store.get(old)
                again = cards.supersede_modal(current, metadata, problem=f"{exc} Nothing was changed.")
            except CityBridgeError:
                again = cards.notice_modal(f":warning: {exc} Nothing was changed.", title=cards.SUPERSEDE_TITLE)
            _show(client, view["id"], again)
            return
        note = cards.status_note(user, old_decision, f"replaced with *{new_decision.id}*:")
        self._refresh(client, old_decision, None, note=note)
        self._refresh(client, new_decision, None, note="")
        done = f":white_check_mark: *{old_decision.id}* is now superseded by *{new_decision.id}*."
        _show(client, view["id"], cards.notice_modal(done, title=cards.SUPERSEDE_TITLE))

    # -- plumbing -------------------------------------------------------------------------------------

    def _allowed(self, client: WebClient, body: dict[str, Any], user: str) -> bool:
        if self._settings.may_change_decisions(user):
            return True
        editors = " ".join(cards.person(u) for u in self._settings.decision_editors)
        self._tell(client, body, user, f"Only the decision editors can change decisions: {editors}.")
        return False

    def _tell(self, client: WebClient, body: dict[str, Any], user: str, text: str) -> None:
        channel = str(body.get("container", {}).get("channel_id") or body.get("channel", {}).get("id") or "")
        message = error_message(text)
        try:
            if channel:
                client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=message.blocks)
            else:
                client.chat_postMessage(channel=user, text=message.text, blocks=message.blocks)
        except SlackApiError:
            logger.warning("could not tell %s: %s", user, text)

    def _refresh(self, client: WebClient, decision: Decision, body: dict[str, Any] | None, *, note: str) -> None:
        """Every copy of the card shows the new state (and the one that was clicked, even if not remembered)."""
        card = cards.decision_card(decision, public_url=self._settings.public_url, note=note)
        places = set(self._desk_for(STAFF).cards(decision.id))
        container = (body or {}).get("container", {})
        if container.get("type") == "message" and not container.get("is_ephemeral"):
            places.add((str(container.get("channel_id")), str(container.get("message_ts"))))
        for channel, ts in sorted(places):
            _update(client, channel, ts, card)


class SlackNames:
    """Slack user ids to the names people know (users.info, remembered for an hour).

    The record keeps ids (Slack renders mentions) plus a name map, so readers outside Slack (the public
    pages, exports) see names; history events record "Name (U123)" so they read well everywhere.
    """

    TTL = 3600.0

    def __init__(self) -> None:
        self._known: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def name(self, client: WebClient, user: str) -> str:
        with self._lock:
            cached = self._known.get(user)
        if cached and time.monotonic() - cached[1] < self.TTL:
            return cached[0]
        try:
            info = client.users_info(user=user).get("user") or {}
        except SlackApiError as exc:
            logger.info("users.info %s failed: %s", user, exc.response.get("error"))
            return ""
        profile = info.get("profile") or {}
        found = str(profile.get("real_name") or info.get("real_name") or profile.get("display_name") or "")
        with self._lock:
            self._known[user] = (found, time.monotonic())
        return found

    def resolve(self, client: WebClient, users: list[str]) -> dict[str, str]:
        names = {user: self.name(client, user) for user in dict.fromkeys(u for u in users if u)}
        return {user: name for user, name in names.items() if name}

    def actor(self, client: WebClient, user: str) -> str:
        name = self.name(client, user)
        return f"{name} ({user})" if name else user


def _show(client: WebClient, view_id: str, view: dict[str, Any], *, view_hash: str | None = None) -> None:
    """Replace what a form shows; a form the person already closed is not an error worth more than a log line."""
    try:
        client.views_update(view_id=view_id, hash=view_hash, view=view)
    except SlackApiError as exc:
        logger.info("could not update form %s: %s", view_id, exc.response.get("error"))


def _update(client: WebClient, channel: str, ts: str, card: SlackMessage) -> None:
    try:
        client.chat_update(channel=channel, ts=ts, text=card.text, blocks=card.blocks)
    except SlackApiError as exc:
        logger.warning("could not update the card %s/%s: %s", channel, ts, exc.response.get("error"))


def read_thread(
    client: WebClient, channel: str, thread_ts: str, *, fallback: dict[str, Any]
) -> tuple[list[ThreadMessage], str]:
    """The thread's human messages, oldest first; the picked message alone if the thread can't be read."""
    try:
        reply = client.conversations_replies(channel=channel, ts=thread_ts, limit=THREAD_LIMIT)
        return _humans(reply.get("messages", [])), ""
    except SlackApiError as exc:
        logger.info("could not read thread %s: %s", thread_ts, exc.response.get("error"))
        notice = "I could only read the message you picked, not its whole thread (invite CityBridge to the channel)."
        return _humans([fallback]), notice


def read_channel(client: WebClient, channel: str) -> tuple[list[ThreadMessage], str]:
    try:
        reply = client.conversations_history(channel=channel, limit=CHANNEL_LIMIT)
    except SlackApiError as exc:
        logger.info("could not read channel %s: %s", channel, exc.response.get("error"))
        return [], "I can't read this channel (invite CityBridge to it), so the form starts empty."
    return _humans(list(reversed(reply.get("messages", [])))), ""


def permalink_of(client: WebClient, channel: str, ts: str) -> str:
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink") or "")
    except SlackApiError:
        return ""


def _humans(messages: list[dict[str, Any]]) -> list[ThreadMessage]:
    return [
        ThreadMessage(user=str(m.get("user", "")), text=str(m.get("text", "")), ts=str(m.get("ts", "")))
        for m in messages
        if not m.get("bot_id") and m.get("subtype") in (None, "thread_broadcast") and m.get("text")
    ]
