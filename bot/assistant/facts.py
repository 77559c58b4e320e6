"""Key facts: money, dates, durations, percentages and obligations (who must do what)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|forty-five|sixty|ninety)"
)
NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty|"
    r"hundred|thousand|million|billion)\b",
    re.I,
)
MEASURE = re.compile(
    rf"(?:\b\d+(?:\.\d+)?:1\b|(?:\b\d[\d,.]*|{NUMBER_WORD.pattern})\s?(?:meters?|metres?|feet|foot|ft|miles?|km|"
    r"kilometers?|inches|[KMGT]B|gigabytes?|terabytes?|seconds?|milliseconds?|ms|Hz|pixels?|px|points?|pt|Mbps|"
    r"Gbps|kW|kWh|kVA|MW|dB|lux)\b)",
    re.I,
)  # "3:1", "four meters", "10 GB", "100 ms": what a "how big / how fast" question asks for, a threshold a clause sets

PATTERNS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        r"(?:US)?[$£€]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|thousand|[MKB])\b)?"
        r"(?:\s(?:per|a|an|each)\s[a-z]+(?:\s(?:per|a)\s[a-z]+)?)?"
        r"|\b\d[\d,]*(?:\.\d+)?\s(?:million\s|billion\s|thousand\s)?dollars\b",
        re.IGNORECASE,
    ),
    "percent": re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b)", re.IGNORECASE),
    "date": re.compile(
        rf"\b{_MONTHS}\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b"
        rf"|\b(?:FY|fiscal year)\s?\d{{2,4}}\b|\b{_MONTHS}\s\d{{1,2}}(?:st|nd|rd|th)?\b",
        re.IGNORECASE,
    ),
    "duration": re.compile(
        rf"\b(?:\d+|{_NUMBER_WORDS}|[a-z]+(?:-[a-z]+)?(?=\s?\(\d+\)))(?:\s?\(\d+\))?[\s-](?:consecutive[\s-]|full[\s-])?(?:calendar[\s-]|business[\s-]|working[\s-])?"
        r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|quarters?)\b",
        re.IGNORECASE,
    ),
    "period": re.compile(r"\b(?:year|month|week|day|phase|quarter|sprint|option year)\s\d+\b", re.IGNORECASE),
    "frequency": re.compile(r"\b(?:daily|weekly|biweekly|monthly|quarterly|annually|yearly|semiannually)\b", re.I),
    "terms": re.compile(r"\bnet\s\d+\b", re.IGNORECASE),
    "time": re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:a\.m\.|p\.m\.|AM\b|PM\b)", re.IGNORECASE),
}
_OBLIGATION = re.compile(
    r"\b(shall|must|will|agrees? to|is required to|are required to|is responsible for|are responsible for|"
    r"may not|shall not|must not)\b",
    re.IGNORECASE,
)
_SUBJECT_STOP = re.compile(r"^(?:if|when|where|unless|upon|within|after|before|each|any|all|the|a|an)\b", re.I)


@dataclass(frozen=True)
class Fact:
    kind: str
    value: str
    sentence: str


@dataclass(frozen=True)
class Obligation:
    party: str
    modal: str
    sentence: str


def find_facts(sentence: str) -> list[Fact]:
    """Every money amount, percentage, date and duration in a sentence."""
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(sentence):
            span = match.span()
            if any(start < span[1] and span[0] < end for start, end in taken):
                continue
            taken.append(span)
            facts.append(Fact(kind, match.group(0).strip(), sentence))
    return facts


def find_obligation(sentence: str) -> Obligation | None:
    """Who is bound and how, when the sentence states a duty ("The Contractor shall …")."""
    match = _OBLIGATION.search(sentence)
    if match is None:
        return None
    before = sentence[: match.start()].strip(" ,;:")
    # The party is the noun phrase right before the modal, after any leading clause.
    clause = re.split(r",\s*", before)[-1] if before else ""
    words = clause.split()
    party = " ".join(words[-5:]) if words else ""
    party = re.sub(r"^(?:the|a|an)\s+", "", party, flags=re.IGNORECASE)
    if not party or _SUBJECT_STOP.match(party) or party.lower() in {"it", "this", "that", "which"}:
        party = "unspecified"
    return Obligation(party=party, modal=match.group(1).lower(), sentence=sentence)


def fact_weight(sentence: str) -> float:
    """How much a sentence carries facts that a summary must keep."""
    facts = find_facts(sentence)
    weight = min(len(facts), 3) * 0.5
    if find_obligation(sentence) is not None:
        weight += 0.5
    return weight
