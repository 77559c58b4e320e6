"""Sentence splitting and selection for extractive answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from knowledge.embeddings import Vectors
from knowledge.lexical import query_terms

MIN_SENTENCE = 20
MAX_SENTENCE = 600


@cache
def _segmenter() -> Any:
    import pysbd  # noqa: PLC0415

    return pysbd.Segmenter(language="en", clean=False)


def segment(text: str) -> list[str]:
    """Every sentence of a text, as the sentence splitter sees it (no filtering)."""
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; list items and table rows count as sentences of their own."""
    sentences: list[str] = []
    for raw_line in re.split(r"\n+", text):
        line = raw_line.strip().lstrip("-*• ").strip()
        if not line:
            continue
        # A table row "City Council | Approves contracts ..." keeps its row label on every sentence.
        label, _, body = line.partition(" | ") if " | " in line else ("", "", line)
        for segment in _segmenter().segment(body.replace(" | ", "; ")):
            sentence = f"{label}: {segment.strip()}" if label else segment.strip()
            if MIN_SENTENCE <= len(sentence) <= MAX_SENTENCE:
                sentences.append(sentence)
    return sentences


def term_overlap(question: str, sentence: str) -> float:
    """Share of the question's content words found in the sentence (prefix match handles plurals)."""
    terms = query_terms(question)
    if not terms:
        return 0.0
    words = set(re.findall(r"\w+", sentence.lower()))
    hits = sum(1 for term in terms if any(word.startswith(term[:5]) for word in words))
    return hits / len(terms)


@dataclass(frozen=True)
class Candidate:
    passage: int
    position: int
    text: str
    score: float


def rank_sentences(
    question: str,
    question_vector: Vectors,
    candidates: list[tuple[int, int, str]],
    vectors: Vectors,
    *,
    lexical_weight: float = 0.25,
) -> list[Candidate]:
    """Score ``(passage, position, text)`` candidates by meaning and shared words, best first."""
    if not candidates:
        return []
    semantic = np.asarray(vectors @ question_vector, dtype=np.float64)
    scored = [
        Candidate(passage, position, text, float(semantic[i]) + lexical_weight * term_overlap(question, text))
        for i, (passage, position, text) in enumerate(candidates)
    ]
    return sorted(scored, key=lambda c: c.score, reverse=True)


def select(ranked: list[Candidate], *, limit: int = 4, per_passage: int = 2, margin: float = 0.15) -> list[Candidate]:
    """The best sentence, then others nearly as good, at most ``per_passage`` from one passage."""
    if not ranked:
        return []
    best = ranked[0].score
    chosen: list[Candidate] = []
    used: dict[int, int] = {}
    for candidate in ranked:
        if len(chosen) >= limit or candidate.score < best - margin:
            break
        if used.get(candidate.passage, 0) >= per_passage:
            continue
        used[candidate.passage] = used.get(candidate.passage, 0) + 1
        chosen.append(candidate)
    return chosen
