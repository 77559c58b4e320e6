"""The shipped glossary, considerations catalog and partnership checklist are complete and consistent."""

from collections import Counter

import pytest

from bot.assistant.plain import grade
from knowledge.glossary import Glossary, load_glossary

CONSIDERATIONS = {
    "accessibility",
    "data-ownership",
    "privacy",
    "surveillance",
    "cybersecurity",
    "identity-assurance",
    "sla-remedies",
    "interoperability",
    "vendor-lock-in",
    "total-cost",
    "procurement-method",
    "records-retention",
    "agile-contracting",
    "community-equity",
    "ai-transparency",
    "standards-currency",
    "price-escalation",
    "subcontracting",
    "certification-scope",
}
CHECKLIST = {
    "objectives-kpis",
    "governance",
    "open-standards",
    "data-sharing",
    "privacy-security",
    "sla-remedies",
    "risk-plan",
    "community-engagement",
    "agile-cadence",
    "exit-plan",
}


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()  # validation (duplicates, aliases, references) happens here


def test_at_least_200_terms_from_both_sides(glossary: Glossary) -> None:
    sides = Counter(term.side for term in glossary.terms)
    assert len(glossary.terms) >= 200 and sides["tech"] >= 80 and sides["gov"] >= 80, sides


def test_no_duplicate_terms_or_colliding_aliases(glossary: Glossary) -> None:
    surfaces = Counter(s.lower() for term in glossary.terms for s in term.surfaces)
    assert [s for s, n in surfaces.items() if n > 1] == []


def test_every_definition_reads_at_grade_8_or_below(glossary: Glossary) -> None:
    too_hard = {t.term: grade(t.definition) for t in glossary.terms if grade(t.definition) > 8.0}
    assert too_hard == {}


def test_every_referenced_consideration_exists(glossary: Glossary) -> None:
    assert {c.id for c in glossary.considerations} == CONSIDERATIONS
    used = {cid for term in glossary.terms for cid in term.considerations}
    used |= {item.consideration for item in glossary.checklist if item.consideration}
    used |= {r.consideration for r in glossary.requirements}
    assert used <= CONSIDERATIONS


def test_catalog_and_checklist_are_complete(glossary: Glossary) -> None:
    assert {item.id for item in glossary.checklist} == CHECKLIST
    for consideration in glossary.considerations:
        assert consideration.why and len(consideration.questions) >= 2 and consideration.queries
    assert set(glossary.requirements_for) == CONSIDERATIONS
