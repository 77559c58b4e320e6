"""A government clause as numbered technical requirements: each duty with the standard it maps to (with
its version), the measurable threshold the clause sets, and an acceptance test; vague wording is flagged
with the question that would make it testable."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml

from bot.assistant.facts import MEASURE, find_facts, find_obligation
from bot.assistant.jargon import version_numbered
from bot.assistant.plain import simplify
from bot.assistant.results import TechRequirement, VagueClause
from bot.assistant.sentences import split_sentences
from knowledge.glossary import GLOSSARY_DIR, Glossary, Standard
from knowledge.models import Citation


@cache
def _vague(path: Path = GLOSSARY_DIR / "vague.yaml") -> list[tuple[re.Pattern[str], str]]:
    """The vague-wording patterns (data we write), compiled once."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(re.compile(rf"\b(?:{item['pattern']})\b", re.I), str(item["question"])) for item in items]


_PARTY_MUST = re.compile(
    r"^(?:the\s+)?(?:contractor|vendor|offeror|proposer|supplier|respondent|provider)\s+(?:must|shall)\b", re.I
)


def vague_phrases(text: str) -> list[VagueClause]:
    """Phrases too vague to test, each once, with the question to ask."""
    found: list[VagueClause] = []
    seen: set[str] = set()
    for sentence in split_sentences(text):
        for pattern, question in _vague():
            for match in pattern.finditer(sentence):
                phrase = match.group(0)
                if phrase.lower() in seen:
                    continue
                seen.add(phrase.lower())
                asked = f"\u201c{phrase}\u201d: {question}"
                found.append(VagueClause(phrase=phrase, sentence=sentence, question=asked))
    return found


def requirements_from(text: str, glossary: Glossary, cited: Sequence[Citation] = ()) -> list[TechRequirement]:
    """One numbered requirement per duty the clause states, mapped to standards, thresholds and tests."""
    out: list[TechRequirement] = []
    for sentence in split_sentences(text):
        if find_obligation(sentence) is None:
            bar = threshold(sentence)
            if out and bar:  # a list item under the duty above ("Cyber liability: $5,000,000 per claim")
                previous = out[-1]
                joined = "; ".join(x for x in (previous.threshold, bar) if x)
                out[-1] = previous.model_copy(update={"threshold": joined, "clause": f"{previous.clause} {sentence}"})
            continue
        standards = [s.name for s in glossary.standards_in(sentence)]
        # A version the clause names that the catalog's name lacks ("NTCIP 1202 v03") is kept beside it.
        standards += [v for v in named_versions(sentence) if not any(v.lower() in s.lower() for s in standards)]
        out.append(
            TechRequirement(
                number=len(out) + 1,
                text=_PARTY_MUST.sub("The vendor must", simplify(sentence)),
                acceptance=acceptance(sentence, glossary.standards_in(sentence)),
                source="text",
                citations=list(cited),
                standards=standards,
                threshold=threshold(sentence),
                clause=sentence,
            )
        )
    return out


def named_versions(sentence: str) -> list[str]:
    """Version-numbered standards a clause names that the catalog may not know ("NIST SP 1500-103")."""
    return [c.surface for c in version_numbered(sentence)]


_BOUND = re.compile(
    r"\b(?:not (?:less|fewer|more) than|no (?:less|fewer|more) than|at (?:least|most)|a minimum of|a maximum of|"
    r"up to|(?:greater|less) than or equal to)\s+(?:[a-z\-]+\s+)?(?:\(\d[\d,.]*\)|\d[\d,.]*\+?)(?![\d,.]*\s?%)"
    r"(?:\s+(?!(?:on|in|of|for|to|and|or|the|an?|by|per|at|with|from|within|shall|must)\b)[a-zA-Z\-]+)?",
    re.I,
)  # "not less than 0.85", "not fewer than fifty (50) test", "at least 2,000 historical"
_BOUND_SIGN = re.compile(r"(?:>=|<=|≥|≤)\s?\d[\d,.]*")


def threshold(sentence: str) -> str:
    """The measurable bar a duty sets: its durations, percentages, amounts, dates, measures (10 Hz,
    100 ms) and bounds ("not less than 0.85", "at least 2,000 requests")."""
    values = [
        f.value for f in find_facts(sentence) if f.kind in ("duration", "percent", "money", "date", "period", "time")
    ]
    values += [m.group(0) for pattern in (MEASURE, _BOUND, _BOUND_SIGN) for m in pattern.finditer(sentence)]
    return "; ".join(v for v in dict.fromkeys(values) if not any(v != o and v in o for o in values))


def acceptance(sentence: str, standards: Sequence[Standard]) -> str:
    """A testable acceptance criterion: the standards' own tests, the tests for what the duty is about,
    then checks of the figures stated."""
    parts = [f"{s.name}: {s.test}" for s in standards]
    parts += [test for pattern, test in _tests() if pattern.search(sentence)][:2]
    if _OWN_TEST.search(sentence):  # the clause sets its own test: that is the first one to run
        parts.insert(0, f"The clause's own test: {simplify(sentence).lstrip('*#_ ')}")
    parts.append(figure_check(sentence))
    return " ".join(parts)


_OWN_TEST = re.compile(
    r"\b(?:test(?:s|ing|ed)?|exercises?|demonstrat(?:e|es|ed|ion)|drills?|audits?|validat(?:e|ed|ion)|"
    r"verif(?:y|ied|ication)|acceptance)\b",
    re.I,
)


@cache
def _tests(path: Path = GLOSSARY_DIR / "acceptance.yaml") -> list[tuple[re.Pattern[str], str]]:
    """How each kind of duty is proven (data we write), compiled once."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(re.compile(str(item["pattern"]), re.I), str(item["test"])) for item in items]


def figure_check(sentence: str) -> str:
    facts = {fact.kind: fact.value for fact in find_facts(sentence)}
    checks = []
    if "duration" in facts:
        checks.append(f"the timestamps in the vendor's report or ticket log show it happens within {facts['duration']}")
    if "percent" in facts:
        checks.append(f"the monthly report, checked against the city's own monitoring, shows {facts['percent']} met")
    if "date" in facts:
        checks.append(f"it is delivered and accepted in writing on or before {facts['date']}")
    if "money" in facts:
        checks.append(f"invoices stay within {facts['money']} unless a signed change order says otherwise")
    if checks:
        return "Accepted when " + "; and ".join(checks) + "."
    if re.search(r"\b(?:deliver(?:s|ed)?|provide[sd]?|submit(?:s|ted)?|furnish(?:es|ed)?)\b", sentence, re.IGNORECASE):
        return "Accepted when the deliverable is submitted and the city's contract manager accepts it in writing."
    return (
        "Accepted when it is shown to the city's product owner (in a sprint review or acceptance test) "
        "and recorded as met."
    )
