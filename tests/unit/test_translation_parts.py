"""The parts of translation: jargon detection and explanation, claims in the city's words, clause
requirements with standards, thresholds and vague wording, and considerations raised with quotes."""

import pytest

from bot.assistant.claims import city_summary, claims, downtime, first_person, third_person
from bot.assistant.jargon import define_question, defining_sentence, detect, expanded_in, explain
from bot.assistant.plain import grade
from bot.assistant.requirements import requirements_from, threshold, vague_phrases
from knowledge.glossary import Glossary, load_glossary
from knowledge.models import Hit

PROPOSAL = """# Proposal: GridLoom Platform for Port Alder

We run GridLoom on Kubernetes and ship changes behind feature flags.
Our dispatchers use the Automated Traffic Signal Performance Measures (ATSPM) module.
Chargers speak OCPP 1.6J; the frobnicator reconciles telemetry nightly.
We guarantee 99.9% monthly uptime. Service credits of 5% are the City's sole and exclusive remedy.
The subscription is $42 per device per month for 1,200 devices. Fees increase 4% annually.
The initial term is 36 months and renews automatically.
GridLoom retains a perpetual right to use aggregated telemetry data. Exports cost $0.12 per GB.
"""


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()


def test_the_shipped_crosswalk_has_at_least_1200_terms(glossary: Glossary) -> None:
    assert len(glossary.terms) >= 1200


def test_terms_the_glossary_lacks_are_still_detected(glossary: Glossary) -> None:
    found = {c.surface: c.kind for c in detect(PROPOSAL, glossary)}
    assert found["Kubernetes"] == "glossary"
    assert "OCPP 1.6J" in found  # a version-numbered standard, kept whole
    assert found["frobnicator"] == "rare"  # a word outside everyday English
    assert "GridLoom" not in found  # the author's own product name (in the title) is not jargon


def test_every_detected_term_is_explained_or_asked_about(glossary: Glossary) -> None:
    candidates = detect(PROPOSAL, glossary)
    hit = Hit(
        doc_id="kb.md",
        chunk_id="kb.md#0",
        title="KB",
        section="",
        url="",
        score=1.0,
        text="",
        kind="standard",
        source="kb.md",
    )
    definitions = {"frobnicator": ("A frobnicator is a device that tidies telemetry before it is stored.", hit)}
    result = explain(candidates, PROPOSAL, glossary, lambda term: definitions.get(term.lower()))
    assert result.found == len(result.terms) + len(result.undefined) > 0
    by_term = {t.found_as: t for t in result.terms}
    assert by_term["frobnicator"].source == "knowledge base" and by_term["frobnicator"].citation is not None
    assert "ATSPM" in {t.term for t in result.terms}  # the glossary knows it by its expansion
    assert "ATSPM" not in {u.term for u in result.undefined}
    for undefined in result.undefined:
        assert undefined.term in undefined.question


def test_acronym_expansions_and_definitions_are_read_from_text() -> None:
    assert expanded_in("ATSPM", "the Automated Traffic Signal Performance Measures (ATSPM) suite") == (
        "Automated Traffic Signal Performance Measures"
    )
    assert expanded_in("RTCC", "a real-time crime center (RTCC) for the police") == "real-time crime center"
    assert expanded_in("API", "an interface (API) somewhere") == ""
    assert defining_sentence("sewershed", "Intro. A sewershed is the area that drains to one sampling point.") == (
        "A sewershed is the area that drains to one sampling point."
    )
    assert "\u201cgeohash\u201d" in define_question("geohash")


def test_claims_are_restated_with_what_they_mean_for_the_city() -> None:
    found = {c.kind: c for c in claims(PROPOSAL)}
    assert "43 minutes" in found["uptime"].plain
    assert "only remedy" in found["credits"].plain
    assert "$604,800 a year" in found["price"].plain  # $42 x 12 months x 1,200 devices
    assert "4%" in found["escalator"].plain
    assert "renews by itself" in found["term"].plain and "36 months" in found["term"].plain
    assert found["data rights"].quote.startswith("GridLoom retains")
    assert "$0.12 per GB" in found["usage fee"].plain
    assert downtime(99.0) == "7.2 hours"


def test_the_city_summary_keeps_every_figure_in_the_third_person() -> None:
    summary = " ".join(city_summary(PROPOSAL, claims(PROPOSAL)))
    for figure in ("99.9%", "5%", "$42 per device per month", "4%", "36 months", "$0.12 per GB"):
        assert figure in summary
    assert not first_person(summary)
    assert grade(summary) <= 9


def test_third_person_keeps_verbs_in_agreement() -> None:
    assert third_person("We guarantee uptime and our team supports you.") == (
        "The vendor guarantees uptime and the vendor's team supports the City."
    )
    assert third_person("We also host it; we are certified.") == "The vendor also hosts it; the vendor is certified."


def test_clause_requirements_carry_standards_thresholds_and_tests(glossary: Glossary) -> None:
    clause = (
        "The Contractor shall ensure the portal conforms to Section 508. The Contractor shall notify the City "
        "within seventy-two (72) hours of any Security Incident. The Contractor shall use industry best practices."
    )
    requirements = requirements_from(clause, glossary)
    assert len(requirements) == 3
    assert any("WCAG" in s for s in requirements[0].standards)
    assert "72" in requirements[1].threshold
    assert requirements[0].acceptance.startswith(requirements[0].standards[0])
    assert "within seventy-two (72) hours" in requirements[1].acceptance or "72" in requirements[1].acceptance
    vague = vague_phrases(clause)
    assert [v.phrase.lower() for v in vague] == ["industry best practices"]
    assert "standard and version" in vague[0].question
    assert threshold("Uptime of 99.95% each month.") == "99.95%"


