"""Typed results of the skills; every front door renders these its own way."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from knowledge.models import Citation, Hit

Mode = Literal["grounded", "llm"]


class SkillResult(BaseModel):
    """Fields every skill result carries."""

    mode: Mode = "grounded"
    notice: str = Field(default="", description="Anything the reader should know, e.g. an LLM fallback.")


class AnswerSentence(BaseModel):
    """A sentence quoted from a passage, with the number of the citation it comes from."""

    text: str
    citation: int
    score: float


class Passage(BaseModel):
    """A retrieved passage that supports the answer, numbered like its citation."""

    number: int
    hit: Hit


class AskResult(SkillResult):
    question: str
    answered: bool = Field(description="False when the knowledge base holds no answer.")
    answer: str = Field(description="The answering sentences with [n] citation markers, or why there is none.")
    sentences: list[AnswerSentence] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    confidence: float = Field(default=0.0, description="Cosine similarity of the best passage to the question.")
    notes: list[str] = Field(
        default_factory=list,
        description="What follows the answer: sources that disagree, and what the knowledge base does not cover.",
    )
    not_covered: list[str] = Field(
        default_factory=list, description="Parts of the question the knowledge base does not cover."
    )


class LessonCard(BaseModel):
    doc_id: str
    title: str
    year: str = ""
    project: str = ""
    department: str = ""
    takeaway: str
    tags: list[str] = Field(default_factory=list)
    source: str = Field(description="Citation URL, or the source path when there is none.")
    score: float


class LessonsResult(BaseModel):
    query: str
    found: bool
    message: str = ""
    lessons: list[LessonCard] = Field(default_factory=list)


class TermExplanation(BaseModel):
    term: str
    definition: str
    other_side: str = Field(default="", description="How the other side would say it.")
    found_as: str = ""
    source: Literal["glossary", "text", "knowledge base"] = "glossary"
    citation: Citation | None = None


class UndefinedTerm(BaseModel):
    """A term neither the glossary nor the knowledge base explains: a question to ask its author."""

    term: str
    question: str


class Obligation(BaseModel):
    party: str
    modal: str
    duty: str


class SummaryResult(SkillResult):
    summary: str
    key_facts: list[str]
    obligations: list[Obligation] = Field(default_factory=list)
    terms: list[TermExplanation] = Field(default_factory=list)
    grade_before: float
    grade_after: float
    sentences_in: int = 0
    sentences_out: int = 0
    sections: int = 1


class ConsiderationResult(BaseModel):
    id: str
    name: str
    why: str
    questions: list[str]
    citations: list[Citation] = Field(default_factory=list)
    triggered_by: list[str] = Field(default_factory=list)
    quotes: list[str] = Field(default_factory=list, description="The sentences of the input that raised it.")


class Claim(BaseModel):
    """A commitment in a proposal, restated for the city, with the sentence it comes from."""

    kind: str
    plain: str
    quote: str


class VagueClause(BaseModel):
    """A phrase too vague to test, and the question that would make it testable."""

    phrase: str
    sentence: str
    question: str


class TranslateGovResult(SkillResult):
    summary: str
    terms: list[TermExplanation]
    considerations: list[ConsiderationResult]
    questions: list[str]
    lessons: list[LessonCard] = Field(default_factory=list)
    grade: float
    claims: list[Claim] = Field(default_factory=list)
    undefined: list[UndefinedTerm] = Field(default_factory=list)
    terms_found: int = 0
    summary_grade: float = 0.0


class TechRequirement(BaseModel):
    number: int
    text: str
    acceptance: str
    source: str = Field(description="'text' when taken from an obligation in the input, else the consideration id.")
    citations: list[Citation] = Field(default_factory=list)
    standards: list[str] = Field(default_factory=list, description="The standards it maps to, with versions.")
    threshold: str = Field(default="", description="The measurable threshold the clause implies, if any.")
    clause: str = Field(default="", description="The sentence of the clause it comes from.")


class TranslateTechResult(SkillResult):
    requirements: list[TechRequirement]
    terms: list[TermExplanation]
    considerations: list[ConsiderationResult] = Field(default_factory=list)
    grade: float
    vague: list[VagueClause] = Field(default_factory=list)
    undefined: list[UndefinedTerm] = Field(default_factory=list)
    terms_found: int = 0


ReviewStatus = Literal["covered", "partial", "missing"]


class ReviewItem(BaseModel):
    id: str
    name: str
    status: ReviewStatus
    evidence: list[str]
    questions: list[str] = Field(default_factory=list)


class ReviewResult(SkillResult):
    items: list[ReviewItem]
    covered: int
    partial: int
    missing: int


def terms_line(found: int, explained: int, undefined: int) -> str:
    """ "Found 24 technical terms: 21 explained, 3 to ask about." """
    return f"Found {found} technical terms: {explained} explained, {undefined} to ask about."


class SearchResult(SkillResult):
    """The documents that match a query, best first (one hit per document)."""

    query: str
    hits: list[Hit] = Field(default_factory=list)


class StatsResult(SkillResult):
    """What the knowledge base holds, counted over what the asker may see."""

    documents: int
    chunks: int
    by_kind: dict[str, int] = Field(default_factory=dict)
