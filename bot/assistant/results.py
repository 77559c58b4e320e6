"""Typed results of the skills; every front door renders these its own way."""

from __future__ import annotations

from pydantic import BaseModel, Field

from knowledge.models import Citation, Hit


class AnswerSentence(BaseModel):
    """A sentence quoted from a passage, with the number of the citation it comes from."""

    text: str
    citation: int
    score: float


class Passage(BaseModel):
    """A retrieved passage that supports the answer, numbered like its citation."""

    number: int
    hit: Hit


class AskResult(BaseModel):
    question: str
    answered: bool = Field(description="False when the knowledge base holds no answer.")
    answer: str = Field(
        description="The answering sentences with [n] citation markers, or why there is none."
    )
    sentences: list[AnswerSentence] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    confidence: float = Field(
        default=0.0, description="Cosine similarity of the best passage to the question."
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
