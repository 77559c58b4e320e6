"""The one request path: every front door hands a :class:`Request` here and renders the :class:`Outcome`.

In order: look the verb up in the registry, check the request is usable, apply the procurement blackout
to outside people, run the verb in the workspace of the request's audience (so every search it makes is
filtered to what may be shown there), catch errors the same way for every door, and keep the audit record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from bot import verbs
from bot.audit import Outcome as Status
from bot.errors import CityBridgeError, InputError
from bot.prompts import load_notice
from bot.request import Request
from bot.solicitations import Solicitation

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)

SORRY = "Something went wrong on our side while answering."


@dataclass(frozen=True)
class OfficerNotice:
    """What the procurement officer is told when an outside question about an open solicitation arrives."""

    officer: str
    text: str
    solicitation: Solicitation


@dataclass(frozen=True)
class Outcome:
    request: Request
    verb: verbs.Verb | None
    status: Status
    result: BaseModel | None = None
    message: str = ""  # why there is no result (safe to show)
    hint: str = ""
    cited: tuple[str, ...] = ()
    notice: OfficerNotice | None = None


NotifyOfficer = Callable[[OfficerNotice], None]


@dataclass
class Dispatcher:
    services: Services
    notify: NotifyOfficer | None = None

    def handle(self, request: Request) -> Outcome:
        outcome = self._outcome(request)
        self._audit(outcome)
        return outcome

    def refuse(self, request: Request, error: CityBridgeError) -> Outcome:
        """A request a door could not even build (an unreadable file): answered with the reason, audited."""
        outcome = Outcome(request, verbs.find(request.verb), "error", message=str(error), hint=error.hint)
        self._audit(outcome)
        return outcome

    def _outcome(self, request: Request) -> Outcome:
        verb = verbs.find(request.verb)
        try:
            if verb is None or request.door not in verb.doors:
                raise InputError(f"There is no {request.verb!r} command here.", "Type `help` to see what I can do.")
            if verb.needs_text and not (request.text.strip() or request.sections):
                raise InputError(
                    f"`{verb.name}` needs {verb.usage.lower() or 'something'} after it.",
                    f"For example: `{verb.name} {verb.usage}`. Type `help` for every command.",
                )
            blocked = self._blackout(request, verb)
            if blocked is not None:
                return blocked
            result = verb.run(request, self.services.workspace(request.audience))
        except CityBridgeError as exc:
            return Outcome(request, verb, "error", message=str(exc), hint=exc.hint)
        except Exception:
            logger.exception(
                "request %s failed (door=%s verb=%s user=%s channel=%s)",
                request.request_id,
                request.door,
                request.verb,
                request.who.user_id,
                request.where.channel_id,
            )
            hint = (
                "Try again in a minute. If it keeps failing, give the CityBridge admins "
                f"reference {reference(request)}."
            )
            return Outcome(request, verb, "error", message=SORRY, hint=hint)
        status: Status = "declined" if _declined(result) else "answered"
        return Outcome(request, verb, status, result=result, cited=tuple(cited_documents(result)))

    def _blackout(self, request: Request, verb: verbs.Verb) -> Outcome | None:
        if not verb.searches or request.who.is_staff:
            return None
        question = request.text or " ".join(s.text for s in request.sections)[:2000]
        try:
            solicitation = self.services.blackout.concerning(question)
        except SQLAlchemyError as exc:  # fail closed: an open solicitation may be the one asked about
            raise CityBridgeError(
                "I can't answer questions from outside the city right now: I can't check which solicitations are open.",
                "Try again in a few minutes.",
            ) from exc
        if solicitation is None:
            return None
        where = f"<#{request.where.channel_id}>" if request.where.channel_id else request.where.kind
        asker = f"<@{request.who.user_id}>" if request.who.user_id else "someone outside the city"
        reply, dm = load_notice("blackout").render(
            solicitation_id=solicitation.id,
            title=solicitation.title,
            closes=solicitation.closes.isoformat(),
            officer=f"<@{solicitation.officer}>",
            qa_address=solicitation.qa_address or "the address in the solicitation",
            question=question[:1500],
            asker=asker + (f" ({request.who.name})" if request.who.name else ""),
            place=where,
        )
        notice = OfficerNotice(solicitation.officer, dm, solicitation)
        if self.notify is not None:
            try:
                self.notify(notice)
            except Exception:
                logger.exception("could not tell officer %s about request %s", solicitation.officer, request.request_id)
        return Outcome(request, verb, "blocked", message=reply, notice=notice)

    def _audit(self, outcome: Outcome) -> None:
        try:
            audit = self.services.audit
        except CityBridgeError as exc:  # the database is away: the person still gets their answer
            logger.error("audit record for request %s not saved: %s", outcome.request.request_id, exc)
            return
        request = outcome.request
        audit.record(
            request_id=request.request_id,
            door=request.door,
            user_id=request.who.user_id,
            user_name=request.who.name,
            team=request.who.team,
            audience=str(request.audience),
            channel=request.where.channel_id,
            place=request.where.kind,
            verb=outcome.verb.name if outcome.verb else request.verb,
            question=request.text or request.file_name,
            cited=outcome.cited,
            outcome=outcome.status,
            detail=outcome.message,
        )


def reference(request: Request) -> str:
    """A short id a person can quote; the log line carries the full request id."""
    return request.request_id.split("-")[0]


def cited_documents(result: BaseModel) -> Iterator[str]:
    """Every document id a result cites, wherever in the result it sits."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("doc_id"), str):
                yield node["doc_id"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from dict.fromkeys(walk(result.model_dump()))


def _declined(result: BaseModel) -> bool:
    return getattr(result, "answered", True) is False or getattr(result, "found", True) is False
