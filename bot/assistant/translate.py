"""Translation between vendor and city language, and the partnership review (grounded mode)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from bot.assistant.ask import Assistant
from bot.assistant.facts import find_facts, find_obligation
from bot.assistant.plain import grade, simplify
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
from bot.assistant.summarize import Summarizer, explain_terms
from bot.errors import InputError
from knowledge.glossary import ChecklistItem, Consideration, Glossary, TermMatch
from knowledge.models import Citation, Hit
from knowledge.search import Searcher

MAX_TEXT_CHARS = 200_000
MAX_CONSIDERATIONS = 10


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
        summary = self._summarizer.summarize_text(text, max_sentences=4).summary
        matches = self._glossary.find(text)
        considerations = self._considerations(text, matches)
        questions = _dedupe(q for c in considerations for q in c.questions[:2])[:12]
        topic = " ".join(c.name for c in considerations[:3]) or summary[:300]
        lessons = self._assistant.lessons(topic, k=3).lessons if topic else []
        terms = explain_terms(self._glossary, text)
        plain_parts = [summary, *(t.definition for t in terms), *(c.why for c in considerations), *questions]
        return TranslateGovResult(
            summary=summary,
            terms=terms,
            considerations=considerations,
            questions=questions,
            lessons=lessons,
            grade=grade(" ".join(plain_parts)),
        )

    # -- city → vendor ---------------------------------------------------------------------------

    def to_tech(self, text: str) -> TranslateTechResult:
        text = check_document(text, what="requirement text")
        matches = self._glossary.find(text)
        considerations = self._considerations(text, matches)
        cited = {c.id: c.citations for c in considerations}
        requirements: list[TechRequirement] = []
        for sentence in split_sentences(text):
            obligation = find_obligation(sentence)
            if obligation is None:
                continue
            ids = list(self._glossary.triggered(sentence, self._glossary.find(sentence)))
            requirements.append(
                TechRequirement(
                    number=len(requirements) + 1,
                    text=_as_requirement(simplify(sentence)),
                    acceptance=acceptance_for(sentence),
                    source="text",
                    citations=_first_citations(cited, ids),
                )
            )
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
        terms = explain_terms(self._glossary, text)
        plain_parts = [*(t.definition for t in terms), *(c.why for c in considerations)]
        return TranslateTechResult(
            requirements=requirements,
            terms=terms,
            considerations=considerations,
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

    def _considerations(self, text: str, matches: list[TermMatch]) -> list[ConsiderationResult]:
        weights = self._glossary.triggered(text, matches)
        chosen = [cid for cid, weight in weights.items() if weight >= 2][:MAX_CONSIDERATIONS]
        if len(chosen) < 3:
            chosen += [cid for cid in weights if cid not in chosen][: 3 - len(chosen)]
        results = []
        for cid in chosen:
            consideration = self._glossary.by_id[cid]
            results.append(
                ConsiderationResult(
                    id=cid,
                    name=consideration.name,
                    why=consideration.why,
                    questions=consideration.questions,
                    citations=self._rules_for(consideration),
                    triggered_by=_triggers(consideration, matches, text),
                )
            )
        return results

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


def acceptance_for(sentence: str) -> str:
    """A testable acceptance criterion for an obligation, from the facts it states."""
    facts = {fact.kind: fact.value for fact in find_facts(sentence)}
    checks = []
    if "duration" in facts:
        checks.append(f"the timestamps in the vendor's report or ticket log show it happens within {facts['duration']}")
    if "percent" in facts:
        checks.append(f"the monthly report, checked against the city's own monitoring, shows {facts['percent']} met")
    if "date" in facts:
        checks.append(f"it is delivered and accepted in writing on or before {facts['date']}")
    if "money" in facts:
        checks.append(f"invoices stay within {facts['money']} unless a signed change order says otherwise")
    if checks:
        return "Accepted when " + "; and ".join(checks) + "."
    if re.search(r"\b(?:deliver(?:s|ed)?|provide[sd]?|submit(?:s|ted)?|furnish(?:es|ed)?)\b", sentence, re.IGNORECASE):
        return "Accepted when the deliverable is submitted and the city's contract manager accepts it in writing."
    return (
        "Accepted when it is shown to the city's product owner (in a sprint review or acceptance test) "
        "and recorded as met."
    )


_PARTY_MUST = re.compile(r"^(?:the\s+)?(?:contractor|vendor|offeror|proposer|supplier)\s+must\b", re.IGNORECASE)


def _as_requirement(sentence: str) -> str:
    return _PARTY_MUST.sub("The vendor must", sentence)


def _first_citations(cited: dict[str, list[Citation]], ids: Iterable[str]) -> list[Citation]:
    for cid in ids:
        if cited.get(cid):
            return cited[cid]
    return []


def _triggers(consideration: Consideration, matches: list[TermMatch], text: str) -> list[str]:
    lowered = text.lower()
    words = [m.surface for m in matches if consideration.id in m.entry.considerations]
    words += [k for k in consideration.keywords if re.search(rf"(?<!\w){re.escape(k.lower())}(?!\w)", lowered)]
    return _dedupe(words)[:8]


def _has_any(sentence: str, phrases: list[str]) -> bool:
    lowered = sentence.lower()
    return any(re.search(rf"(?<!\w){re.escape(p.lower())}(?!\w)", lowered) for p in phrases)


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
