"""Block Kit builders: every result becomes a valid Slack message within Slack's limits."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.blocks import Block

from bot.assistant.results import (
    AnswerSentence,
    AskResult,
    ConsiderationResult,
    LessonCard,
    LessonsResult,
    ReviewItem,
    ReviewResult,
    SummaryResult,
    TechRequirement,
    TermExplanation,
    TranslateGovResult,
    TranslateTechResult,
)
from bot.slack import blocks
from knowledge.models import Citation

CITATION = Citation(
    number=1,
    doc_id="procurement/02.md",
    title="Handbook ch. 2",
    section="2.2",
    url="https://www.portalder.example/02",
    kind="procurement",
)


def assert_within_limits(message: blocks.SlackMessage, *, limit: int = blocks.MAX_BLOCKS) -> None:
    assert message.text and len(message.text) <= blocks.MAX_TEXT_CHARS
    assert 0 < len(message.blocks) <= limit
    for raw in message.blocks:
        Block.parse(raw).validate_json()  # type: ignore[union-attr]
        if raw["type"] == "section":
            assert len(raw["text"]["text"]) <= blocks.MAX_SECTION_CHARS  # type: ignore[index]
        if raw["type"] == "header":
            assert len(raw["text"]["text"]) <= blocks.MAX_HEADER_CHARS  # type: ignore[index]


def test_answer_has_numbered_sources_feedback_and_fallback_text() -> None:
    result = AskResult(
        question="q",
        answered=True,
        answer="Under $10,000 [1]",
        sentences=[AnswerSentence(text="Under $10,000 <b>", citation=1, score=0.9)],
        citations=[CITATION],
        confidence=0.7,
    )
    message = blocks.answer_message(result, request_id="req-1")
    assert_within_limits(message)
    dumped = json.dumps(message.blocks, ensure_ascii=False)
    assert "Under $10,000 &lt;b&gt; *[1]*" in dumped
    assert "<https://www.portalder.example/02|Handbook ch. 2, §2.2>" in dumped
    assert message.blocks[-1]["block_id"] == "feedback:req-1"
    assert message.text == "Under $10,000 [1]"


def test_no_answer_says_so_without_sources() -> None:
    message = blocks.answer_message(AskResult(question="q", answered=False, answer="Not in the knowledge base."))
    assert_within_limits(message)
    assert "Not in the knowledge base." in json.dumps(message.blocks, ensure_ascii=False) and "[1]" not in json.dumps(
        message.blocks, ensure_ascii=False
    )


def _largest_results() -> list[blocks.SlackMessage]:
    long = "word " * 2000
    terms = [TermExplanation(term=f"Term {i}", definition=long[:900]) for i in range(60)]
    considerations = [
        ConsiderationResult(id=f"c{i}", name=f"Consideration {i}", why=long, questions=[long], citations=[CITATION] * 5)
        for i in range(14)
    ]
    requirements = [TechRequirement(number=i, text=long, acceptance=long, source="text") for i in range(80)]
    return [
        blocks.gov_message(
            TranslateGovResult(
                summary=long * 5, terms=terms, considerations=considerations, questions=[long] * 30, grade=7.0
            ),
            request_id="r",
        ),
        blocks.tech_message(TranslateTechResult(requirements=requirements, terms=terms, grade=6.0), request_id="r"),
        blocks.summary_message(
            SummaryResult(summary="\n\n".join([long] * 40), key_facts=[long] * 40, grade_before=14, grade_after=8),
            request_id="r",
        ),
        blocks.review_message(
            ReviewResult(
                items=[
                    ReviewItem(id=f"i{i}", name=f"Item {i}", status="partial", evidence=[long] * 3, questions=[long])
                    for i in range(10)
                ],
                covered=0,
                partial=10,
                missing=0,
            )
        ),
        blocks.lessons_message(
            LessonsResult(
                query="q" * 400,
                found=True,
                lessons=[
                    LessonCard(doc_id=f"LL-{i}", title=long[:300], takeaway=long, source="https://x/LL", score=0.5)
                    for i in range(40)
                ],
            )
        ),
        blocks.answer_message(
            AskResult(
                question="q",
                answered=True,
                answer=long * 30,
                sentences=[AnswerSentence(text=long, citation=1, score=1.0)] * 80,
                citations=[CITATION] * 20,
                confidence=0.9,
            ),
            request_id="r",
        ),
    ]


@pytest.mark.parametrize("message", _largest_results(), ids=["gov", "tech", "summary", "review", "lessons", "ask"])
def test_the_largest_results_still_fit_slack_limits(message: blocks.SlackMessage) -> None:
    assert_within_limits(message)


def test_overflow_is_cut_with_a_note_and_feedback_stays_last() -> None:
    message = blocks.finish([blocks.section(f"line {i}") for i in range(120)], "text", request_id="r")
    assert len(message.blocks) == blocks.MAX_BLOCKS
    assert "more blocks were left out" in json.dumps(message.blocks[-2])
    assert message.blocks[-1]["type"] == "actions"


def test_help_lists_every_verb_of_the_registry() -> None:
    from bot import verbs

    message = blocks.help_message([verb.line("/citybridge") for verb in verbs.available("slack")])
    assert_within_limits(message)
    dumped = json.dumps(message.blocks, ensure_ascii=False)
    for verb in verbs.VERBS:
        assert f"/citybridge {verb.name}" in dumped


def test_errors_are_short_and_escaped() -> None:
    message = blocks.error_message("File <x> is too large", "Send a smaller file.")
    assert_within_limits(message)
    assert "File &lt;x&gt; is too large" in json.dumps(message.blocks, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "strict", "expected"),
    [
        ("<@U123> What is the threshold?", False, ("ask", "What is the threshold?")),
        ("<@U123>", False, ("help", "")),
        ("summarize: the contract text", False, ("plain", "the contract text")),
        ("GOV We offer SaaS", True, ("gov", "We offer SaaS")),
        ("frobnicate now", True, ("help", "")),
        ("", True, ("help", "")),
    ],
)
def test_requests_are_parsed_into_verbs(text: str, strict: bool, expected: tuple[str, str]) -> None:
    from bot.slack.app import parse_request

    assert parse_request(text, strict=strict) == expected


def test_the_manifest_declares_every_surface_the_app_listens_to() -> None:
    from pathlib import Path

    import yaml

    from bot.slack.app import SHORTCUTS
    from bot.slack.decision_blocks import LOG_DECISION

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot/slack/manifest.yaml").read_text())
    features = manifest["features"]
    assert [c["command"] for c in features["slash_commands"]] == ["/citybridge"]
    assert {s["callback_id"] for s in features["shortcuts"]} == {*SHORTCUTS, LOG_DECISION}
    assert any(s["name"] == "Log as decision" and s["type"] == "message" for s in features["shortcuts"])
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "app_home_opened",
        "message.im",
    }
    assert {"chat:write", "commands", "files:read", "reactions:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
