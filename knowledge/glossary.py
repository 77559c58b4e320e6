"""The crosswalk glossary, the considerations catalog and the partnership checklist (data we write).

All three live as YAML under ``knowledge/glossary/`` and are validated by pydantic when loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

GLOSSARY_DIR = Path(__file__).resolve().parent / "glossary"

Side = Literal["tech", "gov"]


class GlossaryError(ValueError):
    """The glossary data is inconsistent (caught at load, and by the tests)."""


class Term(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    term: str = Field(min_length=1)
    side: Side
    aliases: list[str] = Field(default_factory=list)
    definition: str = Field(min_length=10)
    other_side: str = Field(min_length=5, description="How the other side would say it.")
    considerations: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)

    @property
    def surfaces(self) -> list[str]:
        return [self.term, *self.aliases]


class Consideration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ignored_types=(cached_property,))

    id: str
    name: str
    why: str
    questions: list[str] = Field(min_length=1)
    queries: list[str] = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(
        default_factory=list, description="Regular expressions for sentences that raise it in other words."
    )

    @cached_property
    def patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(p, re.I) for p in self.evidence]


class ChecklistItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    looks_like: str
    strong: list[str] = Field(min_length=1)
    weak: list[str] = Field(default_factory=list)
    questions: list[str] = Field(min_length=1)
    consideration: str | None = None


class Requirement(BaseModel):
    """A technical requirement that a government consideration implies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    acceptance: str


class RequirementSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    consideration: str
    requirements: list[Requirement] = Field(min_length=1)


@dataclass(frozen=True)
class Evidence:
    """A sentence that raises a consideration, and the words in it that did."""

    sentence: str
    trigger: str
    weight: int


@dataclass(frozen=True)
class TermMatch:
    """A glossary term found in a text: the entry, the words as written, and where it first appears."""

    entry: Term
    surface: str
    count: int
    first: int


