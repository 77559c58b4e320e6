"""Block Kit for the decision record: the form, the record card, search results. Pure functions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    DatePickerElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.blocks.basic_components import PlainTextObject
from slack_sdk.models.views import View

from bot.decisions.draft import DecisionSuggestion
from bot.decisions.models import MAX_TITLE, Decision, SourceRef
from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    SlackMessage,
    context,
    escape,
    finish,
    header,
    section,
    truncate,
)

LOG_DECISION = "citybridge_log_decision"  # message shortcut (declared in the manifest)
DECISION_MODAL = "citybridge_decision_modal"
SUPERSEDE_MODAL = "citybridge_supersede_modal"
ACCEPT = "citybridge_decision_accept"
REJECT = "citybridge_decision_reject"
REOPEN = "citybridge_decision_reopen"
SUPERSEDE = "citybridge_decision_supersede"
VIEW_PAGE = "citybridge_decision_page"
CARD_ACTIONS = (ACCEPT, REJECT, REOPEN, SUPERSEDE)
STATUS_ICON = {
    "proposed": ":large_yellow_circle:",
    "accepted": ":white_check_mark:",
    "rejected": ":no_entry_sign:",
    "superseded": ":arrows_counterclockwise:",
}
LOG_TITLE = "Log a decision"
SUPERSEDE_TITLE = "Supersede a decision"
MAX_INPUT = 3000  # Slack's plain_text_input max_length
MAX_METADATA = 3000
MAX_SOURCE_OPTIONS = 10
_USER_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")


def person(who: str) -> str:
    """A Slack user id becomes a mention; a name typed elsewhere (the CLI) stays as written."""
    return f"<@{who}>" if _USER_ID.match(who) else escape(who)


# -- the form -------------------------------------------------------------------------------------------


def modal(
    callback_id: str,
    title: str,
    blocks: Sequence[Block],
    *,
    submit: str | None = None,
    close: str = "Cancel",
    metadata: str = "",
) -> dict[str, Any]:
    """A modal view (slack_sdk's View checks the title, button and metadata limits)."""
    view = View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit=submit,
        close=close,
        private_metadata=metadata or None,
        blocks=list(blocks),
    )
    return view.to_dict()


def loading_modal() -> dict[str, Any]:
    """Shown at once (a trigger_id lasts 3 seconds); replaced by the draft when it is ready."""
    return modal(
        DECISION_MODAL, LOG_TITLE, [section(":hourglass_flowing_sand: Drafting the decision from the conversation…")]
    )


def notice_modal(text: str, *, title: str = "", closable: bool = True) -> dict[str, Any]:
    """What a form shows while it saves ("Saving…", no way to close it) and afterwards ("Saved as …")."""
    view = View(type="modal", callback_id=DECISION_MODAL, title=title or LOG_TITLE, blocks=[section(text)])
    if closable:
        view.close = PlainTextObject(text="Done")
    return view.to_dict()


VISIBILITY_OPTIONS = {
    "internal": Option(value="internal", label="City staff only"),
    "public": Option(value="public", label="Public"),
}


def decision_modal(suggestion: DecisionSuggestion, metadata: Mapping[str, Any], *, today: str) -> dict[str, Any]:
    """The form, prefilled; ``metadata`` (channel, thread, permalink, sources) rides along to the submission."""
    sources = list(suggestion.sources)[:MAX_SOURCE_OPTIONS]
    blocks: list[Block] = []
    if suggestion.notice:
        blocks.append(context(f":information_source: {escape(suggestion.notice)}"))
    blocks += [
        _text_input("title", "Title", suggestion.title, max_length=MAX_TITLE, hint="What was decided, in a few words"),
        _text_input("decision", "Decision", suggestion.decision, multiline=True),
        _text_input("context", "Context and reasons", suggestion.context, multiline=True, optional=True),
        _text_input(
            "options",
            "Options considered",
            "\n".join(suggestion.options),
            multiline=True,
            optional=True,
            hint="One option per line",
        ),
        InputBlock(
            block_id="status",
            label="Status",
            element=StaticSelectElement(
                action_id="value",
                options=[Option(value="proposed", label="Proposed"), Option(value="accepted", label="Accepted")],
                initial_option=Option(value=suggestion.status, label=suggestion.status.capitalize()),
            ),
        ),
        InputBlock(
            block_id="visibility",
            label="Who may see it",
            hint="Public decisions appear on the public pages and to vendors in shared channels.",
            element=StaticSelectElement(
                action_id="value",
                options=list(VISIBILITY_OPTIONS.values()),
                initial_option=VISIBILITY_OPTIONS.get(suggestion.visibility, VISIBILITY_OPTIONS["internal"]),
            ),
        ),
        InputBlock(
            block_id="decided_by",
            label="Decided by",
            optional=True,
            element=UserSelectElement(action_id="value", initial_user=suggestion.decided_by or None),
        ),
        InputBlock(
            block_id="participants",
            label="Participants",
            optional=True,
            element=UserMultiSelectElement(
                action_id="value", initial_users=[u for u in suggestion.participants if _USER_ID.match(u)] or None
            ),
        ),
        InputBlock(block_id="date", label="Date", element=DatePickerElement(action_id="value", initial_date=today)),
        _text_input(
            "tags",
            "Tags",
            ", ".join(suggestion.tags),
            optional=True,
            hint="Comma-separated, e.g. body cameras, storage",
        ),
    ]
    if sources:
        options = [_source_option(i, s) for i, s in enumerate(sources)]
        ticked = [o for o, s in zip(options, sources, strict=True) if s.doc_id in suggestion.preselected]
        blocks.append(
            InputBlock(
                block_id="sources",
                label="Knowledge-base sources that informed it",
                optional=True,
                hint="Tick the documents that informed the decision.",
                element=CheckboxesElement(action_id="value", options=options, initial_options=ticked or None),
            )
        )
    return modal(
        DECISION_MODAL,
        LOG_TITLE,
        blocks,
        submit="Save decision",
        metadata=pack_metadata({**metadata, "sources": [s.model_dump() for s in sources]}),
    )


