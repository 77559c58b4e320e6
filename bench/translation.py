"""How well translate, summarize and review do on the written fixtures (tests/fixtures)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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