class Standard(BaseModel):
    """A technical standard a government clause names or implies, with how an engineer proves it is met."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="With its version: 'WCAG 2.1 Level AA'.")
    triggers: list[str] = Field(min_length=1, description="Lowercase phrases of a clause that imply it.")
    covers: str
    test: str
    superseded: list[str] = Field(default_factory=list)
    note: str = ""


class Glossary(BaseModel):
    """The loaded, cross-checked data."""

    terms: list[Term]
    considerations: list[Consideration]
    checklist: list[ChecklistItem]
    requirements: list[RequirementSet] = Field(default_factory=list)
    standards: list[Standard] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Glossary:
        problems = list(_collisions(self.terms))
        known = {c.id for c in self.considerations}
        if len(known) != len(self.considerations):
            problems.append("duplicate consideration ids")
        for term in self.terms:
            problems += [f"{term.term}: unknown consideration {c!r}" for c in term.considerations if c not in known]
        for item in self.checklist:
            if item.consideration and item.consideration not in known:
                problems.append(f"checklist {item.id}: unknown consideration {item.consideration!r}")
        problems += [
            f"requirements: unknown consideration {r.consideration!r}"
            for r in self.requirements
            if r.consideration not in known
        ]
        if problems:
            raise GlossaryError("; ".join(problems[:20]))
        return self

    @cached_property
    def by_id(self) -> dict[str, Consideration]:
        return {c.id: c for c in self.considerations}

    @cached_property
    def requirements_for(self) -> dict[str, list[Requirement]]:
        return {r.consideration: list(r.requirements) for r in self.requirements}

    @cached_property
    def _pattern(self) -> tuple[re.Pattern[str], dict[str, Term]]:
        lookup: dict[str, Term] = {}
        variants: dict[str, Term] = {}
        surfaces: list[str] = []
        for term in self.terms:
            for surface in term.surfaces:
                lookup[_key(surface)] = term
                for variant in _variants(surface):
                    variants.setdefault(variant, term)
                surfaces.append(surface)
        for variant, term in variants.items():
            lookup.setdefault(variant, term)  # a term as written wins over another's variant
        parts = [_surface_pattern(s) for s in sorted(surfaces, key=len, reverse=True)]
        return re.compile("|".join(parts)), lookup

    def find(self, text: str, *, side: Side | None = None) -> list[TermMatch]:
        """Glossary terms used in ``text``, in order of first use (longest match wins)."""
        pattern, lookup = self._pattern
        found: dict[str, TermMatch] = {}
        for match in pattern.finditer(text):
            surface = match.group(0)
            entry = next((lookup[form] for form in _forms(_key(surface)) if form in lookup), None)
            if entry is None or (side and entry.side != side):
                continue
            previous = found.get(entry.term)
            if previous is None:
                found[entry.term] = TermMatch(entry, surface, 1, match.start())
            else:
                found[entry.term] = TermMatch(entry, previous.surface, previous.count + 1, previous.first)
        return sorted(found.values(), key=lambda m: m.first)

    def standards_in(self, text: str) -> list[Standard]:
        """The standards a text names or implies, in catalog order."""
        lowered = text.lower()
        return [s for s in self.standards if any(_contains_phrase(lowered, t.lower()) for t in [*s.triggers, s.name])]

    def evidence(self, sentences: Sequence[str]) -> dict[str, list[Evidence]]:
        """Per consideration, the sentences that raise it, strongest first. A sentence that says it (its
        keywords, and evidence patterns counting double) weighs 1 + what it says; one that only uses a
        glossary term tied to it weighs 1."""
        found: dict[str, list[Evidence]] = {}
        for sentence in sentences:
            lowered = sentence.lower()
            terms = self.find(sentence)
            for consideration in self.considerations:
                words = [k for k in consideration.keywords if _contains_phrase(lowered, k.lower())]
                matches = [m.group(0) for p in consideration.patterns if (m := p.search(sentence))]
                if words or matches:
                    trigger = (words or matches)[0]
                    weight = 1 + len(words) + 2 * len(matches)
                    found.setdefault(consideration.id, []).append(Evidence(sentence, trigger, weight))
                    continue
                term = next((m.surface for m in terms if consideration.id in m.entry.considerations), None)
                if term is not None:
                    found.setdefault(consideration.id, []).append(Evidence(sentence, term, 1))
        return {cid: sorted(items, key=lambda e: -e.weight) for cid, items in found.items()}

    def triggered(self, text: str, matches: Iterable[TermMatch]) -> dict[str, int]:
        """Consideration ids raised by the terms and keywords in ``text``, with how strongly."""
        lowered = text.lower()
        weights: dict[str, int] = {}
        for match in matches:
            for cid in match.entry.considerations:
                weights[cid] = weights.get(cid, 0) + 1
        for consideration in self.considerations:
            hits = sum(1 for keyword in consideration.keywords if _contains_phrase(lowered, keyword.lower()))
            if hits:
                weights[consideration.id] = weights.get(consideration.id, 0) + 2 * hits
        return dict(sorted(weights.items(), key=lambda kv: kv[1], reverse=True))


def _surface_pattern(surface: str) -> str:
    """Whole-word and plural-tolerant; acronyms (ACR, SOO) match only in capitals, other words in any case,
    with a hyphen or a space between words ("flow-down" ~ "flow down"), a plural first word in "X of Y"
    ("certificates of insurance"), another ending of a final "-ing" ("geocoding" ~ "geocoded"), and
    without a generic last word of three or more ("mass notification system" ~ "mass notification")."""
    if _is_acronym(surface):
        return rf"(?<![\w-]){re.escape(surface)}s?{_END}"
    words = [re.escape(w) for w in re.split(r"[\s-]+", surface.strip()) if w]
    if len(words) >= 3 and words[1] == "of":
        words[0] += "(?:s|es)?"
    last = words[-1]
    if re.fullmatch(r"[a-z]{4,}ing", last):
        words[-1] = rf"{last[:-3]}(?:ing|ed|es|e|s)?"
    body = r"[\s-]+".join(words)
    if len(words) >= 3 and words[-1] in _GENERIC_HEADS:
        body = r"[\s-]+".join(words[:-1]) + rf"(?:[\s-]+{words[-1]})?"
    return rf"(?i:(?<![\w-]){body}(?:s|es)?{_END})"


# A term ends at a word boundary, or before a suffix that only qualifies it ("LoRaWAN-based", "SAML-compliant").
_END = r"(?![\w]|-(?!(?:based|enabled|compliant|compatible|capable|ready|certified|powered|driven|only)\b))"
_GENERIC_HEADS = frozenset({"system", "systems", "platform", "software", "service", "tool", "solution", "module"})


def _key(surface: str) -> str:
    """How a surface is looked up: lower case, hyphens as spaces, single spaces."""
    return " ".join(surface.lower().replace("\u2019", "'").replace("-", " ").split())


def _variants(surface: str) -> set[str]:
    """The other keys a surface is found by (see ``_surface_pattern``)."""
    if _is_acronym(surface):
        return set()
    words = _key(surface).split()
    found: set[str] = set()
    if len(words) >= 3 and words[1] == "of":
        found |= {" ".join([words[0] + end, *words[1:]]) for end in ("s", "es")}
    if re.fullmatch(r"[a-z]{4,}ing", words[-1]):
        stem = words[-1][:-3]
        found |= {" ".join([*words[:-1], stem + end]) for end in ("ed", "es", "e", "s", "")}
    if len(words) >= 3 and words[-1] in _GENERIC_HEADS:
        found.add(" ".join(words[:-1]))
    return found


def _is_acronym(surface: str) -> bool:
    letters = [c for c in surface if c.isalpha()]
    return bool(letters) and len(surface) <= 6 and all(c.isupper() for c in letters)


def _forms(surface: str) -> list[str]:
    """The surface as written, then its singular candidates ("traces" → "trace", "switches" → "switch")."""
    forms = [surface]
    for suffix in ("s", "es"):
        if surface.endswith(suffix) and len(surface) > len(suffix) + 1:
            forms.append(surface[: -len(suffix)])
    return forms


def _contains_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def _collisions(terms: list[Term]) -> Iterable[str]:
    seen: dict[str, str] = {}
    for term in terms:
        own = term.term.lower()
        if own in seen:
            yield f"{term.term!r} belongs to both {seen[own]!r} and {term.term!r}"
        seen[own] = term.term
        for surface in term.aliases:
            key = surface.lower()
            if key == own:
                yield f"{term.term}: alias repeats the term"
                continue
            if key in seen and seen[key] != term.term:
                yield f"{surface!r} belongs to both {seen[key]!r} and {term.term!r}"
            elif key in seen:
                yield f"{term.term}: {surface!r} listed twice"
            seen[key] = term.term


def load_glossary(folder: Path = GLOSSARY_DIR) -> Glossary:
    """Read and validate the YAML data in ``folder`` (terms from ``terms.yaml`` and every ``terms/*.yaml``)."""

    def read(name: str) -> object:
        path = folder / name
        if not path.exists():
            return []
        return yaml.safe_load(path.read_text(encoding="utf-8")) or []

    terms: list[object] = []
    for name in ["terms.yaml", *sorted(f"terms/{p.name}" for p in (folder / "terms").glob("*.yaml"))]:
        entries = read(name)
        if not isinstance(entries, list):
            raise GlossaryError(f"{name}: expected a list of terms")
        terms += entries
    return Glossary(
        terms=TypeAdapter(list[Term]).validate_python(terms),
        considerations=TypeAdapter(list[Consideration]).validate_python(read("considerations.yaml")),
        checklist=TypeAdapter(list[ChecklistItem]).validate_python(read("partnership.yaml")),
        requirements=TypeAdapter(list[RequirementSet]).validate_python(read("requirements.yaml")),
        standards=TypeAdapter(list[Standard]).validate_python(read("standards.yaml")),
    )
