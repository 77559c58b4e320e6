"""The grounded skills: answers and lesson cards built only from retrieved text."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.assistant.answer import (
    Composition,
    Scored,
    Tuning,
    compose,
    conflict_note,
    focus_covered,
    score_units,
    source_name,
)
from bot.assistant.question import Focus, QuestionFrame, analyze
from bot.assistant.results import AnswerSentence, AskResult, LessonCard, LessonsResult, Passage
from bot.assistant.sentences import Unit, is_fragment, repair, split_units
from bot.errors import check_question
from knowledge.embeddings import Vectors
from knowledge.models import Citation, Hit, Kind
from knowledge.search import Searcher

logger = logging.getLogger(__name__)

NO_ANSWER = (
    "I couldn't find an answer to that in the knowledge base. Try other words, or ask the Purchasing "
    "Division or IT standards team directly; if the answer should be here, add the document with "
    "`citybridge ingest`."
)
NOT_DIRECT = "I found nothing in the knowledge base that answers this directly."
NO_LESSONS = "No lesson in the archive matches that. Try a broader topic (e.g. 'pilots', 'SLA', 'accessibility')."


@dataclass(frozen=True)
class Evidence:
    """What one question retrieved: passages, their sentences, and each sentence's similarity."""

    frame: QuestionFrame
    passages: list[Hit]
    units: list[tuple[int, int, Unit]]
    similarities: list[float]
    weights: dict[str, float]  # the rarity (IDF) of each of the question's terms
    mentions: dict[str, frozenset[str]] = field(default_factory=dict)  # name -> documents naming it anywhere


class Assistant:
    """Slack-free skills over one searcher."""

    def __init__(
        self, searcher: Searcher, *, answer_threshold: float, passages: int = 12, tuning: Tuning | None = None
    ) -> None:
        self._searcher = searcher
        self._threshold = answer_threshold
        self._passages = passages
        self._tuning = tuning or Tuning()

    @property
    def searcher(self) -> Searcher:
        return self._searcher

    def ask(self, question: str, *, kind: Kind | None = None) -> AskResult:
        return self.answer(self.gather(question, kind=kind))

    def gather(self, question: str, *, kind: Kind | None = None) -> Evidence:
        """Everything an answer is built from: retrieval and sentence similarities (the costly part)."""
        question = check_question(question)
        frame = analyze(question)
        vector = self._searcher.embedder.embed_query(question)
        passages = self._retrieve(frame, vector, kind)
        units = [
            (number, position, unit)
            for number, hit in enumerate(passages, start=1)
            for position, unit in enumerate(split_units(hit.text))
        ]
        similarities: list[float] = []
        if units:
            # Each sentence is read under its document's title, as the chunk it came from was indexed.
            texts = [f"{passages[n - 1].title}: {unit.text}" for n, _, unit in units]
            vectors = self._searcher.embedder.embed_documents(texts)
            similarities = [float(s) for s in vectors @ vector]
        mentions = {f.text: self._searcher.documents_naming(f.text) for f in frame.focus if _named(f)}
        weights = self._searcher.term_weights(frame.subject_terms)
        return Evidence(frame, passages, units, similarities, weights, mentions)

    def answer(self, evidence: Evidence, tuning: Tuning | None = None) -> AskResult:
        """The answer the evidence supports, or a plain account of what is not covered."""
        tuning = tuning or self._tuning
        frame, passages = evidence.frame, evidence.passages
        confidence = max(evidence.similarities, default=0.0)
        # A short acronym the knowledge base does not use ("PO", "KEV") is informal more often than not; a
        # long one it never uses ("CCPA") names a law or product it lacks, as names, versions, years and
        # sections do. A long acronym it uses elsewhere may be spelled out where the answer is.
        documents = {h.doc_id for h in passages}
        missing = [
            f
            for f in frame.focus
            if (f.kind != "acronym" or (_named(f) and not evidence.mentions.get(f.text)))
            and not focus_covered(f, passages)
            and not evidence.mentions.get(f.text, set()) & documents
        ]
        if missing and not (frame.compound and len(missing) < len(frame.focus)):
            return self._declined(frame, passages, missing, confidence)
        weights = key_terms(evidence.weights, tuning.key_terms, tuning.weight_cap)
        ranked = score_units(
            frame,
            evidence.units,
            evidence.similarities,
            passages,
            self._searcher.authority,
            tuning,
            weights,
            evidence.mentions,
        )
        composition = compose(frame, ranked, passages, tuning)
        if composition.lead is None:
            return self._declined(frame, passages, _unnamed(frame, ranked, passages, tuning), confidence)
        return self._answer(frame, composition.lead, composition, passages, missing)

    # -- retrieval ----------------------------------------------------------------------------------

    def _retrieve(self, frame: QuestionFrame, vector: Vectors, kind: Kind | None) -> list[Hit]:
        """The best chunks (two per document at most), plus definitions of the subject and passages
        that name what the question is about, so a "means" sentence or a name is never missed."""
        hits = self._searcher.search(frame.question, k=self._passages, kind=kind, per_document=2, query_vector=vector)
        extra: list[Hit] = []
        term = frame.subject or (" ".join(frame.subject_terms) if len(frame.subject_terms) <= 2 else "")
        if term and kind is None:
            extra += self._searcher.containing(f"{term} means", k=3, query_vector=vector)
            extra += self._searcher.defining(term, k=3, query_vector=vector)
        for focus in frame.focus:
            if kind is None and focus.kind == "section" and not any(h.section_number == focus.text for h in hits):
                extra += self._searcher.numbered(focus.text, k=3, query_vector=vector)
            elif kind is None and not focus_covered(focus, hits):
                extra += self._searcher.containing(focus.text, k=3, query_vector=vector)
        merged = {h.chunk_id: h for h in hits}
        for hit in extra:
            merged.setdefault(hit.chunk_id, hit)
        return list(merged.values())

    # -- the reply ----------------------------------------------------------------------------------

    def _answer(
        self,
        frame: QuestionFrame,
        lead: Scored,
        composition: Composition,
        passages: Sequence[Hit],
        missing: Sequence[Focus],
    ) -> AskResult:
        numbers: dict[int, int] = {}  # passage index -> citation number, in order of use

        def cite(passage: int) -> int:
            return numbers.setdefault(passage, len(numbers) + 1)

        sentences = [
            AnswerSentence(text=s.text, citation=cite(s.passage), score=round(s.score, 4))
            for s in [lead, *composition.support]
        ]
        lead_hit = passages[lead.passage - 1]
        notes = [
            conflict_note(c, passages[c.passage - 1], lead_hit, self._searcher.authority) + f" [{cite(c.passage)}]"
            for c in composition.conflicts
        ]
        not_covered = [f.text for f in missing]
        if not_covered:
            notes.append(f"The knowledge base has nothing about {_join(not_covered)}.")
        used = sorted(numbers, key=numbers.__getitem__)
        return AskResult(
            question=frame.question,
            answered=True,
            answer=" ".join([*(f"{s.text} [{s.citation}]" for s in sentences), *notes]),
            notes=notes,
            sentences=sentences,
            citations=[Citation.from_hit(numbers[p], passages[p - 1]) for p in used],
            passages=[Passage(number=numbers[p], hit=passages[p - 1]) for p in used],
            confidence=lead.similarity,
            not_covered=not_covered,
        )

    def _declined(
        self, frame: QuestionFrame, passages: Sequence[Hit], missing: Sequence[Focus], confidence: float
    ) -> AskResult:
        """Say what is missing and what the knowledge base does hold on the topic."""
        gap = [f.text for f in missing] or [frame.subject or frame.asked or _topic(frame)]
        related = _related(passages)
        on_topic = max((h.dense_score or 0.0 for h in related), default=0.0) >= self._threshold
        if related and (missing or on_topic):
            names = _join([f"{source_name(h)} [{n}]" for n, h in enumerate(related, start=1)])
            opening = f"Nothing here about {_join(gap)}." if missing or frame.subject else NOT_DIRECT
            answer = f"{opening} The knowledge base has {names}."
            citations = [Citation.from_hit(n, h) for n, h in enumerate(related, start=1)]
        else:
            answer, citations = NO_ANSWER, []
        logger.info("declined %r: not covered %s", frame.question, gap)
        return AskResult(
            question=frame.question,
            answered=False,
            answer=answer,
            citations=citations,
            confidence=confidence,
            not_covered=gap,
        )

    # -- lessons ------------------------------------------------------------------------------------

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
            takeaway = self.best_sentence(query, hit) or hit.text[:300]
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

    def best_sentence(self, query: str, hit: Hit) -> str:
        """The complete sentence of a passage closest to ``query`` (never a fragment), or ""."""
        units = [Unit(repair(u.text), u.kind) for u in split_units(hit.text)]
        usable = [u.text for u in units if not is_fragment(u)]
        if not usable:
            return ""
        embedder = self._searcher.embedder
        similarities = embedder.embed_documents(usable) @ embedder.embed_query(query)
        return usable[int(similarities.argmax())]


