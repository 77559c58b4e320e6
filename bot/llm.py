"""LLM mode: the same skills, with a chat model writing the prose from grounded material.

Every skill first runs in grounded mode (retrieval, glossary, rules). The model then rewrites the
parts that benefit from fluent text, filling the same pydantic results. What it cites is checked
against what was retrieved; on any error, timeout or unusable output the grounded result is returned
with a notice saying so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import PydanticOutputParser
from pydantic import BaseModel, Field

from bot.assistant.ask import Assistant
from bot.assistant.plain import grade
from bot.assistant.results import (
    AnswerSentence,
    AskResult,
    LessonsResult,
    ReviewItem,
    ReviewResult,
    SkillResult,
    SummaryResult,
    TechRequirement,
    TermExplanation,
    TranslateGovResult,
    TranslateTechResult,
)
from bot.assistant.summarize import Summarizer
from bot.assistant.translate import Translator
from bot.decisions.draft import DecisionSuggestion, ThreadMessage, clean_slack_text, draft_from_thread, title_from
from bot.decisions.models import MAX_TEXT
from bot.errors import CityBridgeError
from bot.prompts import load_prompt
from bot.redact import redact
from bot.settings import Settings
from ingest.documents import Section
from knowledge.glossary import Glossary
from knowledge.models import Citation

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R", bound=SkillResult)
FALLBACK_DRAFT = "The language model {reason}, so this draft picks sentences from the thread instead."
FALLBACK = "The language model {reason}, so this is the grounded answer (built from the knowledge base only)."


class LLMConfigError(CityBridgeError):
    """CITYBRIDGE_LLM is set but cannot be used."""


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or ``None`` for grounded mode."""
    if not settings.llm:
        return None
    provider, sep, model = settings.llm.partition(":")
    if not sep or not provider or not model:
        raise LLMConfigError("CITYBRIDGE_LLM must look like provider:model, e.g. openai:gpt-4o-mini.")
    kwargs: dict[str, Any] = {}
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    if settings.llm_api_key is not None:
        kwargs["api_key"] = settings.llm_api_key.get_secret_value()
    if provider in ("openai", "anthropic"):
        kwargs.update(timeout=settings.llm_timeout, max_retries=0)
    from langchain.chat_models import init_chat_model  # noqa: PLC0415 - provider packages load lazily

    try:
        chat = init_chat_model(model, model_provider=provider, **kwargs)
    except (ImportError, ValueError) as exc:
        raise LLMConfigError(f"Cannot use the LLM {settings.llm!r}: {exc}") from exc
    if not isinstance(chat, BaseChatModel):
        raise LLMConfigError(f"{settings.llm!r} did not give a chat model.")
    return chat


# -- what the model is asked to return ---------------------------------------------------------------


class AnswerDraft(BaseModel):
    answer: str = Field(description="The answer; every sentence ends with the passage number it uses, like [1].")


class GovDraft(BaseModel):
    summary: str = Field(description="What is proposed, in at most 5 plain sentences.")
    questions: list[str] = Field(description="Questions the city should ask the vendor (at most 10).")


class RequirementDraft(BaseModel):
    text: str
    acceptance: str
    citations: list[int] = Field(default_factory=list, description="Passage numbers this requirement rests on.")


class TechDraft(BaseModel):
    requirements: list[RequirementDraft]


class SummaryDraft(BaseModel):
    summary: str


class ReviewDraftItem(BaseModel):
    id: str
    status: str
    evidence: list[str] = Field(default_factory=list, description="Exact sentences quoted from the proposal.")


class ReviewDraft(BaseModel):
    items: list[ReviewDraftItem]


class DecisionDraftReply(BaseModel):
    title: str = Field(description="At most 12 words: what was decided.")
    decision: str = Field(description="One to three sentences: what will be done.")
    context: str = Field(default="", description="Why: the problem and the reasons given.")
    options: list[str] = Field(default_factory=list, description="Alternatives mentioned, one line each.")


# -- the skills in LLM mode ----------------------------------------------------------------------------


