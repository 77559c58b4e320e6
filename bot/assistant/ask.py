"""The grounded skills: answers and lesson cards built only from retrieved text."""

from __future__ import annotations

import logging

from bot.assistant.results import AnswerSentence, AskResult, LessonCard, LessonsResult, Passage
from bot.assistant.sentences import rank_sentences, select, split_sentences
from bot.errors import check_question
from knowledge.models import Citation, Hit, Kind
from knowledge.search import Searcher

logger = logging.getLogger(__name__)

NO_ANSWER = (
    "I couldn't find an answer to that in the knowledge base. Try other words, or ask the Purchasing "
    "Division or IT standards team directly; if the answer should be here, add the document with "
    "`citybridge ingest`."
)
NO_LESSONS = "No lesson in the archive matches that. Try a broader topic (e.g. 'pilots', 'SLA', 'accessibility')."


class Assistant:
    """Slack-free skills over one searcher."""

    def __init__(self, searcher: Searcher, *, answer_threshold: float, passages: int = 4) -> None:
        self._searcher = searcher
        self._threshold = answer_threshold
        self._passages = passages

    def ask(self, question: str, *, kind: Kind | None = None) -> AskResult:
        question = check_question(question)
        hits = self._searcher.search(question, k=8, kind=kind)
        confidence = max((h.dense_score or 0.0 for h in hits[:3]), default=0.0)
        if confidence < self._threshold:
            logger.info("no answer: best similarity %.3f below %.3f", confidence, self._threshold)
            return AskResult(question=question, answered=False, answer=NO_ANSWER, confidence=confidence)
        floor = max(self._threshold, confidence - 0.15)
        relevant = [h for h in hits if (h.dense_score or 0.0) >= floor][: self._passages]
        chosen = self._answer_sentences(question, relevant)
        citations = [Citation.from_hit(number, hit) for number, hit in enumerate(relevant, start=1)]
        answer = " ".join(f"{s.text} [{s.citation}]" for s in chosen)
        return AskResult(
            question=question,
            answered=True,
            answer=answer,
            sentences=chosen,
            citations=citations,
            passages=[Passage(number=n, hit=h) for n, h in enumerate(relevant, start=1)],
            confidence=confidence,
        )

    def _answer_sentences(self, question: str, passages: list[Hit]) -> list[AnswerSentence]:
        candidates = [
            (number, position, sentence)
            for number, hit in enumerate(passages, start=1)
            for position, sentence in enumerate(split_sentences(hit.text))
        ]
        if not candidates:
            return []
        embedder = self._searcher.embedder
        vectors = embedder.embed_documents([text for _, _, text in candidates])
        ranked = rank_sentences(question, embedder.embed_query(question), candidates, vectors)
        return [AnswerSentence(text=c.text, citation=c.passage, score=round(c.score, 4)) for c in select(ranked)]

    def lessons(self, query: str, *, k: int = 5) -> LessonsResult:
        query = check_question(query, what="search")
        hits = self._searcher.search(query, k=k, kind="lesson")
        relevant = [h for h in hits if (h.dense_score or 0.0) >= self._threshold * 0.75]
        if not relevant:
            return LessonsResult(query=query, found=False, message=NO_LESSONS)
        return LessonsResult(query=query, found=True, lessons=[self._card(query, hit) for hit in relevant])

    def _card(self, query: str, hit: Hit) -> LessonCard:
        meta = hit.meta
        takeaway = str(meta.get("what_we_learned") or meta.get("lesson") or meta.get("takeaway") or "")
        if not takeaway:
            takeaway = self._best_sentence(query, hit) or hit.text[:300]
        year = str(meta.get("year") or hit.date[:4])
        tags = [t.strip() for t in str(meta.get("tags", "")).replace(",", ";").split(";") if t.strip()]
        return LessonCard(
            doc_id=hit.doc_id,
            title=hit.title,
            year=year,
            project=str(meta.get("project", "")),
            department=str(meta.get("department", "")),
            takeaway=takeaway,
            tags=tags,
            source=hit.link,
            score=round(hit.dense_score or 0.0, 4),
        )

    def _best_sentence(self, query: str, hit: Hit) -> str:
        chosen = self._answer_sentences(query, [hit])
        return chosen[0].text if chosen else ""