def test_considerations_quote_the_sentences_that_raise_them(glossary: Glossary) -> None:
    sentences = [
        "Fees increase 4% annually.",
        "Our hosting provider maintains FedRAMP Moderate authorization.",
        "Our dispatch algorithm is proprietary.",
        "Support is provided by our partner in Manila.",
    ]
    evidence = glossary.evidence(sentences)
    assert evidence["price-escalation"][0].sentence == sentences[0]
    assert evidence["certification-scope"][0].sentence == sentences[1]
    assert evidence["ai-transparency"][0].sentence == sentences[2]
    assert evidence["subcontracting"][0].sentence == sentences[3]
    assert all(e.weight >= 2 for items in evidence.values() for e in items if e.sentence in sentences[:1])


@pytest.mark.parametrize(
    ("sentence", "consideration"),
    [
        ("The vendor's company-wide security program is audited each year against ISO 27001.", "certification-scope"),
        (
            "The Contractor shall retain call recordings and every signed consent form on file for seven (7) years.",
            "records-retention",
        ),
        ("The Contractor shall not charge per-transaction fees for the public API.", "price-escalation"),
        ("Raw video footage is kept by the vendor for model improvement.", "privacy"),
    ],
)
def test_evidence_is_read_in_either_order_and_across_long_objects(
    glossary: Glossary, sentence: str, consideration: str
) -> None:
    assert glossary.evidence([sentence])[consideration][0].sentence == sentence


def test_list_items_add_their_figures_and_unknown_standards_are_kept(glossary: Glossary) -> None:
    clause = (
        "The Contractor shall maintain the following insurance. Cyber liability: $5,000,000 per claim. "
        "The Contractor shall export cast vote records in NIST SP 1500-103 within fourteen (14) calendar days. "
        "The Contractor shall commission an annual third-party penetration test."
    )
    first, second, third = requirements_from(clause, glossary)
    assert "$5,000,000" in first.threshold
    assert "NIST SP 1500-103" in second.standards and "fourteen (14) calendar days" in second.threshold
    assert "penetration test report" in third.acceptance


def test_versions_measures_bounds_and_the_clauses_own_test_reach_the_requirement(glossary: Glossary) -> None:
    clause = (
        "The Contractor shall communicate with all controllers using NTCIP 1202 v03. "
        "SPaT messages shall conform to SAE J2735 and shall be broadcast at 10 Hz within 100 ms of the controller. "
        "Classification shall achieve an F1 score of not less than 0.85 on at least 2,000 historical requests. "
        "The Contractor shall conduct a purple-team exercise in which at least twenty (20) techniques are emulated."
    )
    versions, messages, quality, exercise = requirements_from(clause, glossary)
    assert "NTCIP 1202 v03" in versions.standards
    assert "SAE J2735" in messages.standards
    assert "10 Hz" in messages.threshold and "100 ms" in messages.threshold
    assert quality.threshold.startswith("not less than 0.85") and "at least 2,000 historical" in quality.threshold
    assert " on" not in quality.threshold  # a bound ends at its number or its noun, not a preposition
    assert exercise.acceptance.startswith("The clause's own test:") and "purple-team" in exercise.acceptance
    assert not versions.acceptance.startswith("The clause's own test:")  # no test named, none restated


def test_the_summary_keeps_counts_and_sizes_too() -> None:
    text = "We include 2 TB of storage for 48 Level 2 ports. Fees increase 3% annually."
    summary = " ".join(city_summary(text, claims(text)))
    assert "2 TB" in summary and "48 Level 2 ports" in summary and "3% annually" in summary


def test_counts_of_described_things_and_short_commitments_are_kept() -> None:
    text = (
        "We fit a sensor to 45 refuse and recycling trucks. Four (4) year term.\n\n"
        "If accuracy stays below 97% for 3 consecutive months, the vendor adds readers."
    )
    summary = " ".join(city_summary(text, claims(text)))
    assert "45 refuse and recycling trucks" in summary
    assert "four (4) years" in summary.lower()
    assert "3 consecutive months" in summary


def test_the_initial_term_is_not_the_renewal_term() -> None:
    found = {c.kind: c for c in claims("Three (3) year initial term, renewing automatically for 1-year terms.")}
    assert found["term"].plain.startswith("The contract runs three (3) years and then renews by itself")


def test_a_summary_over_the_plain_grade_is_cut_shorter_and_keeps_its_figures() -> None:
    text = (
        "The vendor installs sensors at 240 parking meters, and the sensors report space status to the city "
        "dashboard every minute, with monthly reports delivered within 10 business days after each month ends, "
        "covering occupancy, turnover and revenue trends by district. "
        "Training covers 30 enforcement officers across 6 weeks, including classroom sessions, field exercises "
        "and written procedures, with refresher sessions offered annually at no additional charge to the city."
    )
    summary = " ".join(city_summary(text, claims(text)))
    assert grade(text) > 9.0 and grade(summary) <= 9.0
    assert all(f in summary for f in ("240 parking meters", "10 business days", "30 enforcement officers", "6 weeks"))
