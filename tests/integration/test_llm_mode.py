"""LLM mode: the model fills the same results, citations are checked, failures fall back to grounded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import SecretStr

from bot.llm import LLMConfigError, LLMSkills, build_chat_model
from bot.services import Services
from bot.settings import Settings
from ingest.documents import Section
from tests.fakes.openai_server import FakeOpenAI, serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RESIDENT = "Resident Maria Lopez (maria.lopez@example.com, 555-201-4477, 1420 North Harbor Avenue) asked."


def skills(library: Services, model: object, **kwargs: object) -> LLMSkills:
    return LLMSkills(
        model,
        library.assistant,
        library.translator,
        library.summarizer,
        library.glossary,  # type: ignore[arg-type]
        **kwargs,
    )  # type: ignore[arg-type]


def test_answer_keeps_only_citations_to_retrieved_passages(library: Services) -> None:
    reply = json.dumps({"answer": "Micro-purchases are under $10,000 [1]. Council approves big buys [7]."})
    result = skills(library, FakeListChatModel(responses=[reply])).ask("What is the micro-purchase threshold?")
    assert result.mode == "llm" and result.answered
    assert result.answer == "Micro-purchases are under $10,000 [1]. Council approves big buys."
    assert [c.number for c in result.citations] == [1]


def test_answer_citing_nothing_retrieved_falls_back_to_grounded(library: Services) -> None:
    reply = json.dumps({"answer": "It is $5 [9]."})
    result = skills(library, FakeListChatModel(responses=[reply])).ask("What is the micro-purchase threshold?")
    assert result.mode == "grounded" and "grounded answer" in result.notice
    assert "$10,000" in result.answer


def test_the_model_is_not_asked_when_the_knowledge_base_does_not_cover_the_question(library: Services) -> None:
    """The same coverage gate as grounded mode: a question about a city the library lacks never reaches
    the model, so it cannot be answered from loosely related passages."""
    model = FakeListChatModel(responses=[json.dumps({"answer": "San Diego's threshold is $50,000 [1]."})])
    result = skills(library, model).ask("What is San Diego's sole-source threshold?")
    assert not result.answered and result.mode == "grounded"
    assert result.not_covered == ["San Diego"] and result.answer.startswith("Nothing here about San Diego")
    assert model.i == 0  # the fake's reply was never taken


def test_answer_passages_reach_the_model_with_authority_and_date(library: Services, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = json.dumps({"answer": "A micro-purchase is under $10,000 [1]."})
    result = _http_skills(library, fake_openai).ask("What is the micro-purchase threshold in Port Alder?")
    assert result.mode == "llm" and result.answered
    assert "(city handbook, 2026-07-01)" in json.dumps(fake_openai.requests[-1])


def test_unusable_model_output_falls_back_with_a_notice(library: Services) -> None:
    proposal = (FIXTURES / "proposals" / "01-smart-parking.md").read_text()
    result = skills(library, FakeListChatModel(responses=["I think it is fine!"])).to_gov(proposal)
    assert result.mode == "grounded"
    assert result.notice.startswith("The language model gave an answer CityBridge could not use")
    assert result.summary and result.considerations


def test_translate_gov_fills_the_same_result(library: Services) -> None:
    proposal = (FIXTURES / "proposals" / "02-311-crm.md").read_text()
    reply = (
        "```json\n"
        + json.dumps(
            {"summary": "A vendor will run the 311 system for the city [1].", "questions": ["Who owns the data?", "  "]}
        )
        + "\n```"
    )
    result = skills(library, FakeListChatModel(responses=[reply])).to_gov(proposal)
    assert result.mode == "llm" and result.notice == ""
    assert result.summary == "A vendor will run the 311 system for the city [1]."
    assert result.questions == ["Who owns the data?"]
    assert result.terms and result.considerations  # grounded parts stay


def test_review_accepts_only_evidence_quoted_from_the_proposal(library: Services) -> None:
    proposal = "We will meet monthly with a steering committee. Our platform is great."
    reply = json.dumps(
        {
            "items": [
                {
                    "id": "governance",
                    "status": "covered",
                    "evidence": ["We will meet monthly with a steering committee."],
                },
                {"id": "exit-plan", "status": "covered", "evidence": ["We hand back all data in CSV."]},
            ]
        }
    )
    result = skills(library, FakeListChatModel(responses=[reply])).review(proposal)
    items = {item.id: item for item in result.items}
    assert items["governance"].status == "covered"
    assert items["exit-plan"].status == "missing"  # invented evidence is ignored
    assert result.mode == "llm"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with serve(FakeOpenAI()) as fake:
        yield fake


def _http_skills(library: Services, fake: FakeOpenAI, *, timeout: float = 5.0, redact: bool = True) -> LLMSkills:
    settings = Settings(
        home=library.settings.home,
        llm="openai:fake-model",
        llm_base_url=fake.url,
        llm_api_key=SecretStr("sk-test-not-real"),
        llm_timeout=timeout,
        llm_redact=redact,
    )
    model = build_chat_model(settings)
    return skills(library, model, redact_personal_data=redact)


def test_openai_compatible_server_over_http_with_redaction(library: Services, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = json.dumps({"summary": "The city must keep records for 6 years."})
    result = _http_skills(library, fake_openai).summarize([Section((), RESIDENT + " Records are kept 6 years.")])
    assert result.mode == "llm" and result.summary == "The city must keep records for 6 years."
    sent = json.dumps(fake_openai.requests[-1])
    assert fake_openai.requests[-1]["model"] == "fake-model"
    assert fake_openai.headers[-1]["authorization"] == "Bearer sk-test-not-real"
    for personal in ("maria.lopez@example.com", "555-201-4477", "1420 North Harbor Avenue"):
        assert personal not in sent
    assert "[EMAIL]" in sent and "[PHONE]" in sent and "[ADDRESS]" in sent


def test_redaction_can_be_turned_off(library: Services, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = json.dumps({"summary": "ok"})
    _http_skills(library, fake_openai, redact=False).summarize([Section((), RESIDENT)])
    assert "maria.lopez@example.com" in json.dumps(fake_openai.requests[-1])


def test_slow_server_times_out_and_falls_back(library: Services, fake_openai: FakeOpenAI) -> None:
    fake_openai.delay = 3.0
    fake_openai.reply = json.dumps({"summary": "too late"})
    result = _http_skills(library, fake_openai, timeout=0.5).summarize([Section((), "The vendor shall pay $5,000.")])
    assert result.mode == "grounded"
    assert result.notice.startswith("The language model did not answer in time")
    assert "$5,000" in " ".join(result.key_facts)


def test_failing_server_falls_back(library: Services, fake_openai: FakeOpenAI) -> None:
    fake_openai.status = 500
    result = _http_skills(library, fake_openai).ask("What is the micro-purchase threshold?")
    assert result.mode == "grounded" and result.answered
    assert "returned an error" in result.notice and "sk-test" not in result.notice


def test_bad_llm_setting_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LLMConfigError, match="provider:model"):
        build_chat_model(Settings(home=tmp_path, llm="gpt-4o"))
    assert build_chat_model(Settings(home=tmp_path)) is None


def test_decision_draft_is_written_by_the_model_and_keeps_thread_facts(library: Services) -> None:
    from bot.decisions.draft import ThreadMessage

    thread = [
        ThreadMessage("U0CLERK01", "Which storage for body-camera video, vendor cloud or on-premises?", "1.1"),
        ThreadMessage("U0MANAGER", "We'll use the vendor's US-region cloud because it supports legal holds.", "1.2"),
    ]
    reply = json.dumps(
        {
            "title": "Store body-camera video in the vendor's US-region cloud",
            "decision": "Body-camera video will be stored in the vendor's US-region cloud.",
            "context": "It supports legal holds.",
            "options": ["Vendor cloud", "On-premises", " "],
        }
    )
    draft = skills(library, FakeListChatModel(responses=[reply])).draft_decision(thread, "1.2")
    assert draft.mode == "llm" and draft.title == "Store body-camera video in the vendor's US-region cloud"
    assert draft.options == ["Vendor cloud", "On-premises"]
    assert draft.participants == ["U0CLERK01", "U0MANAGER"] and draft.decided_by == "U0MANAGER"

    fallback = skills(library, FakeListChatModel(responses=["no idea"])).draft_decision(thread, "1.2")
    assert fallback.mode == "grounded" and "picks sentences from the thread" in fallback.notice
    assert fallback.title == "Use the vendor's US-region cloud"


def test_decision_draft_over_http_redacts_resident_data_in_the_thread(
    library: Services, fake_openai: FakeOpenAI
) -> None:
    from bot.decisions.draft import ThreadMessage

    fake_openai.reply = json.dumps(
        {"title": "Call the resident back about the pothole", "decision": "Staff will call back within 2 days."}
    )
    thread = [ThreadMessage("U0CLERK01", RESIDENT + " Her pothole is still open.", "1.1")]
    draft = _http_skills(library, fake_openai).draft_decision(thread, "1.1")
    assert draft.mode == "llm" and draft.decision == "Staff will call back within 2 days."
    sent = json.dumps(fake_openai.requests[-1])
    assert "maria.lopez@example.com" not in sent and "555-201-4477" not in sent and "1420 North Harbor" not in sent
    assert "pothole is still open" in sent
