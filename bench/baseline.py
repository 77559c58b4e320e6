"""The `ask` of stop 7, kept unchanged so `bench answers` can show old and new on the same index.

It answered when the best passage's cosine similarity cleared a threshold and then quoted the 3–5
sentences closest to the question from the top passages. Nothing here is used outside the bench.
"""

from __future__ import annotations

import re

import numpy as np

from bot.assistant.results import AnswerSentence, AskResult
from bot.assistant.sentences import segment, term_overlap
from knowledge.models import Citation
from knowledge.search import Searcher


def _old_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for raw_line in re.split(r"\n+", text):
        line = raw_line.strip().lstrip("-*• ").strip()
        if not line:
            continue
        label, _, body = line.partition(" | ") if " | " in line else ("", "", line)
        for piece in segment(body.replace(" | ", "; ")):
            sentence = f"{label}: {piece}" if label else piece
            if 20 <= len(sentence) <= 600:
                sentences.append(sentence)
    return sentences


class BaselineAssistant:
    """Stop 7's grounded `ask`: a similarity threshold, then the nearest sentences."""

    def __init__(self, searcher: Searcher, *, answer_threshold: float = 0.40, passages: int = 4) -> None:
        self._searcher = searcher
        self._threshold = answer_threshold
        self._passages = passages

    def ask(self, question: str) -> AskResult:
        hits = self._searcher.search(question, k=8)
        confidence = max((h.dense_score or 0.0 for h in hits[:3]), default=0.0)
        if confidence < self._threshold:
            return AskResult(question=question, answered=False, answer="", confidence=confidence)
        floor = max(self._threshold, confidence - 0.15)
        relevant = [h for h in hits if (h.dense_score or 0.0) >= floor][: self._passages]
        candidates = [(n, s) for n, hit in enumerate(relevant, start=1) for s in _old_sentences(hit.text)]
        if not candidates:
            return AskResult(question=question, answered=True, answer="", confidence=confidence)
        embedder = self._searcher.embedder
        vectors = embedder.embed_documents([s for _, s in candidates])
        semantic = np.asarray(vectors @ embedder.embed_query(question), dtype=np.float64)
        scored = sorted(
            ((float(semantic[i]) + 0.25 * term_overlap(question, s), n, s) for i, (n, s) in enumerate(candidates)),
            reverse=True,
        )
        chosen: list[AnswerSentence] = []
        used: dict[int, int] = {}
        for score, number, text in scored:
            if len(chosen) >= 4 or score < scored[0][0] - 0.15:
                break
            if used.get(number, 0) >= 2:
                continue
            used[number] = used.get(number, 0) + 1
            chosen.append(AnswerSentence(text=text, citation=number, score=round(score, 4)))
        return AskResult(
            question=question,
            answered=True,
            answer=" ".join(f"{s.text} [{s.citation}]" for s in chosen),
            sentences=chosen,
            citations=[Citation.from_hit(n, h) for n, h in enumerate(relevant, start=1)],
            confidence=confidence,
        )