class LLMSkills:
    """Grounded skills with a chat model writing the prose; falls back to grounded on any failure."""

    def __init__(
        self,
        model: BaseChatModel,
        assistant: Assistant,
        translator: Translator,
        summarizer: Summarizer,
        glossary: Glossary,
        *,
        redact_personal_data: bool = True,
    ) -> None:
        self._model = model
        self._assistant = assistant
        self._translator = translator
        self._summarizer = summarizer
        self._glossary = glossary
        self._redact = redact_personal_data

    # ask ------------------------------------------------------------------------------------------

    def ask(self, question: str) -> AskResult:
        grounded = self._assistant.ask(question)
        if not grounded.answered:
            return grounded
        passages = _numbered(
            f"{c.label()} — {p.hit.text}" for c, p in zip(grounded.citations, grounded.passages, strict=True)
        )
        try:
            draft = self._complete("ask", AnswerDraft, question=question, passages=passages)
        except Exception as exc:
            return self._fallback(grounded, exc)
        numbers = {c.number for c in grounded.citations}
        answer, used = keep_valid_citations(draft.answer, numbers)
        if not used:
            return self._fallback(grounded, ValueError("answer cited no retrieved passage"))
        citations = [c for c in grounded.citations if c.number in used]
        sentences = [AnswerSentence(text=answer, citation=min(used), score=grounded.confidence)]
        return grounded.model_copy(
            update={"answer": answer, "citations": citations, "sentences": sentences, "mode": "llm"}
        )

    def lessons(self, query: str) -> LessonsResult:
        return self._assistant.lessons(query)

    # translate --------------------------------------------------------------------------------------

    def to_gov(self, text: str) -> TranslateGovResult:
        grounded = self._translator.to_gov(text)
        citations = _all_citations(c.citations for c in grounded.considerations)

        def write() -> TranslateGovResult:
            draft = self._complete(
                "translate_gov",
                GovDraft,
                proposal=text,
                terms=_terms_text(grounded.terms),
                considerations="\n".join(f"- {c.name}: {c.why}" for c in grounded.considerations) or "(none)",
                passages=_numbered(f"{c.title}, {c.section}" for c in citations),
            )
            questions = [q.strip() for q in draft.questions if q.strip()][:10] or grounded.questions
            summary, _ = keep_valid_citations(draft.summary, set(range(1, len(citations) + 1)))
            plain = [summary, *(t.definition for t in grounded.terms), *questions]
            return grounded.model_copy(
                update={"summary": summary, "questions": questions, "mode": "llm", "grade": grade(" ".join(plain))}
            )

        return self._attempt(write, grounded)

    def to_tech(self, text: str) -> TranslateTechResult:
        grounded = self._translator.to_tech(text)
        citations = _all_citations(c.citations for c in grounded.considerations)

        def write() -> TranslateTechResult:
            draft = self._complete(
                "translate_tech",
                TechDraft,
                text=text,
                terms=_terms_text(grounded.terms),
                passages=_numbered(f"{c.title}, {c.section}" for c in citations),
            )
            if not draft.requirements:
                raise ValueError("no requirements returned")
            requirements = [
                TechRequirement(
                    number=n,
                    text=r.text,
                    acceptance=r.acceptance,
                    source="llm",
                    citations=[citations[i - 1] for i in r.citations if 1 <= i <= len(citations)],
                )
                for n, r in enumerate(draft.requirements, start=1)
            ]
            return grounded.model_copy(update={"requirements": requirements, "mode": "llm"})

        return self._attempt(write, grounded)

    # summarize ------------------------------------------------------------------------------------

    def summarize(self, sections: Sequence[Section]) -> SummaryResult:
        grounded = self._summarizer.summarize(sections)
        text = "\n\n".join(section.text for section in sections)

        def write() -> SummaryResult:
            draft = self._complete(
                "summarize",
                SummaryDraft,
                text=text,
                key_facts="\n".join(f"- {fact}" for fact in grounded.key_facts) or "(none)",
            )
            if not draft.summary.strip():
                raise ValueError("empty summary")
            return grounded.model_copy(
                update={"summary": draft.summary.strip(), "mode": "llm", "grade_after": grade(draft.summary)}
            )

        return self._attempt(write, grounded)

    # review ---------------------------------------------------------------------------------------

    def review(self, text: str) -> ReviewResult:
        grounded = self._translator.review(text)
        checklist = "\n".join(f"- {item.id}: {item.looks_like}" for item in self._glossary.checklist)

        def write() -> ReviewResult:
            draft = self._complete("review", ReviewDraft, proposal=text, checklist=checklist)
            judged = {item.id: item for item in draft.items}
            items = [_merge_review(item, judged.get(item.id), text) for item in grounded.items]
            counts = {s: sum(1 for i in items if i.status == s) for s in ("covered", "partial", "missing")}
            return grounded.model_copy(
                update={
                    "items": items,
                    "mode": "llm",
                    "covered": counts["covered"],
                    "partial": counts["partial"],
                    "missing": counts["missing"],
                }
            )

        return self._attempt(write, grounded)

    # decisions ------------------------------------------------------------------------------------

    def draft_decision(self, messages: Sequence[ThreadMessage], focus_ts: str = "") -> DecisionSuggestion:
        grounded = draft_from_thread(messages, focus_ts=focus_ts)
        thread = "\n".join(
            f"{'>> ' if focus_ts and m.ts == focus_ts else ''}{m.user}: {clean_slack_text(m.text)}" for m in messages
        )
        try:
            reply = self._complete("decision_draft", DecisionDraftReply, thread=thread)
            if not reply.title.strip() or not reply.decision.strip():
                raise ValueError("the draft had no title or decision")
        except Exception as exc:
            logger.warning("LLM failed (%s); using the grounded draft", type(exc).__name__)
            return grounded.model_copy(update={"notice": FALLBACK_DRAFT.format(reason=_describe(exc))})
        options = [o.strip()[:300] for o in reply.options if o.strip()][:5]
        return grounded.model_copy(
            update={
                "title": title_from(reply.title),
                "decision": reply.decision.strip()[:MAX_TEXT],
                "context": reply.context.strip()[:MAX_TEXT],
                "options": options,
                "mode": "llm",
            }
        )

    # plumbing -------------------------------------------------------------------------------------

    def _complete(self, prompt_name: str, schema: type[T], **values: str) -> T:
        parser = PydanticOutputParser(pydantic_object=schema)
        safe = {key: redact(value) if self._redact else value for key, value in values.items()}
        messages = load_prompt(prompt_name).render(**safe, format_instructions=parser.get_format_instructions())
        response = self._model.invoke(messages)
        content = response.content if isinstance(response.content, str) else str(response.content)
        return parser.parse(_json_block(content))

    def _attempt(self, write: Callable[[], R], grounded: R) -> R:
        try:
            return write()
        except Exception as exc:
            return self._fallback(grounded, exc)

    def _fallback(self, grounded: R, exc: Exception) -> R:
        logger.warning("LLM failed (%s); using grounded mode", type(exc).__name__)  # messages may hold secrets
        return grounded.model_copy(update={"notice": FALLBACK.format(reason=_describe(exc))})


