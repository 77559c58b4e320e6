"""Translation between vendor and city language, and the partnership review (grounded mode)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from bot.assistant.ask import Assistant
from bot.assistant.claims import city_summary, claims, third_person
from bot.assistant.jargon import Explained, defining_sentence, detect, explain
from bot.assistant.plain import grade
from bot.assistant.requirements import requirements_from, vague_phrases
from bot.assistant.results import (
    ConsiderationResult,
    ReviewItem,
    ReviewResult,
    ReviewStatus,
    TechRequirement,
    TranslateGovResult,
    TranslateTechResult,
)
from bot.assistant.sentences import split_sentences
from bot.assistant.summarize import Summarizer
from bot.errors import InputError
from knowledge.glossary import ChecklistItem, Consideration, Evidence, Glossary
from knowledge.models import Citation, Hit
from knowledge.search import Searcher

MAX_TEXT_CHARS = 200_000
MAX_CONSIDERATIONS = 15


def check_document(text: str, *, what: str = "text") -> str:
    text = (text or "").strip()
    if not text:
        raise InputError(f"The {what} is empty: paste the proposal or clause, or give a file.")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"The {what} is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}. Split it into parts."
        )
    return text


class Translator:
    """`translate --to gov`, `translate --to tech` and `review`, built only from data and retrieval."""

    def __init__(
        self,
        glossary: Glossary,
        searcher: Searcher,
        summarizer: Summarizer,
        assistant: Assistant,
        *,
        answer_threshold: float,
    ) -> None:
        self._glossary = glossary
        self._searcher = searcher
        self._summarizer = summarizer
        self._assistant = assistant
        self._threshold = answer_threshold

    # -- vendor → city ---------------------------------------------------------------------------

    def to_gov(self, text: str) -> TranslateGovResult:
        text = check_document(text, what="proposal")
        found = claims(text)
        lines = city_summary(text, found)
        if not lines:  # nothing with a figure in it: the gist, in the third person
            gist = self._summarizer.summarize_text(text, max_sentences=4).summary
            lines = [third_person(s) for s in split_sentences(gist)]
        summary = " ".join(lines)
        considerations = self._considerations(text)
        questions = _dedupe(q for c in considerations for q in c.questions[:2])[:12]
        topic = " ".join(c.name for c in considerations[:3]) or summary[:300]
        lessons = self._assistant.lessons(topic, k=3).lessons if topic else []
        explained = self.explain(text)
        plain_parts = [summary, *(t.definition for t in explained.terms), *(c.why for c in considerations), *questions]
        return TranslateGovResult(
            summary=summary,
            terms=explained.terms,
            undefined=explained.undefined,
            terms_found=explained.found,
            claims=found,
            considerations=considerations,
            questions=questions,
            lessons=lessons,
            grade=grade(" ".join(plain_parts)),
            summary_grade=grade(summary),
        )

    def explain(self, text: str) -> Explained:
        """Every technical term in ``text`` explained, or listed with a question to ask about it."""
        return explain(detect(text, self._glossary), text, self._glossary, self._define)

    def _define(self, term: str) -> tuple[str, Hit] | None:
        """A sentence of the knowledge base that defines ``term`` ("X means …", "X is a …"), most
        authoritative source first; lexical lookups only, so it costs no embedding."""
        hits = self._searcher.defining(term, k=3) + self._searcher.containing(term, k=6)
        authority = self._searcher.authority
        for hit in sorted(hits, key=lambda h: authority.rank(h.authority)):
            sentence = defining_sentence(term, hit.text)
            if sentence:
                return sentence, hit
        return None

    # -- city → vendor ---------------------------------------------------------------------------

    def to_tech(self, text: str) -> TranslateTechResult:
        text = check_document(text, what="requirement text")
        considerations = self._considerations(text)
        cited = {c.id: c.citations for c in considerations}
        requirements: list[TechRequirement] = []
        for stated in requirements_from(text, self._glossary):
            ids = list(self._glossary.triggered(stated.clause, self._glossary.find(stated.clause)))
            requirements.append(stated.model_copy(update={"citations": _first_citations(cited, ids)}))
        for consideration in considerations:
            for implied in self._glossary.requirements_for.get(consideration.id, []):
                requirements.append(
                    TechRequirement(
                        number=len(requirements) + 1,
                        text=implied.text,
                        acceptance=implied.acceptance,
                        source=consideration.id,
                        citations=consideration.citations,
                    )
                )
        explained = self.explain(text)
        plain_parts = [*(t.definition for t in explained.terms), *(c.why for c in considerations)]
        return TranslateTechResult(
            requirements=requirements,
            terms=explained.terms,
            undefined=explained.undefined,
            terms_found=explained.found,
            considerations=considerations,
            vague=vague_phrases(text),
            grade=grade(" ".join(plain_parts)),
        )

    # -- partnership review ----------------------------------------------------------------------

    def review(self, text: str) -> ReviewResult:
        text = check_document(text, what="proposal")
        sentences = split_sentences(text)
        items = [self._review_item(item, sentences) for item in self._glossary.checklist]
        if sentences:
            items = self._with_semantic_evidence(items, sentences)
        counts = {status: sum(1 for i in items if i.status == status) for status in ("covered", "partial", "missing")}
        return ReviewResult(
            items=items, covered=counts["covered"], partial=counts["partial"], missing=counts["missing"]
        )

    def _review_item(self, item: ChecklistItem, sentences: list[str]) -> ReviewItem:
        strong = [s for s in sentences if _has_any(s, item.strong)]
        weak = [s for s in sentences if s not in strong and _has_any(s, item.weak)]
        status: ReviewStatus
        if len(strong) >= 2 or (strong and weak):
            status = "covered"
        elif strong or weak:
            status = "partial"
        else:
            status = "missing"
        return ReviewItem(
            id=item.id,
            name=item.name,
            status=status,
            evidence=(strong + weak)[:3],
            questions=[] if status == "covered" else item.questions,
        )

    def _with_semantic_evidence(self, items: list[ReviewItem], sentences: list[str]) -> list[ReviewItem]:
        """A sentence that says the same thing in other words is partial evidence too."""
        embedder = self._searcher.embedder
        vectors = embedder.embed_documents(sentences)
        checked = []
        for item, spec in zip(items, self._glossary.checklist, strict=True):
            updated = item
            if item.status == "missing":
                similarity = vectors @ embedder.embed_query(spec.looks_like)
                best = int(np.argmax(similarity))
                if float(similarity[best]) >= SEMANTIC_EVIDENCE:
                    updated = item.model_copy(update={"status": "partial", "evidence": [sentences[best]]})
            checked.append(updated)
        return checked

    # -- shared ----------------------------------------------------------------------------------

    def _considerations(self, text: str) -> list[ConsiderationResult]:
        """The considerations the text's own sentences raise, each with the sentences that raised it."""
        sentences = split_sentences(text)
        evidence = self._glossary.evidence(sentences)
        closeness = self._closeness(sentences, [self._glossary.by_id[cid] for cid in evidence])
        strength = {cid: sum(min(e.weight, 2) for e in items) for cid, items in evidence.items()}
        said = {cid: sum(1 for e in items if e.weight >= 2) for cid, items in evidence.items()}
        # What the text says (keywords, patterns) ranks before what its vocabulary suggests.
        ranked = sorted(strength, key=lambda c: (-min(said[c], 1), -strength[c]))
        chosen = [cid for cid in ranked if strength[cid] >= 2]
        results = []
        for cid in chosen[:MAX_CONSIDERATIONS]:
            consideration = self._glossary.by_id[cid]
            items = evidence[cid]
            results.append(
                ConsiderationResult(
                    id=cid,
                    name=consideration.name,
                    why=consideration.why,
                    questions=consideration.questions,
                    citations=self._rules_for(consideration),
                    triggered_by=_dedupe(e.trigger for e in items)[:8],
                    quotes=_quotes(items, closeness.get(cid, {})),
                )
            )
        return results

    def _closeness(
        self, sentences: Sequence[str], considerations: Sequence[Consideration]
    ) -> dict[str, dict[str, float]]:
        """How close in meaning each sentence is to what each consideration is about (its name, why and
        the questions it asks), so the quote shown is the sentence that best shows the problem."""
        if not sentences or not considerations:
            return {}
        embedder = self._searcher.embedder
        vectors = embedder.embed_documents(list(sentences))
        about = embedder.embed_documents([f"{c.name}. {c.why} {' '.join(c.questions[:3])}" for c in considerations])
        scores = about @ vectors.T
        return {
            c.id: {sentence: float(score) for sentence, score in zip(sentences, row, strict=True)}
            for c, row in zip(considerations, scores, strict=True)
        }

    def _rules_for(self, consideration: Consideration, limit: int = 3) -> list[Citation]:
        """The knowledge-base passages that govern a consideration (retrieved, never invented): rules and
        standards only, the most authoritative first (a regulation before a guide; never a blog post)."""
        found: dict[str, Hit] = {}
        for query in consideration.queries[:2]:
            for hit in self._searcher.search(query, k=4):
                if (
                    hit.kind in RULE_KINDS
                    and hit.authority in RULE_TIERS
                    and (hit.dense_score or 0.0) >= self._threshold
                ):
                    found.setdefault(hit.doc_id, hit)
        authority = self._searcher.authority
        ranked = sorted(found.values(), key=lambda h: (authority.rank(h.authority), -(h.dense_score or 0.0)))
        return [Citation.from_hit(number, hit) for number, hit in enumerate(ranked[:limit], start=1)]