def supersede_modal(decision: Decision, metadata: Mapping[str, Any], *, problem: str = "") -> dict[str, Any]:
    """Asks for the newer decision; ``problem`` says why the last try did not go through."""
    warning = [context(f":warning: {escape(problem)}")] if problem else []
    blocks = [
        *warning,
        section(f"*{decision.id}* {escape(decision.title)} will be marked superseded."),
        _text_input("replacement", "The newer decision's id", "", max_length=16, hint="For example DEC-0042"),
    ]
    return modal(
        SUPERSEDE_MODAL,
        SUPERSEDE_TITLE,
        blocks,
        submit="Supersede",
        metadata=pack_metadata({**metadata, "old": decision.id}),
    )


def pack_metadata(data: Mapping[str, Any]) -> str:
    """JSON within Slack's 3,000-character limit: sources are dropped from the end until it fits."""
    payload = dict(data)
    text = json.dumps(payload, separators=(",", ":"))
    while len(text) > MAX_METADATA and payload.get("sources"):
        payload["sources"] = payload["sources"][:-1]
        text = json.dumps(payload, separators=(",", ":"))
    if len(text) > MAX_METADATA:
        payload["permalink"] = ""
        text = json.dumps(payload, separators=(",", ":"))
    return text


def unpack_metadata(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def form_values(state: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted form as DecisionDraft fields (validation is the model's job)."""
    values = state.get("values", {})

    def field(block_id: str) -> dict[str, Any]:
        found = values.get(block_id, {}).get("value", {})
        return found if isinstance(found, dict) else {}

    chosen = {str(o.get("value")) for o in field("sources").get("selected_options") or []}
    known = [SourceRef.model_validate(s) for s in metadata.get("sources", []) if isinstance(s, dict)]
    status = (field("status").get("selected_option") or {}).get("value") or "proposed"
    visibility = (field("visibility").get("selected_option") or {}).get("value") or "internal"
    return {
        "title": field("title").get("value") or "",
        "decision": field("decision").get("value") or "",
        "context": field("context").get("value") or "",
        "options": [line.strip(" -•\t") for line in (field("options").get("value") or "").splitlines() if line.strip()],
        "status": status,
        "visibility": visibility,
        "decided_by": field("decided_by").get("selected_user") or "",
        "participants": list(field("participants").get("selected_users") or []),
        "date": field("date").get("selected_date") or "",
        "tags": [t for t in (field("tags").get("value") or "").split(",") if t.strip()],
        "sources": [s for i, s in enumerate(known) if str(i) in chosen],
        "channel": str(metadata.get("channel") or ""),
        "permalink": str(metadata.get("permalink") or ""),
    }


def form_errors(errors: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """pydantic errors as Slack's ``response_action: errors`` (block id → message)."""
    shown: dict[str, str] = {}
    blocks = {"title", "decision", "context", "options", "tags", "date", "status", "visibility"}
    for error in errors:
        loc = error.get("loc") or ("title",)
        block = str(loc[0]) if str(loc[0]) in blocks else "title"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        shown.setdefault(block, truncate(message[:1].upper() + message[1:], 150))
    return shown


# -- the record card ------------------------------------------------------------------------------------


def page_url(public_url: str, decision_id: str) -> str:
    return f"{public_url.rstrip('/')}/decisions/{decision_id}" if public_url else ""


def decision_card(decision: Decision, *, public_url: str = "", note: str = "") -> SlackMessage:
    """The record as people see it in the thread and the decisions channel, with what can be done next."""
    icon = STATUS_ICON.get(decision.status, "")
    facts = [f"{icon} *{decision.status.capitalize()}*", f"*Date:* {decision.date}"]
    if decision.decided_by:
        facts.append(f"*Decided by:* {person(decision.decided_by)}")
    blocks: list[Block] = [header(f"{decision.id} · {decision.title}"), section(" · ".join(facts))]
    if note:
        blocks.append(context(note))
    blocks.append(section(f"*Decision*\n{escape(decision.decision)}"))
    if decision.context:
        blocks.append(section(f"*Context*\n{escape(decision.context)}"))
    if decision.options:
        blocks.append(section("*Options considered*\n" + "\n".join(f"• {escape(o)}" for o in decision.options)))
    if decision.sources:
        blocks.append(section("*Sources*\n" + "\n".join(f"• {_source_link(s)}" for s in decision.sources)))
    links = [
        f"Supersedes *{decision.supersedes}*" if decision.supersedes else "",
        f"Superseded by *{decision.superseded_by}*" if decision.superseded_by else "",
        "Tags: " + ", ".join(escape(t) for t in decision.tags) if decision.tags else "",
        "Participants: " + " ".join(person(p) for p in decision.participants) if decision.participants else "",
    ]
    if any(links):
        blocks.append(context(*[x for x in links if x]))
    actions = _card_actions(decision, page_url(public_url, decision.id))
    if actions:
        blocks.append(ActionsBlock(block_id=f"decision:{decision.id}", elements=actions))
    text = f"{decision.id} ({decision.status}): {decision.title}. {decision.decision}"
    return finish(blocks, text)


def decisions_message(
    decisions: Sequence[Decision], *, query: str, command: str, public_url: str = "", total: int | None = None
) -> SlackMessage:
    """Search results (or the most recent decisions when there is no query)."""
    title = f"Decisions matching “{query}”" if query else "Recent decisions"
    if not decisions:
        hint = f"Log one with `{command} decide` or the _Log as decision_ shortcut on a message."
        reason = f"No decision matches “{escape(query)}”." if query else "No decisions have been logged yet."
        return finish([section(f":mag: {reason}"), context(hint)], reason)
    shown = list(decisions)[: MAX_BLOCKS - 3]
    lines = [_list_line(d, public_url) for d in shown]
    blocks: list[Block] = [header(title), *[section(line) for line in lines]]
    count = total if total is not None else len(decisions)
    if count > len(shown):
        blocks.append(context(f"Showing {len(shown)} of {count}. Narrow the search, or open the public page."))
    text = f"{title}: " + "; ".join(f"{d.id} {d.title} ({d.status})" for d in shown)
    return finish(blocks, text)


def recent_decisions_blocks(decisions: Sequence[Decision], *, public_url: str = "") -> list[Block]:
    """For the App Home."""
    if not decisions:
        return [section("*Recent decisions*\nNone yet. Use _Log as decision_ on a message to start the record.")]
    return [
        section("*Recent decisions*"),
        *[section(_list_line(d, public_url)) for d in decisions],
        DividerBlock(),
    ]


def status_note(actor: str, decision: Decision, verb: str) -> str:
    return f"{person(actor)} {verb} *{decision.id}* {escape(decision.title)}."


# -- helpers ----------------------------------------------------------------------------------------------


def _text_input(
    block_id: str,
    label: str,
    initial: str,
    *,
    multiline: bool = False,
    optional: bool = False,
    max_length: int = MAX_INPUT,
    hint: str = "",
) -> InputBlock:
    element = PlainTextInputElement(
        action_id="value",
        multiline=multiline,
        max_length=max_length,
        initial_value=initial[:max_length] or None,
    )
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional, hint=hint or None)


def _source_option(index: int, source: SourceRef) -> Option:
    return Option(value=str(index), label=truncate(source.title or source.doc_id, 75))


def _source_link(source: SourceRef) -> str:
    label = escape(source.title or source.doc_id)
    return f"<{source.url}|{label}>" if source.url.startswith("http") else label


def _list_line(decision: Decision, public_url: str) -> str:
    url = page_url(public_url, decision.id) or (decision.permalink if decision.permalink.startswith("http") else "")
    name = f"<{url}|{decision.id}>" if url else decision.id
    icon = STATUS_ICON.get(decision.status, "")
    line = f"{icon} *{name}* {escape(decision.title)} — {decision.status}, {decision.date}"
    return truncate(f"{line}\n{escape(truncate(decision.decision, 200))}", MAX_SECTION_CHARS)


def _card_actions(decision: Decision, url: str) -> list[ButtonElement]:
    buttons: list[ButtonElement] = []
    if decision.status == "proposed":
        buttons += [
            ButtonElement(text="Accept", action_id=ACCEPT, value=decision.id, style="primary"),
            ButtonElement(text="Reject", action_id=REJECT, value=decision.id, style="danger"),
        ]
    if decision.status == "rejected":
        buttons.append(ButtonElement(text="Reopen", action_id=REOPEN, value=decision.id))
    if decision.status in ("proposed", "accepted"):
        buttons.append(ButtonElement(text="Supersede…", action_id=SUPERSEDE, value=decision.id))
    if url:
        buttons.append(ButtonElement(text="Public page", action_id=VIEW_PAGE, url=url, value=decision.id))
    return buttons
