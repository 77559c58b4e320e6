"""How well translate, summarize and review do on the written fixtures (tests/fixtures)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.assistant.claims import first_person
from bot.assistant.plain import grade
from bot.assistant.results import TermExplanation, TranslateGovResult, TranslateTechResult, UndefinedTerm
from bot.assistant.sentences import split_sentences
from bot.assistant.skills import Skills
from ingest.loaders import read_document
from knowledge.glossary import Glossary

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


@dataclass(frozen=True)
class FixtureScore:
    name: str
    jargon: int
    explained: int
    considerations: int
    raised: int
    grade: float
    summary_grade: float
    facts: int
    facts_kept: int
    review_items: int = 0
    review_agree: int = 0
    requirements: int = 0
    requirements_min: int = 0
    missing_terms: tuple[str, ...] = ()
    missing_considerations: tuple[str, ...] = ()


def load_expectations(folder: Path = FIXTURES) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((folder / "expectations.yaml").read_text(encoding="utf-8"))
    return {str(name): dict(value) for name, value in data.items()}


def explained(jargon: str, glossary: Glossary, terms: set[str]) -> bool:
    """A piece of jargon counts as explained when the output defines the glossary entry it names."""
    return any(match.entry.term in terms for match in glossary.find(jargon))


def score_fixture(name: str, expected: dict[str, Any], skills: Skills, glossary: Glossary) -> FixtureScore:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    proposal = name.startswith("proposals/")
    result = skills.to_gov(text) if proposal else skills.to_tech(text)
    terms = {t.term for t in result.terms}
    jargon = list(expected.get("jargon", []))
    missing_terms = tuple(j for j in jargon if not explained(j, glossary, terms))
    wanted = set(expected.get("considerations", []))
    raised = {c.id for c in result.considerations}
    summary = skills.summarize(read_document(FIXTURES / name, max_bytes=1_000_000))
    facts = list(expected.get("facts", []))
    kept_text = (summary.summary + " " + " ".join(summary.key_facts)).lower()
    review_items = review_agree = 0
    if proposal and "review" in expected:
        review = {item.id: item.status for item in skills.review(text).items}
        review_items = len(expected["review"])
        review_agree = sum(1 for key, status in expected["review"].items() if review.get(key) == status)
    requirements = 0 if proposal else len(getattr(result, "requirements", []))
    return FixtureScore(
        name=name,
        jargon=len(jargon),
        explained=len(jargon) - len(missing_terms),
        considerations=len(wanted),
        raised=len(wanted & raised),
        grade=result.grade,
        summary_grade=summary.grade_after,
        facts=len(facts),
        facts_kept=sum(1 for fact in facts if fact.lower() in kept_text),
        review_items=review_items,
        review_agree=review_agree,
        requirements=requirements,
        requirements_min=int(expected.get("requirements_min", 0)),
        missing_terms=missing_terms,
        missing_considerations=tuple(sorted(wanted - raised)),
    )


def score_all(skills: Skills, glossary: Glossary) -> list[FixtureScore]:
    return [score_fixture(name, expected, skills, glossary) for name, expected in load_expectations().items()]


HELD_OUT = Path(__file__).resolve().parent / "data" / "translate"


@dataclass(frozen=True)
class HeldOutScore:
    """One held-out proposal or clause, scored against its hand expectations."""

    name: str
    split: str
    domain: str
    jargon: int
    explained: int
    flagged: int
    detected: int
    detected_explained: int
    considerations: int
    raised: int
    quoted: int
    facts: int
    facts_kept: int
    summary_grade: float
    first_person: int
    mappings: int = 0
    mapped: int = 0
    vague: int = 0
    vague_flagged: int = 0
    missing_terms: tuple[str, ...] = ()
    missing_considerations: tuple[str, ...] = ()
    missing_mappings: tuple[str, ...] = ()


def load_held_out(folder: Path = HELD_OUT) -> dict[str, dict[str, Any]]:
    """Every expectations*.yaml entry of the held-out set, keyed by path relative to ``folder``."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("expectations*.yaml")):
        for name, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            found[str(name)] = dict(value)
    return found


