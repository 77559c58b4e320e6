"""Plain-language rewriting, key facts, redaction, glossary matching, prompts and citation checks."""

import pytest

from bot.assistant.facts import find_facts, find_obligation
from bot.assistant.plain import compress, grade, plain_words, simplify
from bot.assistant.requirements import figure_check as acceptance_for
from bot.llm import keep_valid_citations
from bot.prompts import all_prompts
from bot.redact import redact
from knowledge.glossary import ChecklistItem, Consideration, Glossary, Term


def test_plain_words_replace_bureaucratic_phrases_and_keep_capitals() -> None:
    assert plain_words("Prior to award, the Contractor shall utilize the portal.") == (
        "Before award, the vendor must use the portal."
    )


def test_simplify_drops_filler_and_asides_without_numbers_but_keeps_numbers() -> None:
    text = "Please note that the vendor (as defined herein) shall pay (within 30 days) the fee ."
    assert simplify(text) == "The vendor must pay (within 30 days) the fee."


def test_compress_cuts_long_sentences_at_a_clause_boundary() -> None:
    long = (
        "the provider may change these terms at any time and will notify you by email, and you agree that "
        "continued use after the change means you accept the new terms including any fees that apply"
    )
    short = compress(long)
    assert len(short.split()) <= 25 and short.endswith(".")
    assert short.startswith("The provider may change these terms at any time")
    assert compress("Short and plain.") == "Short and plain."


def test_grade_falls_when_sentences_get_shorter() -> None:
    hard = (
        "Notwithstanding the foregoing, the contractor shall indemnify the municipality against consequential "
        "damages arising from unauthorized disclosure of confidential information."
    )
    assert grade(hard) > grade("The vendor pays if it leaks our data.") and grade("") == 0.0


def test_facts_find_money_percentages_dates_and_durations_once_each() -> None:
    sentence = (
        "Within thirty (30) calendar days, the Contractor shall pay $250,000 by July 1, 2027, "
        "keep 99.9 percent uptime and hold 10% for 3 years."
    )
    assert [(f.kind, f.value) for f in find_facts(sentence)] == [
        ("money", "$250,000"),
        ("percent", "99.9 percent"),
        ("percent", "10%"),
        ("date", "July 1, 2027"),
        ("duration", "thirty (30) calendar days"),
        ("duration", "3 years"),
    ]


@pytest.mark.parametrize(
    ("sentence", "party", "modal"),
    [
        ("The Contractor shall deliver an ACR.", "Contractor", "shall"),
        ("Within 10 days, the City will review it.", "City", "will"),
        ("Vendors must not sell resident data.", "Vendors", "must"),
        ("If it fails, you must call us.", "you", "must"),
    ],
)
def test_obligations_name_who_is_bound(sentence: str, party: str, modal: str) -> None:
    obligation = find_obligation(sentence)
    assert obligation is not None and (obligation.party, obligation.modal) == (party, modal)
    assert find_obligation("The portal is fast.") is None


def test_acceptance_criteria_come_from_the_facts_in_the_obligation() -> None:
    assert "within 24 hours" in acceptance_for("The Contractor shall notify the City within 24 hours.")
    assert "99.9%" in acceptance_for("The service must be available 99.9% of each month.")
    assert "accepts it in writing" in acceptance_for("The Contractor shall deliver a test plan.")


def test_redaction_removes_resident_contact_details_only() -> None:
    text = (
        "Maria (maria@example.com, (555) 201-4477, SSN 123-45-6789) lives at 1420 North Harbor Avenue, Apt 3B. "
        "Uptime is 99.9% within 24 hours for $250,000."
    )
    assert redact(text) == (
        "Maria ([EMAIL], [PHONE], SSN [SSN]) lives at [ADDRESS]. Uptime is 99.9% within 24 hours for $250,000."
    )


def test_only_citations_to_retrieved_passages_survive() -> None:
    assert keep_valid_citations("A [1]. B [4]. C [1, 3].", {1, 2, 3}) == ("A [1]. B. C [1][3].", {1, 3})


