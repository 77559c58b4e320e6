"""Pure parts of answering: question analysis, fragments, definitions, composition, authority."""

from __future__ import annotations

import pytest

from bot.assistant.answer import (
    Scored,
    Tuning,
    compose,
    conflict_note,
    focus_covered,
    is_agent,
    is_definition,
    names_focus,
    novelty,
    recency,
    score_units,
    typed_value,
)
from bot.assistant.question import Focus, analyze
from bot.assistant.sentences import Unit, is_fragment, repair, split_units
from bot.settings import Settings
from ingest.cleaning import join_broken_paragraphs, tidy
from knowledge.authority import AuthorityPolicy, tier_name
from knowledge.models import Hit


def hit(doc_id: str, text: str, *, authority: str = "guidance", date: str = "", title: str = "") -> Hit:
    return Hit(
        doc_id=doc_id,
        chunk_id=f"{doc_id}#0",
        title=title or doc_id,
        section="",
        kind="procurement",
        url="",
        source=doc_id,
        date=date,
        score=1.0,
        text=text,
        authority=authority,
    )


def ranked_for(
    question: str, text: str, similarities: list[float], doc_id: str = "doc"
) -> tuple[list[Scored], list[Hit]]:
    """Every sentence of one passage scored for ``question``, each at the similarity given."""
    passages = [hit(doc_id, text)]
    units = [(1, i, u) for i, u in enumerate(split_units(text))]
    return score_units(analyze(question), units, similarities, passages, AuthorityPolicy(), Tuning()), passages


def lead_for(question: str, text: str, similarities: list[float], doc_id: str = "doc") -> Scored | None:
    ranked, passages = ranked_for(question, text, similarities, doc_id)
    return compose(analyze(question), ranked, passages, Tuning()).lead


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What is the simplified acquisition threshold?", "amount"),
        ("micro-purchase limit?", "amount"),
        ("How long does a bidder have to file a protest?", "duration"),
        ("How many days' notice before a sole-source award?", "duration"),
        ("Who approves a $300,000 contract?", "who"),
        ("Which official signs a justification for other than full competition?", "who"),
        ("When does the contracting officer publish the synopsis?", "when"),
        ("What is a VPAT?", "definition"),
        ('What does "commercial product" mean?', "definition"),
        ("Can I accept a free lunch from a vendor?", "other"),
        # made-up wordings of the kinds the dev half mistyped
        ("What's the longest a bridge contract can run?", "duration"),
        ("How old can a price quote be before it must be refreshed?", "duration"),
        ("What's the most a department head can approve alone?", "amount"),
        ("Above what contract value are bonds required?", "amount"),
        ("What is a cooperative purchasing threshold?", "definition"),
        ("What is the cooperative purchasing threshold?", "amount"),
        ("Which company hosts the permit portal?", "who"),
    ],
)
def test_questions_are_typed_by_what_they_ask_for(question: str, kind: str) -> None:
    assert analyze(question).type == kind


def test_the_thing_a_figure_is_asked_of_is_found() -> None:
    assert analyze("What's the headcount of the Parks Department?").asked == "headcount"
    assert analyze("What's the total number of permits issued in Dunmore?").asked == "permits issued"
    assert analyze("What was the pothole repair rate in the 2024 pilot?").asked == "pothole repair"
    assert analyze("How many days does a bidder have to protest?").asked == ""  # the type checks days
    assert analyze("What is the simplified acquisition threshold?").asked == ""


def test_a_figure_leads_only_beside_the_thing_it_is_asked_of() -> None:
    question = "What's the headcount of the Parks Department?"
    text = "The Parks Department budgets $2 million a year for seasonal mowing contracts."
    assert lead_for(question, text, [0.8], doc_id="parks") is None
    counted = "How many datasets does the portal hold?"
    text = "The portal is updated daily. The portal holds 412 datasets from nine departments."
    lead = lead_for(counted, text, [0.8, 0.7], doc_id="portal")
    assert lead is not None and "412 datasets" in lead.text