def keep_valid_citations(text: str, allowed: set[int]) -> tuple[str, set[int]]:
    """Drop ``[n]`` markers that point at no retrieved passage; return the text and the numbers kept."""
    used: set[int] = set()

    def check(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(0))]
        valid = [n for n in numbers if n in allowed]
        used.update(valid)
        return "".join(f"[{n}]" for n in valid)

    cleaned = re.sub(r"\[\s*\d+(?:\s*,\s*\d+)*\s*\]", check, text)
    return re.sub(r"\s+([.,;])", r"\1", cleaned).strip(), used


def _merge_review(item: ReviewItem, judged: ReviewDraftItem | None, proposal: str) -> ReviewItem:
    """Take the model's verdict only with evidence quoted word for word from the proposal."""
    if judged is None or judged.status not in ("covered", "partial", "missing"):
        return item
    quotes = [q.strip() for q in judged.evidence if q.strip() and q.strip() in proposal]
    if judged.status != "missing" and not quotes:
        return item
    return item.model_copy(
        update={
            "status": judged.status,
            "evidence": quotes[:3],
            "questions": [] if judged.status == "covered" else item.questions,
        }
    )


def _terms_text(terms: Sequence[TermExplanation]) -> str:
    return "\n".join(f"- {t.term}: {t.definition}" for t in terms) or "(none)"


def _numbered(items: Any) -> str:
    return "\n".join(f"[{n}] {text}" for n, text in enumerate(items, start=1)) or "(none)"


def _all_citations(groups: Any) -> list[Citation]:
    seen: dict[str, Citation] = {}
    for group in groups:
        for citation in group:
            seen.setdefault(citation.doc_id, citation)
    return list(seen.values())


def _json_block(content: str) -> str:
    """Models often wrap JSON in a Markdown fence; take what is inside."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", content, re.DOTALL)
    return fenced.group(1) if fenced else content


def _describe(exc: Exception) -> str:
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return "did not answer in time"
    if "connection" in name:
        return "could not be reached"
    if "outputparser" in name or "validation" in name or "json" in name:
        return "gave an answer CityBridge could not use"
    return "returned an error"
