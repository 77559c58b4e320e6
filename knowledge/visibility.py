"""Who may read a stored passage or decision, and what an audience may read.

``public`` is for anyone (vendors, residents, guests); ``internal`` is for the city's own staff;
``restricted:G1,G2`` is for staff in one of the named groups (a Slack user group id, or user ids such as an
evaluation committee's). The index filters on these inside every query, so a passage an audience may not
see is never retrieved, ranked, counted or cited for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from knowledge.errors import CityBridgeError

Level = Literal["public", "internal", "restricted"]
LEVELS: tuple[Level, ...] = ("public", "internal", "restricted")
_GROUP = re.compile(r"^[A-Za-z0-9._@-]{1,80}$")


class VisibilityError(CityBridgeError, ValueError):
    """A visibility that cannot be parsed."""


@dataclass(frozen=True)
class Visibility:
    level: Level = "internal"
    groups: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"restricted:{','.join(self.groups)}" if self.level == "restricted" else self.level

    @classmethod
    def parse(cls, text: object) -> Visibility:
        """``public``, ``internal`` or ``restricted:GROUP[,GROUP…]`` (case of the level ignored)."""
        raw = str(text or "").strip()
        level, _, rest = raw.partition(":")
        level = level.strip().lower()
        if level in ("public", "internal") and not rest:
            return cls(level)  # type: ignore[arg-type]
        if level == "restricted":
            groups = tuple(sorted({g.strip() for g in rest.split(",") if g.strip()}))
            bad = [g for g in groups if not _GROUP.match(g)]
            if groups and not bad:
                return cls("restricted", groups)
            raise VisibilityError(
                f"{raw!r} names no usable group.",
                "Write restricted:GROUP, e.g. restricted:S0EVALCOMM or restricted:U012,U034.",
            )
        raise VisibilityError(f"{raw!r} is not a visibility.", "Use public, internal or restricted:GROUP[,GROUP…].")


PUBLIC_VISIBILITY = Visibility("public")
INTERNAL_VISIBILITY = Visibility("internal")


@dataclass(frozen=True)
class Audience:
    """What one reader (or everyone who can read a channel) may see."""

    level: Literal["public", "internal"] = "public"
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        return self.level == "internal"

    def levels(self) -> tuple[Level, ...]:
        return ("public", "internal") if self.is_staff else ("public",)

    def readable_groups(self) -> tuple[str, ...]:
        """Groups whose restricted material this audience may read (only staff are ever in one)."""
        return tuple(sorted(self.groups)) if self.is_staff else ()

    def may_see(self, visibility: Visibility) -> bool:
        if visibility.level == "restricted":
            return bool(set(visibility.groups) & set(self.readable_groups()))
        return visibility.level in self.levels()

    def at_most(self, ceiling: Audience) -> Audience:
        """What both may see: a person in a channel sees no more than every member of the channel may."""
        if not (self.is_staff and ceiling.is_staff):
            return PUBLIC
        return Audience("internal", self.groups & ceiling.groups)

    def __str__(self) -> str:
        if not self.is_staff:
            return "public"
        return "internal" + (f"+{','.join(sorted(self.groups))}" if self.groups else "")


PUBLIC = Audience("public")
STAFF = Audience("internal")