def _overlaps(a: str, b: str) -> bool:
    a, b = _norm(a), _norm(b)
    return bool(a) and bool(b) and (a in b or b in a)


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


def jargon_scores(
    jargon: list[str], terms: list[TermExplanation], undefined: list[UndefinedTerm], glossary: Glossary
) -> tuple[int, int, tuple[str, ...]]:
    """How many hand-listed terms are explained (by glossary entry, the text or the knowledge base) and
    how many are flagged for the author to define; and which are neither."""
    entries = {t.term for t in terms if t.source == "glossary"}
    explained = flagged = 0
    missing = []
    for item in jargon:
        if any(m.entry.term in entries for m in glossary.find(item)) or any(
            _overlaps(item, t.found_as or t.term) for t in terms
        ):
            explained += 1
        elif any(_overlaps(item, u.term) for u in undefined):
            flagged += 1
            missing.append(item)
        else:
            missing.append(item)
    return explained, flagged, tuple(missing)


def score_held_out(name: str, expected: dict[str, Any], skills: Skills, glossary: Glossary) -> HeldOutScore:
    text = (HELD_OUT / name).read_text(encoding="utf-8")
    proposal = name.startswith("proposals/")
    result: TranslateGovResult | TranslateTechResult = skills.to_gov(text) if proposal else skills.to_tech(text)
    explained, flagged, missing_terms = jargon_scores(
        list(expected.get("jargon", [])), result.terms, result.undefined, glossary
    )
    wanted = list(expected.get("considerations", []))
    raised = {c.id: c for c in result.considerations}
    quoted = sum(
        1 for w in wanted if w["id"] in raised and any(_overlaps(w["quote"], q) for q in raised[w["id"]].quotes)
    )
    facts = [str(f) for f in expected.get("facts", [])]
    mappings = list(expected.get("mappings", []))
    vague = [str(v) for v in expected.get("vague", []) or []]
    summary = result.summary if isinstance(result, TranslateGovResult) else ""
    if isinstance(result, TranslateTechResult):
        # The mapping must be in what the tool adds (standards, thresholds, tests), not in the restated clause.
        written = _norm(" ".join(f"{' '.join(r.standards)} {r.threshold} {r.acceptance}" for r in result.requirements))
        mapped = [m for m in mappings if any(_norm(str(s)) in written for s in m["any_of"])]
        flagged_vague = [
            v for v in vague if any(_overlaps(v, f.phrase) or _norm(f.phrase) in _norm(v) for f in result.vague)
        ]
    else:
        mapped, flagged_vague = [], []
    return HeldOutScore(
        name=name,
        split=str(expected.get("split", "")),
        domain=str(expected.get("domain", "")),
        jargon=len(expected.get("jargon", [])),
        explained=explained,
        flagged=flagged,
        detected=result.terms_found,
        detected_explained=len(result.terms),
        considerations=len(wanted),
        raised=sum(1 for w in wanted if w["id"] in raised),
        quoted=quoted,
        facts=len(facts) if proposal else 0,
        facts_kept=sum(1 for f in facts if _norm(f) in _norm(summary)) if proposal else 0,
        summary_grade=grade(summary) if proposal else 0.0,
        first_person=sum(1 for s in split_sentences(summary) if first_person(s)),
        mappings=len(mappings),
        mapped=len(mapped),
        vague=len(vague),
        vague_flagged=len(flagged_vague),
        missing_terms=missing_terms,
        missing_considerations=tuple(sorted({w["id"] for w in wanted} - set(raised))),
        missing_mappings=tuple(m["concept"] for m in mappings if m not in mapped),
    )


def score_held_out_all(skills: Skills, glossary: Glossary, split: str | None = None) -> list[HeldOutScore]:
    return [
        score_held_out(name, expected, skills, glossary)
        for name, expected in load_held_out().items()
        if split in (None, "all", expected.get("split"))
    ]
