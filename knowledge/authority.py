"""How much a source counts: its authority tier, from the document, its path, or its kind.

A regulation outranks official guidance, which outranks the city's own handbook, which outranks case
studies and blog posts. A city may rank its own handbook first for its own rules: the order is a setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from knowledge.models import Kind, MetaValue

Tier = Literal["regulation", "guidance", "city", "case-study", "blog"]
TIERS: tuple[Tier, ...] = ("regulation", "guidance", "city", "case-study", "blog")


# Path patterns (matched against the document id, then the source path) that say what a source is.
DEFAULT_RULES: dict[str, Tier] = {
    "*far-text-markdown/*": "regulation",
    "*far-dita*": "regulation",
    "*/cfr/*": "regulation",
    "*statute*": "regulation",
    "*blog*": "blog",
    "*/news/*": "blog",
    "*-news/*": "blog",
    "*/posts/*": "blog",
    "*_posts/*": "blog",
    "*case-stud*": "case-study",
}
_BY_KIND: dict[str, Tier] = {
    "procurement": "guidance",
    "standard": "guidance",
    "lesson": "case-study",
    "decision": "city",
    "other": "case-study",
}


def tier_name(value: str) -> Tier | None:
    """A tier from free text ("Regulation", "case study", "blog"), or None when it names none."""
    cleaned = value.strip().lower().replace("_", "-").replace(" ", "-")
    aliases = {"statute": "regulation", "law": "regulation", "standard": "guidance", "handbook": "city", "news": "blog"}
    cleaned = aliases.get(cleaned, cleaned)
    return next((tier for tier in TIERS if tier == cleaned or tier.replace("-", "") == cleaned), None)


@dataclass(frozen=True)
class AuthorityPolicy:
    """Assigns tiers and ranks them (0 is the most authoritative)."""

    order: Sequence[Tier] = TIERS
    rules: Mapping[str, Tier] = field(default_factory=lambda: dict(DEFAULT_RULES))

    def tier(self, doc_id: str, source: str, kind: Kind, meta: Mapping[str, MetaValue]) -> Tier:
        declared = tier_name(str(meta.get("authority", "")))
        if declared:
            return declared
        for pattern, tier in self.rules.items():
            if fnmatchcase(doc_id.lower(), pattern) or fnmatchcase(source.lower(), pattern):
                return tier
        return _BY_KIND.get(kind, "case-study")

    def rank(self, tier: str) -> int:
        """Position in the order; tiers left out of a custom order come last."""
        try:
            return list(self.order).index(tier)  # type: ignore[arg-type]
        except ValueError:
            return len(self.order)

    def weight(self, tier: str) -> float:
        """1.0 for the first tier down to 0.0 for the last."""
        last = max(len(self.order) - 1, 1)
        return max(0.0, 1.0 - self.rank(tier) / last)
