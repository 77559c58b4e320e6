"""Drafting a decision from a Slack thread, without a model: pick the sentences that say what was decided.

People close a thread with "OK, we'll go with X because Y". The decision is the sentence with the strongest
decision cue, favouring the message someone chose ("Log as decision" on it) and later messages; the context
is the opening question plus the sentences that give reasons; options are the sentences that weigh
alternatives. The result only prefills a form: people edit it before anything is saved.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from bot.assistant.sentences import segment
from bot.decisions.models import MAX_TITLE, SourceRef

TITLE_WORDS = 12
MAX_CONTEXT = 1500
MAX_OPTIONS = 5

_DECISION_CUES = re.compile(
    r"\b(decided|decision|agreed|agree|we'?ll|we will|let'?s|go(?:ing)? with|approved?|adopt(?:ing)?|"
    r"choose|chose|chosen|pick(?:ed)?|settled?|final(?:ly)?|plan is|we should|recommend(?:ed)?|will use|"
    r"sign(?:ed)? off|move forward|moving forward|confirmed?)\b",
    re.IGNORECASE,
)
_REASON_CUES = re.compile(
    r"\b(because|since|so that|due to|risk|cost|budget|require[sd]?|law|polic(?:y|ies)|deadline|"
    r"council|retention|privacy|accessib\w*|security)\b|\$|%",
    re.IGNORECASE,
)
_OPTION_CUES = re.compile(
    r"\b(options?|alternatives?|either|or we|could|instead|versus|vs\.?|compared?|other choice)\b", re.IGNORECASE
)
_LEAD_IN = re.compile(
    r"^(?:(?:ok(?:ay)?|so|alright|all right|great|then|right|fine|yes|yep|good)[,.!]?\s+)*"
    r"(?:(?:we(?:'ve| have)?\s+)?(?:decided|agreed)(?:\s+(?:to|that|on))?|decision:|agreed:|final(?:ly)?[,:]?|"
    r"we'?ll|we will|let'?s|we should|the plan is(?: to)?|we are going to|we're going to)\s+",
    re.IGNORECASE,
)
_INTERJECTION = re.compile(r"^(?:(?:ok(?:ay)?|so|alright|all right|great|right|fine|yes|yep)[,.!]?\s+)+", re.I)
_WEAK_ENDINGS = frozenset(
    ["a", "an", "the", "and", "or", "of", "to", "for", "by", "with", "in", "on", "at", "as", "that", "which"]
)
_SLACK_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]+))?>")
_SLACK_SPECIAL = re.compile(r"<[@#!][^>]*>")
_EMOJI = re.compile(r":[a-z0-9_+\-]+:")


@dataclass(frozen=True)
class ThreadMessage:
    """One human message of the thread, in order."""

    user: str
    text: str
    ts: str = ""


class DecisionSuggestion(BaseModel):
    """What the form is prefilled with."""

    title: str = ""
    decision: str = ""
    context: str = ""
    options: list[str] = Field(default_factory=list)
    decided_by: str = ""
    participants: list[str] = Field(default_factory=list)
    status: Literal["proposed", "accepted"] = "proposed"
    visibility: Literal["internal", "public"] = "internal"
    tags: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    preselected: list[str] = Field(default_factory=list, description="doc ids of the sources that start ticked")
    mode: Literal["grounded", "llm"] = "grounded"
    notice: str = ""


@dataclass(frozen=True)
class _Sentence:
    message: int
    user: str
    text: str
    score: float


def clean_slack_text(text: str) -> str:
    """Slack markup to plain words: links keep their label, mentions and emoji codes go."""
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SLACK_SPECIAL.sub("", text)
    text = _EMOJI.sub("", text)
    return " ".join(html.unescape(text).split())


def draft_from_thread(messages: Sequence[ThreadMessage], *, focus_ts: str = "") -> DecisionSuggestion:
    """A prefilled decision; ``focus_ts`` is the message the person picked, if any."""
    cleaned = [ThreadMessage(m.user, clean_slack_text(m.text), m.ts) for m in messages]
    cleaned = [m for m in cleaned if m.text]
    participants = list(dict.fromkeys(m.user for m in cleaned if m.user))
    if not cleaned:
        return DecisionSuggestion(participants=participants)
    sentences = _scored(cleaned, focus_ts)
    best = max(sentences, key=lambda s: s.score)
    decision = [s for s in sentences if s.message == best.message and (s is best or _DECISION_CUES.search(s.text))]
    used = {s.text for s in decision}
    opening = cleaned[0].text if best.message != 0 else ""
    options = [s.text for s in sentences if s.text not in used and _OPTION_CUES.search(s.text)]
    reasons = [
        s.text for s in sentences if s.text not in used and s.text not in options and _REASON_CUES.search(s.text)
    ]
    context_parts = list(dict.fromkeys([opening, *reasons[:3]]))
    return DecisionSuggestion(
        title=title_from(best.text),
        decision=_capitalized(_INTERJECTION.sub("", " ".join(s.text for s in decision)).strip()),
        context=_cap(" ".join(p for p in context_parts if p), MAX_CONTEXT),
        options=[_cap(o, 300) for o in options[:MAX_OPTIONS]],
        decided_by=best.user,
        participants=participants,
    )


def title_from(sentence: str) -> str:
    """A short title from the decision sentence: lead-ins dropped, first letter up, about a dozen words."""
    text = sentence.strip()
    for _ in range(3):  # "Agreed: we'll ..." has two lead-ins
        text = _LEAD_IN.sub("", text)
    text = text.strip(" .!")
    text = re.split(r"\s+(?:because|since|so that|as long as)\s+|[;:—]", text, maxsplit=1)[0].strip(" ,.")
    words = text.split()
    if len(words) > TITLE_WORDS:
        kept = words[:TITLE_WORDS]
        while len(kept) > 1 and kept[-1].lower().strip(",;") in _WEAK_ENDINGS:
            kept.pop()
        text = " ".join(kept).rstrip(",;") + "…"
    return _cap(_capitalized(text), MAX_TITLE)


def _scored(messages: Sequence[ThreadMessage], focus_ts: str) -> list[_Sentence]:
    scored: list[_Sentence] = []
    last = max(len(messages) - 1, 1)
    for index, message in enumerate(messages):
        for text in segment(message.text):
            words = len(text.split())
            score = 2.0 * len(_DECISION_CUES.findall(text)) + 0.5 * index / last
            if focus_ts and message.ts == focus_ts:
                score += 5.0  # the person picked this message: it outweighs two decision cues elsewhere
            if text.endswith("?"):
                score -= 2.5
            if words < 4:
                score -= 3.0
            scored.append(_Sentence(index, message.user, text, score))
    return scored


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
