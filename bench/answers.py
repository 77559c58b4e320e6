"""`bench answers`: our own questions over ../shared/corpus and the sample library, scored per type.

The set lives in bench/data/answers/*.jsonl. Every question carries a split: tune on ``dev``, report
``test``. Scoring is pure; running the assistants is the caller's job.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from bot.assistant.question import QUESTION_TYPES
from bot.assistant.results import AskResult
from bot.assistant.sentences import is_fragment

ANSWERS = Path(__file__).resolve().parent / "data" / "answers"
Split = Literal["dev", "test"]


class EvalQuestion(BaseModel):
    id: str
    question: str
    type: str
    answerable: bool
    facts: list[str] = Field(default_factory=list)
    doc_ids: list[str] = Field(default_factory=list)
    missing: str = ""
    note: str = ""
    split: Split


def load_questions(folder: Path = ANSWERS, split: str = "test") -> list[EvalQuestion]:
    """The questions of one split ("dev", "test" or "all")."""
    items = [
        EvalQuestion.model_validate_json(line)
        for path in sorted(folder.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [q for q in items if split in ("all", q.split)]


def normal(text: str) -> str:
    return " ".join(text.replace("\\$", "$").replace("’", "'").lower().split())


def has_fact(text: str, facts: Iterable[str]) -> bool:
    body = normal(text)
    return any(normal(fact) in body for fact in facts)


@dataclass
class Outcome:
    """How one system did on one question."""

    question: EvalQuestion
    answered: bool
    lead_ok: bool
    recall: float
    words: int
    fragments: int
    sentences: int
    cites_gold: bool


def score(question: EvalQuestion, result: AskResult) -> Outcome:
    lead = result.sentences[0].text if result.sentences else ""
    answer = result.answer if result.answered else ""
    facts = question.facts
    recall = sum(has_fact(answer, [f]) for f in facts) / len(facts) if facts else 0.0
    cited = {c.doc_id for c in result.citations}
    return Outcome(
        question=question,
        answered=result.answered,
        lead_ok=result.answered and has_fact(lead, facts),
        recall=recall,
        words=len(answer.split()),
        fragments=sum(1 for s in result.sentences if is_fragment(s.text)) if result.answered else 0,
        sentences=len(result.sentences) if result.answered else 0,
        cites_gold=bool(cited & set(question.doc_ids)),
    )


@dataclass
class Row:
    """One line of the report: a system on one question type (or all of them)."""

    system: str
    type: str
    answerable: int
    near_misses: int
    lead_accuracy: float | None
    fact_recall: float | None
    wrong_on_near_miss: float | None
    declined_answerable: float | None
    median_words: float | None
    fragments: int
    sentences: int
    misses: list[str] = field(default_factory=list)


def summarise(system: str, outcomes: Sequence[Outcome]) -> list[Row]:
    """Rows per question type, then one for all types."""
    rows = []
    for kind in (*QUESTION_TYPES, "all"):
        group = [o for o in outcomes if kind in ("all", o.question.type)]
        if group:
            rows.append(_row(system, kind, group))
    return rows


def _row(system: str, kind: str, group: Sequence[Outcome]) -> Row:
    good = [o for o in group if o.question.answerable]
    near = [o for o in group if not o.question.answerable]
    answered_words = [o.words for o in good if o.answered]

    def share(items: Sequence[Outcome], test: Callable[[Outcome], bool]) -> float | None:
        return sum(1 for o in items if test(o)) / len(items) if items else None

    return Row(
        system=system,
        type=kind,
        answerable=len(good),
        near_misses=len(near),
        lead_accuracy=share(good, lambda o: o.lead_ok),
        fact_recall=statistics.fmean(o.recall for o in good) if good else None,
        wrong_on_near_miss=share(near, lambda o: o.answered),
        declined_answerable=share(good, lambda o: not o.answered),
        median_words=statistics.median(answered_words) if answered_words else None,
        fragments=sum(o.fragments for o in group),
        sentences=sum(o.sentences for o in group),
        misses=[o.question.id for o in good if not o.lead_ok] + [o.question.id for o in near if o.answered],
    )


def run(
    ask: Callable[[str], AskResult], questions: Sequence[EvalQuestion], on_done: Callable[[], None]
) -> list[Outcome]:
    outcomes = []
    for question in questions:
        outcomes.append(score(question, ask(question.question)))
        on_done()
    return outcomes
