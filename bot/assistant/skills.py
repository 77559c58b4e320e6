"""One interface over the skills, whichever mode runs them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.assistant.ask import Assistant
from bot.assistant.results import (
    AskResult,
    LessonsResult,
    ReviewResult,
    SummaryResult,
    TranslateGovResult,
    TranslateTechResult,
)
from bot.assistant.summarize import Summarizer
from bot.assistant.translate import Translator
from bot.decisions.draft import DecisionSuggestion, ThreadMessage, draft_from_thread
from ingest.documents import Section


class Skills(Protocol):
    def ask(self, question: str) -> AskResult: ...

    def lessons(self, query: str) -> LessonsResult: ...

    def to_gov(self, text: str) -> TranslateGovResult: ...

    def to_tech(self, text: str) -> TranslateTechResult: ...

    def summarize(self, sections: Sequence[Section]) -> SummaryResult: ...

    def review(self, text: str) -> ReviewResult: ...

    def draft_decision(self, messages: Sequence[ThreadMessage], focus_ts: str = "") -> DecisionSuggestion: ...


class GroundedSkills:
    """Grounded mode: retrieval, glossary, sentence selection and rules; no model."""

    def __init__(self, assistant: Assistant, translator: Translator, summarizer: Summarizer) -> None:
        self._assistant = assistant
        self._translator = translator
        self._summarizer = summarizer

    def ask(self, question: str) -> AskResult:
        return self._assistant.ask(question)

    def lessons(self, query: str) -> LessonsResult:
        return self._assistant.lessons(query)

    def to_gov(self, text: str) -> TranslateGovResult:
        return self._translator.to_gov(text)

    def to_tech(self, text: str) -> TranslateTechResult:
        return self._translator.to_tech(text)

    def summarize(self, sections: Sequence[Section]) -> SummaryResult:
        return self._summarizer.summarize(sections)

    def review(self, text: str) -> ReviewResult:
        return self._translator.review(text)

    def draft_decision(self, messages: Sequence[ThreadMessage], focus_ts: str = "") -> DecisionSuggestion:
        return draft_from_thread(messages, focus_ts=focus_ts)