def test_a_count_in_words_is_a_count_of_the_thing_asked() -> None:
    question = "How many renewal terms can the parking contract have?"
    text = "The parking contract runs for two years. It may be renewed for three one-year renewal terms."
    lead = lead_for(question, text, [0.8, 0.6])
    assert lead is not None and "three one-year renewal terms" in lead.text


def test_words_that_only_rank_a_figure_are_not_what_it_is_of() -> None:
    assert analyze("What's the top dollar limit for a sole-source buy?").asked == ""
    assert analyze("What is the highest fee the kiosk vendor charges?").asked == ""


def test_a_clock_time_answers_a_when_question() -> None:
    assert typed_value("when", "Bids are due at 2 p.m. local time on the closing date.")
    assert typed_value("when", "Proposals received at noon are late.")
    assert not typed_value("when", "Bids must be sealed and signed by an authorized officer.")


def test_a_sentence_naming_the_asked_code_outranks_its_sibling() -> None:
    question = "How often must Tier2 devices be patched?"
    text = "Tier1 devices must be patched every 90 days. Tier2 devices must be patched every 30 days."
    ranked, _ = ranked_for(question, text, [0.8, 0.78])
    assert ranked[0].text.startswith("Tier2")


def test_every_name_must_be_covered_unless_they_are_alternatives() -> None:
    both = analyze("Who chairs Dunmore's Privacy Advisory Commission?")
    either = analyze("Can we buy through Sourcewell or NASPO ValuePoint?")
    passage = hit("dunmore", "Dunmore's Technology Board is chaired by the CIO. Sourcewell contracts are open.")
    assert not names_focus(both, passage, Tuning())
    assert names_focus(either, passage, Tuning())


def test_a_sentence_that_names_something_new_answers_a_what_question() -> None:
    question = "What encoding does the bus feed use?"
    assert novelty(question, "The feed is encoded as Protocol Buffers, and GTFS-ride adds counts.") == 1.0
    assert novelty(question, "The bus feed uses an encoding that consumers can read.") == 0.0
    assert novelty("What does GTFS use?", "GTFS is widely used.") == 0.0  # named in the question already


def test_a_role_doing_the_asked_action_is_an_agent() -> None:
    assert is_agent("decides", "The head of an agency shall determine whether staff are available.")
    assert is_agent("approve", "The chief procurement officer approves each justification.")
    assert is_agent("accept", "Acceptance of supplies is the responsibility of the contracting officer.")
    assert not is_agent("decides", "An agency has received proposals and its team will meet on Monday.")
    assert not is_agent("approve", "The contracting officer prepares a determination and findings.")


def test_definition_questions_name_their_subject() -> None:
    assert analyze("What is the simplified acquisition threshold?").subject == "simplified acquisition threshold"
    assert analyze('What does "commercial product" mean?').subject == "commercial product"
    assert analyze("what's a micro-purchase under the FAR?").subject == "micro-purchase"


def test_focus_finds_places_vendors_versions_years_and_sections() -> None:
    focus = {(f.text, f.kind) for f in analyze("What is San Diego's sole-source threshold in 2031?").focus}
    assert focus == {("San Diego", "name"), ("2031", "year")}
    focus = {(f.text, f.kind) for f in analyze("How long are files kept under FAR 4.805?").focus}
    assert ("4.805", "section") in focus
    focus = {f.text for f in analyze("What changed in WCAG 3.0?").focus}
    assert "WCAG 3.0" in focus
    assert analyze("What is the micro-purchase threshold?").focus == []


@pytest.mark.parametrize(
    "text",
    [
        "the simplified acquisition threshold.",  # starts mid-sentence
        "2.4.3 Focus Order| WCAG 2.0",  # table debris
        "The contracting officer shall include the following:",  # a list lead-in
        "Agencies must consider",  # too short and dangling
        "Requirements for Contract Award and Administration",  # a heading
        "(1) For acquisitions of construction subject to 40 U.S.C. chapter 31, subchapter IV, $2,000;",
    ],
)
def test_fragments_are_not_answer_sentences(text: str) -> None:
    assert is_fragment(text)


