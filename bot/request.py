"""One typed request, whatever door it came through: who asked, where, which verb, about what.

Each front door (Slack, the terminal chat, the CLI, the web pages) builds a :class:`Request` from what
arrived and hands it to :func:`bot.dispatch.handle`; nothing downstream reads a raw payload. The audience
inside it travels to every search the verb makes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingest.documents import Section
from knowledge.visibility import PUBLIC, STAFF, Audience

Door = Literal["slack", "chat", "cli", "web"]
PlaceKind = Literal["dm", "private", "public", "shared", "terminal", "web"]


@dataclass(frozen=True)
class Who:
    """The person asking. ``audience`` is what they may see, wherever they are."""

    user_id: str = ""
    name: str = ""
    team: str = ""
    audience: Audience = PUBLIC

    @property
    def is_staff(self) -> bool:
        return self.audience.is_staff


@dataclass(frozen=True)
class Place:
    """Where the answer will be read. ``ceiling`` is the most every possible reader there may see; ``None``
    when the only reader is the person asking (a DM, this terminal)."""

    channel_id: str = ""
    kind: PlaceKind = "terminal"
    ceiling: Audience | None = None
    thread_ts: str = ""


@dataclass(frozen=True)
class Request:
    who: Who
    where: Place
    verb: str
    text: str = ""
    sections: Sequence[Section] = ()
    file_name: str = ""
    door: Door = "cli"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def audience(self) -> Audience:
        """What this answer may show: no more than the person may see, nor than everyone where it is read."""
        ceiling = self.where.ceiling
        return self.who.audience if ceiling is None else self.who.audience.at_most(ceiling)

    def with_text(self, text: str) -> Request:
        return Request(self.who, self.where, self.verb, text, self.sections, self.file_name, self.door, self.request_id)


def local_request(verb: str, text: str = "", *, audience: Audience = STAFF, door: Door = "cli") -> Request:
    """A request typed on this machine: the operator is staff unless told to answer as someone else."""
    return Request(Who(user_id="local", name="local", audience=audience), Place(), verb, text, door=door)