def test_every_prompt_file_loads_and_renders() -> None:
    prompts = all_prompts()
    assert {p.name for p in prompts} >= {"ask", "translate_gov", "translate_tech", "summarize", "review"}
    for prompt in prompts:
        messages = prompt.render(**{name: f"<{name}>" for name in prompt.variables})
        rendered = " ".join(str(m.content) for m in messages)
        assert all(f"<{name}>" in rendered for name in prompt.variables)


def test_every_notice_renders_with_every_placeholder_and_a_mismatch_is_refused() -> None:
    import pydantic

    from bot.prompts import Notice, all_notices

    for notice in all_notices():
        reply, dm = notice.render(**{name: f"<{name}>" for name in notice.variables})
        assert all(f"<{name}>" in reply + dm for name in notice.variables)
    with pytest.raises(pydantic.ValidationError, match="placeholders"):
        Notice(name="x", version=1, description="d", variables=["a"], reply="Only {b} is used here, not the other.")


def _glossary(**extra: list[Term]) -> Glossary:
    consideration = Consideration(
        id="accessibility",
        name="Accessibility",
        why="Everyone must be able to use it.",
        questions=["Is there an ACR?"],
        queries=["section 508"],
        keywords=["screen reader"],
    )
    terms = [
        Term(
            term="ACR",
            side="gov",
            aliases=["accessibility conformance report"],
            definition="A report on access.",
            other_side="A VPAT-based report.",
            considerations=["accessibility"],
        ),
        Term(
            term="SaaS",
            side="tech",
            aliases=["software as a service"],
            definition="Software you rent online.",
            other_side="A subscription contract.",
        ),
        *extra.get("more", []),
    ]
    item = ChecklistItem(
        id="exit-plan",
        name="Exit plan",
        looks_like="Data is returned at the end.",
        strong=["exit plan"],
        questions=["How do we leave?"],
    )
    return Glossary(terms=terms, considerations=[consideration], checklist=[item])


def test_glossary_finds_terms_by_alias_and_plural_and_acronyms_only_in_capitals() -> None:
    glossary = _glossary()
    found = glossary.find("Two ACRs and Software-as-a-Service, then software as a service; an acr is not one.")
    assert [(m.entry.term, m.surface, m.count) for m in found] == [
        ("ACR", "ACRs", 1),
        ("SaaS", "Software-as-a-Service", 2),  # hyphens and spaces are the same word break
    ]


def test_glossary_triggers_considerations_from_terms_and_keywords() -> None:
    glossary = _glossary()
    text = "We deliver an ACR and test with a screen reader."
    assert glossary.triggered(text, glossary.find(text)) == {"accessibility": 3}


def test_glossary_rejects_colliding_aliases_and_unknown_considerations() -> None:
    clash = Term(
        term="Access report",
        side="gov",
        aliases=["ACR"],
        definition="A report on access.",
        other_side="Same.",
        considerations=["nope"],
    )
    with pytest.raises(ValueError, match=r"'ACR' belongs to both 'ACR' and 'Access report'.*unknown consideration"):
        _glossary(more=[clash])


def test_acceptance_does_not_mistake_identity_provider_for_a_deliverable() -> None:
    assert "product owner" in acceptance_for("The Solution must integrate with the City's identity provider.")


def test_plurals_of_words_ending_in_e_map_back_to_their_term() -> None:
    extra = Term(term="data pipeline", side="tech", definition="Steps that move data.", other_side="A data feed.")
    glossary = _glossary(more=[extra])
    assert [m.entry.term for m in glossary.find("Two data pipelines run nightly.")] == ["data pipeline"]


def test_facts_include_rates_periods_frequencies_and_payment_terms() -> None:
    found = [
        (f.kind, f.value)
        for f in find_facts(
            "We charge $18 per sensor per month from year 3, review quarterly, pay net 30 by January 31, "
            "and answer within 15 minutes."
        )
    ]
    assert found == [
        ("money", "$18 per sensor per month"),
        ("date", "January 31"),
        ("duration", "15 minutes"),
        ("period", "year 3"),
        ("frequency", "quarterly"),
        ("terms", "net 30"),
    ]