SEMANTIC_EVIDENCE = 0.55
RULE_KINDS = ("procurement", "standard", "decision")  # lessons are shown separately, not as rules
RULE_TIERS = ("regulation", "guidance", "city")  # case studies and blog posts inform; they do not govern


def _first_citations(cited: dict[str, list[Citation]], ids: Iterable[str]) -> list[Citation]:
    for cid in ids:
        if cited.get(cid):
            return cited[cid]
    return []


def _quotes(items: Sequence[Evidence], closeness: dict[str, float]) -> list[str]:
    """The sentences that raised a consideration by what they say (keywords, patterns), closest in
    meaning to it first; else the few that raised it by the terms they use."""
    strong = [e.sentence for e in items if e.weight >= 2]
    chosen = strong or [e.sentence for e in items]
    weight = {e.sentence: e.weight for e in reversed(items)}
    ranked = sorted(_dedupe(chosen), key=lambda s: -(closeness.get(s, 0.0) + 0.05 * min(weight.get(s, 1), 5)))
    return ranked[:5] if strong else ranked[:2]


def _has_any(sentence: str, phrases: list[str]) -> bool:
    lowered = sentence.lower()
    return any(re.search(rf"(?<!\w){re.escape(p.lower())}(?!\w)", lowered) for p in phrases)


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