def test_complete_sentences_and_named_rows_are_not_fragments() -> None:
    assert not is_fragment("Simplified acquisition threshold means $350,000, except for certain acquisitions.")
    assert not is_fragment(Unit("Tier: Formal; Total value: $100,000 to $249,999.99; Approves: City Manager.", "row"))
    assert is_fragment(Unit("$100,000; $249,999.99; IFB or RFP.", "row"))


def test_a_definition_that_opens_a_list_is_cut_back_to_its_statement() -> None:
    repaired = repair("Micro-purchase threshold means $15,000, except it means-")
    assert repaired == "Micro-purchase threshold means $15,000 (with exceptions listed in the source)."
    assert not is_fragment(repaired)
    assert repair("The contracting officer shall include the following:").endswith("following:")


def test_definitions_are_recognised_as_definitions() -> None:
    assert is_definition("simplified acquisition threshold", "Simplified acquisition threshold means $350,000.")
    assert is_definition("VPAT", "A Voluntary Product Accessibility Template (VPAT) documents conformance.")
    assert is_definition("micro-purchase", "A micro-purchase is any purchase with a total value under $10,000.")
    assert not is_definition("micro-purchase", "Use the P-card for any micro-purchase under $5,000.")


def _ranked(question: str, passages: list[Hit], similarity: float = 0.6) -> list[Scored]:
    units = [(n, 0, Unit(h.text)) for n, h in enumerate(passages, start=1)]
    return score_units(analyze(question), units, [similarity] * len(units), passages, AuthorityPolicy(), Tuning())


def test_the_current_regulation_leads_and_the_old_blog_is_named() -> None:
    passages = [
        hit(
            "blog/2015.md",
            "The micro-purchase threshold is $3,500 for most purchases.",
            authority="blog",
            date="2015-06-01",
        ),
        hit("far/2.101.md", "Micro-purchase threshold means $15,000, except in listed cases.", authority="regulation"),
    ]
    frame = analyze("What is the micro-purchase threshold?")
    composition = compose(frame, _ranked(frame.question, passages), passages, Tuning())
    assert composition.lead is not None and "$15,000" in composition.lead.text
    assert all("$3,500" not in s.text for s in composition.support)
    [conflict] = composition.conflicts
    note = conflict_note(conflict, passages[0], passages[1], AuthorityPolicy())
    assert note.startswith("A blog post from 2015, blog/2015.md, gives $3,500")
    assert "less authoritative" in note


def test_a_city_that_ranks_its_handbook_first_gets_its_own_figure_first() -> None:
    passages = [
        hit("far/2.101.md", "Micro-purchase threshold means $15,000, except in listed cases.", authority="regulation"),
        hit("city/02.md", "The micro-purchase threshold for the City is $10,000 per purchase.", authority="city"),
    ]
    city_first = AuthorityPolicy(order=("city", "regulation", "guidance", "case-study", "blog"))
    frame = analyze("What is the micro-purchase threshold?")
    units = [(n, 0, Unit(h.text)) for n, h in enumerate(passages, start=1)]
    ranked = score_units(frame, units, [0.6, 0.6], passages, city_first, Tuning())
    lead = compose(frame, ranked, passages, Tuning()).lead
    assert lead is not None and "$10,000" in lead.text


def test_a_typed_question_without_a_typed_sentence_gets_no_lead() -> None:
    passages = [hit("far/4.md", "The contracting officer keeps the contract file in order and complete.")]
    frame = analyze("How long are contract files kept?")
    assert compose(frame, _ranked(frame.question, passages), passages, Tuning()).lead is None


def test_a_short_sentence_far_in_meaning_leads_only_when_it_names_the_subject() -> None:
    frame = analyze("Who can approve changing the chat retention setting?")
    worded = [hit("ts-06", "Only the City Clerk can approve a change to a retention setting.")]
    loose = [hit("ts-06", "Only the City Clerk can approve a new hire.")]
    for passages, leads in ((worded, True), (loose, False)):
        units = [(1, 0, u) for u in split_units(passages[0].text)]
        ranked = score_units(frame, units, [0.3], passages, AuthorityPolicy(), Tuning())
        assert (compose(frame, ranked, passages, Tuning()).lead is not None) is leads


