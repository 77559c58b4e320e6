"""Decisions and their history (pydantic models with the rules for valid input and transitions)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.errors import InputError
from knowledge.visibility import Visibility, VisibilityError

Status = Literal["proposed", "accepted", "rejected", "superseded"]
STATUSES: tuple[Status, ...] = ("proposed", "accepted", "rejected", "superseded")
# Superseding goes through its own operation, which links the two decisions.
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"accepted", "rejected"}),
    "accepted": frozenset(),
    "rejected": frozenset({"proposed"}),
    "superseded": frozenset(),
}
MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_TAGS = 20
MAX_NAMES = 200


class SourceRef(BaseModel):
    """A knowledge-base document that informed a decision."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    title: str = ""
    url: str = ""


class DecisionDraft(BaseModel):
    """What someone submits; validated before anything is written."""

    title: str
    decision: str
    context: str = ""
    options: list[str] = Field(default_factory=list)
    status: Status = "proposed"
    decided_by: str = ""
    participants: list[str] = Field(default_factory=list)
    date: str = Field(default_factory=lambda: dt.date.today().isoformat())
    tags: list[str] = Field(default_factory=list)
    channel: str = ""
    permalink: str = ""
    sources: list[SourceRef] = Field(default_factory=list)
    visibility: str = Field(
        default="internal",
        description="public (the public pages, vendors, residents), internal (city staff) or restricted:GROUP.",
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="Display names of the Slack users the record mentions (user id → name), for readers "
        "outside Slack: the public pages and the exports show names, not ids.",
    )

    @field_validator("names")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        return {key[:64]: " ".join(name.split())[:100] for key, name in list(value.items())[:MAX_NAMES] if name.strip()}

    def name_of(self, who: str) -> str:
        """How a person is shown outside Slack: their name when the record knows it."""
        return self.names.get(who, who)

    @field_validator("visibility")
    @classmethod
    def _visibility(cls, value: str) -> str:
        try:
            return str(Visibility.parse(value))
        except VisibilityError as exc:
            raise ValueError(f"visibility {exc}") from exc

    @property
    def shown_to(self) -> Visibility:
        return Visibility.parse(self.visibility)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a decision needs a title")
        if len(value) > MAX_TITLE:
            raise ValueError(f"the title is {len(value):,} characters; the limit is {MAX_TITLE}")
        return value

    @field_validator("decision", "context")
    @classmethod
    def _text(cls, value: str, info: Any) -> str:
        value = value.strip()
        if info.field_name == "decision" and not value:
            raise ValueError("say what was decided")
        if len(value) > MAX_TEXT:
            raise ValueError(
                f"the {info.field_name} is {len(value):,} characters; the limit is {MAX_TEXT:,}. "
                "Link the long document as a source instead"
            )
        return value

    @field_validator("status")
    @classmethod
    def _initial_status(cls, value: str) -> str:
        if value == "superseded":
            raise ValueError("a new decision cannot start as superseded; supersede the old one instead")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = list(dict.fromkeys(t.strip().lower() for t in value if t.strip()))
        if len(tags) > MAX_TAGS:
            raise ValueError(f"{len(tags)} tags; the limit is {MAX_TAGS}")
        return tags

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError as exc:
            raise ValueError(f"date {value!r} is not YYYY-MM-DD") from exc


class Decision(DecisionDraft):
    """The current state of a decision, derived from its events."""

    id: str
    number: int
    supersedes: str | None = None
    superseded_by: str | None = None
    created_at: float
    updated_at: float
    version: int = 1

    @field_validator("status")
    @classmethod
    def _initial_status(cls, value: str) -> str:  # any status is valid once stored
        return value


class DecisionEvent(BaseModel):
    """One change: who, when, what."""

    seq: int
    decision_id: str
    kind: Literal["created", "status", "superseded", "supersedes", "visibility"]
    actor: str
    at: float
    changes: dict[str, Any]


DECISION_ID = re.compile(r"DEC-\d{1,6}", re.IGNORECASE)


def decision_id(number: int) -> str:
    return f"DEC-{number:04d}"


def check_transition(current: str, target: str) -> None:
    if target == "superseded":
        raise InputError("Use supersede to replace a decision with a newer one.")
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        article = "An" if current[:1] in "aeiou" else "A"
        if current == "accepted":
            way = "supersede it with a newer decision instead"
        elif allowed:
            way = "it can become " + " or ".join(sorted(allowed))
        else:
            way = "it is final"
        raise InputError(f"{article} {current} decision cannot become {target}; {way}.")


class DecisionList(BaseModel):
    """Decisions found for a query (the newest first; the most recent when there is no query)."""

    query: str = ""
    decisions: list[Decision] = Field(default_factory=list)