def _named(focus: Focus) -> bool:
    """A name, or an acronym long enough to name one thing ("CCPA", not "PO")."""
    return focus.kind == "name" or (focus.kind == "acronym" and len(focus.text) >= 4)


def _unnamed(frame: QuestionFrame, ranked: Sequence[Scored], passages: Sequence[Hit], tuning: Tuning) -> list[Focus]:
    """What the best passages on the topic do not name (so no sentence of theirs could answer)."""
    best = ranked[0] if ranked else None
    if best is None:
        return []
    passage = [passages[best.passage - 1]]
    return [f for f in frame.focus if f.kind in tuning.focus_kinds and not focus_covered(f, passage)]


def key_terms(weights: dict[str, float], keep: int, cap: float) -> dict[str, float]:
    """The ``keep`` rarest terms the knowledge base holds keep their weight; the rest count for nothing.

    A long question carries many incidental words ("federal", "normal case"); whether an answer is on
    the subject shows in the few rare ones ("justification", "publicly").
    """
    ranked = sorted((w, t) for t, w in weights.items() if w > 0)[::-1][:keep]
    chosen = {t for _, t in ranked}
    return {t: (min(w, cap) if t in chosen else 0.0) for t, w in weights.items()}


def _related(passages: Sequence[Hit]) -> list[Hit]:
    """The two best distinct documents on the topic (what the knowledge base does hold)."""
    related: list[Hit] = []
    for hit in passages:
        if all(h.doc_id != hit.doc_id for h in related):
            related.append(hit)
        if len(related) == 2:
            break
    return related


def _topic(frame: QuestionFrame) -> str:
    return " ".join(frame.subject_terms[:6]) or "that"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