def test_supporting_sentences_add_something_and_repeat_nothing() -> None:
    passages = [
        hit("a.md", "A micro-purchase is any purchase with a total value under $10,000."),
        hit("b.md", "A micro-purchase is any purchase with a total value under $10,000 in the city."),
        hit("c.md", "For micro-purchases one quote is enough, if the price is reasonable and documented."),
    ]
    frame = analyze("What is a micro-purchase?")
    composition = compose(frame, _ranked(frame.question, passages), passages, Tuning())
    texts = [s.text for s in [composition.lead, *composition.support] if s]
    assert len(texts) == 2 and texts[1].startswith("For micro-purchases")


def test_focus_is_covered_only_when_a_passage_names_it() -> None:
    passages = [hit("port.md", "Port Alder requires three written quotes.", title="Port Alder Handbook")]
    assert focus_covered(Focus("Port Alder", "name"), passages)
    assert not focus_covered(Focus("San Diego", "name"), passages)
    assert not focus_covered(Focus("WCAG 3.0", "version"), [hit("w.md", "Conform to WCAG 2.1 Level AA.")])


def test_tiers_come_from_front_matter_then_path_then_kind() -> None:
    policy = AuthorityPolicy()
    assert policy.tier("procurement/far-text-markdown/part-2/2.101.md", "", "procurement", {}) == "regulation"
    assert policy.tier("lessons/18f-blog/2015-x.md", "", "lesson", {}) == "blog"
    assert policy.tier("procurement/02.md", "", "procurement", {"authority": "city"}) == "city"
    assert policy.tier("standards/gtfs/spec.md", "", "standard", {}) == "guidance"
    assert policy.rank("regulation") < policy.rank("city") < policy.rank("blog")
    assert tier_name("Case study") == "case-study" and tier_name("nonsense") is None


def test_tier_order_is_a_setting_and_unknown_tiers_are_refused() -> None:
    policy = Settings(authority_order="city,regulation,guidance,case-study,blog").authority_policy()  # type: ignore[arg-type]
    assert policy.rank("city") == 0
    with pytest.raises(ValueError, match="unknown authority tiers"):
        Settings(authority_order="regulation,rumour")  # type: ignore[arg-type]


def test_undated_regulations_count_as_current_and_old_posts_as_old() -> None:
    assert recency(hit("far.md", "x", authority="regulation")) == 1.0
    assert recency(hit("b.md", "x", authority="blog", date="2010-01-01")) == 0.0


def test_list_items_are_read_with_the_sentence_that_introduces_them() -> None:
    text = (
        "Imprest funds may be used for a purchase when-\n"
        "(a) The imprest fund transaction does not exceed $500 or such other limits as the agency head approves;\n"
        "(b) The supplies are available for immediate delivery; and"
    )
    units = split_units(text)
    assert (
        Unit(
            "Imprest funds may be used for a purchase when the imprest fund transaction does not exceed $500 or "
            "such other limits as the agency head approves.",
            "item",
        )
        in units
    )
    assert all(not is_fragment(u) for u in units if u.kind == "item")


def test_a_line_that_carries_on_mid_sentence_is_joined_back() -> None:
    """The FAR extraction's stray space before an apostrophe is mended at ingest, and the paragraph that
    carries on mid-sentence is joined back there too, so the answer reads one sentence."""
    paragraphs = [
        "Offerors see competing offerors ' prices, without disclosure of their",
        "identity, and may bid lower.",
    ]
    [joined] = [tidy(p) for p in join_broken_paragraphs(paragraphs)]
    units = split_units(joined)
    assert units == [
        Unit("Offerors see competing offerors' prices, without disclosure of their identity, and may bid lower.")
    ]
