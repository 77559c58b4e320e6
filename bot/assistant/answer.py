"""Composing an extractive answer: a lead sentence that answers, at most two that add to it, and the
sources that disagree, named as older or less authoritative. Pure functions over scored sentences."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from bot.assistant.facts import MEASURE as _MEASURE
from bot.assistant.facts import NUMBER_WORD as _NUMBER_WORD
from bot.assistant.facts import PATTERNS
from bot.assistant.question import Focus, QuestionFrame, QuestionType
from bot.assistant.sentences import Unit, coverage, is_fragment, repair, similar, stem
from knowledge.authority import AuthorityPolicy
from knowledge.lexical import query_terms
from knowledge.models import TIER_LABELS, Hit

_ROLE = re.compile(
    r"\b(?:officers?|officials?|manager|council|head of|director|administrator|secretary|department|"
    r"committee|board|attorney|executive|chief|advocate|supervisor|agency|office|division|team|staff|"
    r"approver|commissioner|mayor|clerk|auditor|representative|owner|authority|CIO|CISO|CTO)\b",
    re.I,
)
_AGENCY = re.compile(
    r"\b(?:[A-Z]{1,3}O|HCA|SPE|SBA|GSA|OMB|OPM|DOJ|GAO|CISA|NIST|OFPP|FAR Council|the Administrator)\b"
)
_TEMPORAL = re.compile(
    r"\b(?:before|after|within|no later than|prior to|until|at the time|upon|once|when|during|each year|"
    r"annually|effective)\b",
    re.I,
)
_CLOCK = re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:a\.m\.|p\.m\.|am\b|pm\b)|\b(?:noon|midnight)\b", re.I)  # "4:30 p.m."
_DEFINING = r"(?:means|is defined as|refers to|stands for|is|are|—|:|\()"


@dataclass(frozen=True)
class Tuning:
    """The weights the dev half of the evaluation set was tuned on (see bench/data/answers)."""

    lexical_weight: float = 0.4
    type_bonus: float = 0.1
    definition_bonus: float = 0.2
    authority_weight: float = 0.2
    recency_weight: float = 0.02
    min_similarity: float = 0.4
    strong_similarity: float = 0.65
    worded_subject: float = 0.75  # … a sentence this much on the subject, of the asked type, may lead
    worded_similarity: float = 0.2  # … from this close in meaning
    min_subject: float = 0.2  # of the question's (rarity-weighted) terms, in the sentence and its headings
    min_passage_subject: float = 0.2  # … in the whole passage
    source_hint_bonus: float = 0.2
    passage_weight: float = 0.75
    action_bonus: float = 0.15
    novelty_bonus: float = 0.2  # "what" questions of no other type: a sentence that names something new
    agent_bonus: float = 0.15  # "who": a role doing the asked action ("the head of an agency shall determine")
    code_bonus: float = 0.15  # a sentence naming the question's codes ("AAL2"), not a sibling's ("AAL1")
    focus_kinds: tuple[str, ...] = ("name", "version", "year", "section")  # must be named in the lead's passage
    key_terms: int = 6  # the question's rarest terms that decide whether a passage is on the subject
    weight_cap: float = 3.0  # no single rare word may decide alone
    support_margin: float = 0.1
    support_subject: float = 0.5
    max_support: int = 2


@dataclass(frozen=True)
class Scored:
    """A sentence of a passage, scored for one question."""

    passage: int
    position: int
    text: str
    unit: Unit
    similarity: float
    subject: float
    passage_subject: float
    typed: bool
    defining: bool
    score: float
    on_focus: bool = True  # the passage names everything the question is about
    of_asked: bool = True  # the sentence or its headings name the thing the figure is asked of


@dataclass(frozen=True)
class Conflict:
    """A source that gives another value for the same thing."""

    passage: int
    value: str
    text: str


@dataclass(frozen=True)
class Composition:
    lead: Scored | None
    support: list[Scored]
    conflicts: list[Conflict]


def typed_value(kind: QuestionType, text: str, *, counting: bool = False) -> list[str]:
    """The values of the asked type in a sentence: amounts (counts too, when ``counting``), durations,
    roles or dates."""
    if kind == "amount":
        values = [m.group(0) for key in ("money", "percent") for m in PATTERNS[key].finditer(text)]
        values += [m.group(0) for m in _MEASURE.finditer(text)]
        if values or not counting:
            return values
        return [m.group(0) for m in re.finditer(r"(?<![\w.(])\d[\d,.]*\b", text)] or _NUMBER_WORD.findall(text)
    if kind == "duration":
        return [m.group(0) for key in ("duration", "period", "frequency") for m in PATTERNS[key].finditer(text)]
    if kind == "who":
        return _ROLE.findall(text) or _AGENCY.findall(text)
    if kind == "when":
        dates = [m.group(0) for m in PATTERNS["date"].finditer(text)] + re.findall(r"\b(?:19|20)\d{2}\b", text)
        dates += _CLOCK.findall(text)
        return dates or _TEMPORAL.findall(text)
    return []


def _name(subject: str) -> str:
    """A pattern for ``subject`` that tolerates hyphens and spacing ("micro-purchase" ~ "micro purchase")."""
    return r"[\s\-]+".join(re.escape(w) for w in re.findall(r"[\w\-]+", subject.lower()))


def _expands(name: str, text: str) -> bool:
    """An acronym given after its expansion, "Voluntary Product Accessibility Template (VPAT®)", or before
    it, as glossaries list them: "PROW - Public Right of Way - the physical infrastructure …"."""
    if re.match(rf"^\W*{name}s?[®™]?\W*\s+(?:[-–—:]|stands for)\s+[A-Z]", text, re.I):
        return True
    return re.search(rf"\(\s*{name}s?[®™]?\s*\)", text.lower()) is not None


def is_definition(subject: str, text: str) -> bool:
    """True when the sentence defines ``subject`` ("Micro-purchase threshold means …", "A VPAT is …")."""
    name = _name(subject) if subject else ""
    if not name:
        return False
    pattern = rf"^(?:an?\s+|the\s+)?(?:[\w\-]+\s+){{0,2}}?{name}s?\b[^.]{{0,60}}?\b{_DEFINING}"
    return re.match(pattern, text.lower()) is not None or _expands(name, text)


def definition_strength(subject: str, text: str) -> float:
    """1 for "X means …" (or an acronym's expansion "… (X)"), 0.5 for "Conditional X means …", 0.3 for a
    sentence that opens with X ("Competitive procurement thresholds limit …"), else 0."""
    if not is_definition(subject, text):
        opens = subject and re.match(rf"^(?:an?\s+|the\s+)?{re.escape(subject.lower())}s?\s+\w+", text.lower())
        return 0.3 if opens else 0.0
    name = _name(subject)
    if subject.isupper():  # an acronym is best defined by its expansion
        return 1.0 if _expands(name, text) else 0.6
    lowered = re.sub(r"^(?:as used in this (?:part|subpart|section)\W+)", "", text.lower())
    exact = re.match(rf"^(?:an?\s+|the\s+)?(?:term\s+)?[\"“']?{name}s?\b", lowered) is not None
    return 1.0 if exact else 0.5


def score_units(
    frame: QuestionFrame,
    units: Sequence[tuple[int, int, Unit]],
    similarities: Sequence[float],
    passages: Sequence[Hit],
    authority: AuthorityPolicy,
    tuning: Tuning,
    weights: Mapping[str, float] | None = None,
    mentions: Mapping[str, frozenset[str]] | None = None,
) -> list[Scored]:
    """Every usable sentence scored: meaning, shared words, the asked type, definitions, authority, age."""
    scored: list[Scored] = []
    contexts = [coverage(frame.subject_terms, f"{h.title} {h.section} {h.text}", weights) for h in passages]
    on_focus = [names_focus(frame, h, tuning, mentions) for h in passages]
    asked = query_terms(frame.asked)
    codes = [f for f in frame.focus if f.kind in ("acronym", "name") and re.fullmatch(r"[A-Za-z]+-?\d+", f.text)]
    for (passage, position, unit), similarity in zip(units, similarities, strict=True):
        text = repair(unit.text)
        if is_fragment(Unit(text, unit.kind)):
            continue
        hit = passages[passage - 1]
        subject = coverage(frame.subject_terms, f"{text} {hit.title} {hit.section}", weights)
        typed = bool(typed_value(frame.type, text, counting=frame.counting))
        strength = definition_strength(frame.subject, text)
        defining = strength > 0
        hinted = coverage(frame.source_hint, f"{hit.title} {hit.doc_id} {hit.source}") if frame.source_hint else 0.0
        score = (
            similarity
            + tuning.lexical_weight * subject
            + tuning.type_bonus * typed
            + tuning.definition_bonus * strength
            + tuning.source_hint_bonus * hinted
            + tuning.passage_weight * (hit.dense_score or 0.0)
            + tuning.action_bonus * (bool(frame.action) and coverage([frame.action], text) > 0)
            + tuning.agent_bonus * (frame.type == "who" and is_agent(frame.action, text))
            + tuning.novelty_bonus * (frame.type == "other" and frame.asks_what) * novelty(frame.question, text)
            + tuning.code_bonus * (bool(codes) and all(says(c, text) for c in codes))
            + tuning.authority_weight * authority.weight(hit.authority)
            + tuning.recency_weight * recency(hit)
            - (0.1 if unit.kind == "row" else 0.0)
        )
        scored.append(
            Scored(
                passage,
                position,
                text,
                unit,
                similarity,
                subject,
                contexts[passage - 1],
                typed,
                defining,
                score,
                on_focus[passage - 1],
                of_asked(frame, asked, text, f"{hit.title} {hit.section}"),
            )
        )
    return sorted(scored, key=lambda s: s.score, reverse=True)


def of_asked(frame: QuestionFrame, asked: Sequence[str], text: str, headings: str) -> bool:
    """Whether a sentence names the thing its figure must be of; a count must be a count of it ("85
    datasets" for "how many datasets")."""
    if not asked:
        return True
    stems = "|".join(re.escape(stem(t)) for t in asked)
    count = rf"(?:\d[\d,]*|{_NUMBER_WORD.pattern})"
    if frame.counting and re.search(rf"\b{count}\s+(?:[\w\-]+\s+){{0,2}}(?:{stems})", text, re.I):
        return True  # "412 datasets", "four one-year options"
    if frame.counting and not re.search(r"(?<![\w$.,\-])\d[\d,]*(?![\d.,]*\s?%)(?![\w.\-]*\d)\b", text):
        return False  # a count is a bare number, not money, a percentage or a section number
    return coverage(list(asked), f"{text} {headings}") >= (0.99 if len(asked) <= 2 else 0.6)


_SPECIFIC = re.compile(
    r"(?<!^)(?<![.!?]\s)\b(?:[A-Z][\w\-]*[A-Z0-9][\w\-]*|[A-Z][a-z]+(?:\s+[A-Z][\w\-]+)+|\w+-\w+(?:-\w+)*"
    r"|v?\d+(?:\.\d+)+)\b"
)


def novelty(question: str, text: str) -> float:
    """How much a sentence names that the question does not: names, acronyms, versions, compounds ("Protocol
    Buffers", "firm-fixed-price", "GeoReport v2"); 0 to 1. A "what" question is answered by naming a thing."""
    asked = question.lower()
    new = {m.group(0) for m in _SPECIFIC.finditer(text) if m.group(0).lower() not in asked}
    return min(len(new), 2) / 2


# Verbs a rule uses for what a question asks in other words ("who decides" ~ "shall determine").
_ACTS_AS = {
    "decide": "decid|determin", "approve": "approv|authoriz|sign", "designate": "designat|appoint|nam",
    "accept": "accept", "sign": "sign|execut", "review": "review|examin", "choose": "choos|select",
    "pick": "select|choos", "select": "select|choos", "lift": "lift|overrid", "handle": "handl|process",
}  # fmt: skip
_MODAL = r"(?:shall|must|may|will|should|can|is to|has to)?\s*(?:\w+ly\s+)?"


def is_agent(action: str, text: str) -> bool:
    """A role doing the asked action in the sentence ("The head of an agency shall determine …"), or a
    sentence that says whose responsibility it is ("… is the responsibility of the contracting officer")."""
    if re.search(r"\bresponsib(?:ility|le)\s+(?:of|for)\b|\bis responsible\b", text, re.I):
        return True
    if not action:
        return False
    verbs = _ACTS_AS.get(action.rstrip("s"), _ACTS_AS.get(action, re.escape(stem(action))))
    return re.search(rf"{_ROLE.pattern}(?:\s+[\w'’(),\-]+){{0,4}}?\s+{_MODAL}(?:{verbs})\w*", text, re.I) is not None


def recency(hit: Hit) -> float:
    """0 for a source from 2010 or before, 1 for one from 2025 or later; undated regulations count as current."""
    year = _year(hit)
    if not year:
        return 1.0 if hit.authority == "regulation" else 0.5
    return min(max((year - 2010) / 15, 0.0), 1.0)


def answers(frame: QuestionFrame, candidate: Scored, tuning: Tuning) -> bool:
    """Whether a sentence can lead: from a passage that names what the question is about, on the subject,
    close in meaning, and of the asked type."""
    if not candidate.on_focus or not candidate.of_asked:
        return False
    if candidate.similarity < tuning.min_similarity:
        # A short sentence read alone is far from any question in meaning; one that names nearly all the
        # question's rare words and gives what it asks for ("Only the City Clerk can approve a change.") may
        # still lead, if close enough to be on the topic at all.
        worded = candidate.subject >= tuning.worded_subject and (candidate.typed or candidate.defining)
        return worded and candidate.similarity >= tuning.worded_similarity
    if candidate.defining:
        return True
    if candidate.similarity >= tuning.strong_similarity and (candidate.typed or frame.type == "other"):
        return True  # says the same thing in other words ("over-shipped" for "delivers in excess")
    if frame.subject_terms and (
        candidate.subject < tuning.min_subject or candidate.passage_subject < tuning.min_passage_subject
    ):
        return False
    if frame.type == "definition":
        return candidate.subject >= 0.99 and candidate.similarity >= tuning.min_similarity + 0.15
    if frame.type == "other":
        return True
    return candidate.typed


def compose(frame: QuestionFrame, ranked: Sequence[Scored], passages: Sequence[Hit], tuning: Tuning) -> Composition:
    """The lead, up to two supporting sentences that add something, and disagreeing sources."""
    lead = next((c for c in ranked if answers(frame, c, tuning)), None)
    if lead is None:
        return Composition(None, [], [])
    support: list[Scored] = []
    for candidate in ranked:
        if len(support) >= tuning.max_support:
            break
        if candidate is lead or candidate.similarity < max(
            tuning.min_similarity, lead.similarity - tuning.support_margin
        ):
            continue
        if candidate.unit.kind == "row" or candidate.subject < tuning.support_subject or not candidate.on_focus:
            continue
        if frame.type in ("amount", "duration", "who", "when") and not (
            candidate.typed or candidate.passage == lead.passage
        ):
            continue  # an answer about a figure, a role or a date stays with figures, roles and dates
        chosen = [lead, *support]
        if any(similar(candidate.text, c.text) for c in chosen) or not _adds(candidate.text, chosen):
            continue
        if frame.type in ("amount", "duration") and _disagrees(frame, lead, candidate):
            continue
        support.append(candidate)
    return Composition(lead, support, conflicts(frame, lead, ranked, passages))


def conflicts(frame: QuestionFrame, lead: Scored, ranked: Sequence[Scored], passages: Sequence[Hit]) -> list[Conflict]:
    """Other values for the same amount or duration, from sources other than the lead's."""
    if frame.type not in ("amount", "duration") or not frame.subject_terms:
        return []
    found: list[Conflict] = []
    lead_hit = passages[lead.passage - 1]
    for candidate in ranked:
        hit = passages[candidate.passage - 1]
        if hit.doc_id == lead_hit.doc_id or candidate.subject < 0.99 or not candidate.typed:
            continue
        if any(c.passage == candidate.passage for c in found) or not _disagrees(frame, lead, candidate):
            continue
        value = typed_value(frame.type, candidate.text, counting=frame.counting)[0]
        found.append(Conflict(candidate.passage, value, candidate.text))
        if len(found) == 2:
            break
    return found


def conflict_note(conflict: Conflict, hit: Hit, lead_hit: Hit, authority: AuthorityPolicy) -> str:
    """ "A blog post from 2015, <title>, gives $3,500; it is less authoritative than the source above." """
    label = TIER_LABELS.get(hit.authority, "source")
    year = f" from {hit.date[:4]}" if hit.date[:4].isdigit() else ""
    article = "An" if label[:1] in "aeiou" else "A"
    if authority.rank(hit.authority) > authority.rank(lead_hit.authority):
        why = "it is less authoritative than the source above"
    elif _year(hit) and _year(lead_hit) and _year(hit) < _year(lead_hit):
        why = "it is older than the source above, so the figure has likely changed"
    else:
        why = "check which one applies to your case"
    return f"{article} {label}{year}, {hit.title}, gives {conflict.value}; {why}."


def names_focus(
    frame: QuestionFrame, hit: Hit, tuning: Tuning, mentions: Mapping[str, frozenset[str]] | None = None
) -> bool:
    """Whether a passage is about what the question names: every version, year and section it asks
    about, and every name it names (one will do when they are alternatives: "Sourcewell or NASPO
    ValuePoint"), said in the passage or elsewhere in its document (``mentions``: the documents that name
    each name)."""
    required = [f for f in frame.focus if f.kind in tuning.focus_kinds]
    names = [f for f in required if f.kind == "name"]
    others = [f for f in required if f.kind != "name"]
    if not all(focus_covered(f, [hit]) for f in others):
        return False
    named = mentions or {}
    found = [focus_covered(f, [hit]) or hit.doc_id in named.get(f.text, ()) for f in names]
    return all(found) or (frame.alternatives and any(found))


def focus_covered(focus: Focus, passages: Sequence[Hit]) -> bool:
    """Whether a retrieved passage names the focus, word for word (case, spacing and hyphens aside);
    "subpart 13.5" is also covered by a passage of section 13.5xx."""
    part = re.fullmatch(r"(?:part|subpart|section|§)\s*(\d+(?:\.\d+)?)", focus.text.strip(), re.I)
    if part and any(h.section_number.startswith(part.group(1)) for h in passages):
        return True
    return any(
        says(focus, f"{hit.title} {hit.section} {hit.section_number} {hit.doc_id} {hit.text}") for hit in passages
    )


def says(focus: Focus, text: str) -> bool:
    """Whether a text names the focus word for word (case, spacing and hyphens aside)."""
    return _naming(focus.text).search(_normal(text)) is not None


@cache
def _naming(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.])" + r"[\s\-]*".join(map(re.escape, _normal(name).split())) + r"(?!\w)")


def source_name(hit: Hit) -> str:
    """A short citation name: "FAR 2.101 Definitions" or "Port Alder Procurement Handbook §2.2"."""
    number = hit.section_number
    if number and number not in hit.title:
        return f"{hit.title} §{number}"
    return hit.title


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def _year(hit: Hit) -> int:
    return int(hit.date[:4]) if hit.date[:4].isdigit() else 0


def _adds(text: str, chosen: Sequence[Scored]) -> bool:
    """A supporting sentence must bring at least three content words or a fact the others lack."""
    have = set(re.findall(r"[a-z]{4,}", " ".join(c.text for c in chosen).lower()))
    new = set(re.findall(r"[a-z]{4,}", text.lower())) - have
    return len(new) >= 3


def _disagrees(frame: QuestionFrame, lead: Scored, other: Scored) -> bool:
    if other.subject < 0.99 or not other.typed:
        return False
    mine = {_canonical(v) for v in typed_value(frame.type, lead.text, counting=frame.counting)}
    theirs = {_canonical(v) for v in typed_value(frame.type, other.text, counting=frame.counting)}
    return bool(theirs) and not (mine & theirs)


def _canonical(value: str) -> str:
    return re.sub(r"[\s,$]", "", value.lower())
