"""Grounded plain-language summaries: chosen sentences, simplified, with every key fact kept."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.assistant.facts import fact_weight, find_facts, find_obligation
from bot.assistant.plain import compress, grade, simplify
from bot.assistant.results import Obligation, SummaryResult, TermExplanation
from bot.assistant.sentences import split_sentences
from ingest.documents import Section
from knowledge.embeddings import Embedder, Vectors
from knowledge.glossary import Glossary

MAX_KEY_FACTS = 30


@dataclass(frozen=True)
class Budget:
    """How many sentences a summary keeps: a share of the input, within bounds."""

    ratio: float = 0.2
    minimum: int = 3
    maximum: int = 14

    def sentences(self, available: int) -> int:
        return max(min(self.minimum, available), min(self.maximum, math.ceil(available * self.ratio)))


def mead_scores(vectors: Vectors) -> npt.NDArray[np.float32]:
    """MEAD's sentence score with its default unit weights (Radev et al., 2004).

    Centroid similarity C, plus a position score P that falls linearly from C_max for the first
    sentence, plus the overlap F with the first sentence (which states the gist of most sections).
    """
    count = len(vectors)
    centroid = vectors.mean(axis=0)
    centrality = vectors @ (centroid / (float(np.linalg.norm(centroid)) or 1.0))
    position = (count - np.arange(count)) / count * float(centrality.max())
    first = vectors @ vectors[0]
    return np.asarray(centrality + position + first, dtype=np.float32)


def pick(sentences: Sequence[str], vectors: Vectors, count: int) -> list[int]:
    """The ``count`` best sentences (MEAD score plus the facts they carry), in document order."""
    if not sentences:
        return []
    scores = mead_scores(vectors) + 0.15 * np.asarray([fact_weight(s) for s in sentences], dtype=np.float32)
    return sorted(int(i) for i in np.argsort(-scores, kind="stable")[:count])


class Summarizer:
    """Extractive, section-aware summaries over one embedder and glossary."""

    def __init__(self, embedder: Embedder, glossary: Glossary, budget: Budget | None = None) -> None:
        self._embedder = embedder
        self._glossary = glossary
        self._budget = budget or Budget()

    def summarize(self, sections: Sequence[Section], *, max_sentences: int | None = None) -> SummaryResult:
        grouped = [(section, split_sentences(section.text)) for section in sections]
        grouped = [(section, sents) for section, sents in grouped if sents]
        everything = [s for _, sents in grouped for s in sents]
        original = "\n\n".join(section.text for section in sections)
        if not everything:
            return SummaryResult(
                summary="",
                key_facts=[],
                grade_before=grade(original),
                grade_after=0.0,
                sentences_in=0,
                sentences_out=0,
                notice="No sentences to summarize.",
            )
        vectors = self._embedder.embed_documents(everything)
        total = max_sentences or self._budget.sentences(len(everything))
        parts: list[str] = []
        chosen_count = 0
        offset = 0
        for section, sents in grouped:
            share = max(1, round(total * len(sents) / len(everything))) if len(grouped) > 1 else total
            chosen = pick(sents, vectors[offset : offset + len(sents)], min(share, len(sents)))
            offset += len(sents)
            plain = [compress(sents[i]) for i in chosen]
            chosen_count += len(chosen)
            heading = section.headings[-1] if section.headings and len(grouped) > 1 else ""
            parts.append((f"{heading}: " if heading else "") + " ".join(plain))
        summary = "\n\n".join(part for part in parts if part.strip())
        return SummaryResult(
            summary=summary,
            key_facts=key_facts(everything),
            obligations=obligations(everything),
            terms=explain_terms(self._glossary, summary),
            grade_before=grade(original),
            grade_after=grade(summary),
            sentences_in=len(everything),
            sentences_out=chosen_count,
            sections=len(grouped),
        )

    def summarize_text(self, text: str, *, max_sentences: int | None = None) -> SummaryResult:
        return self.summarize([Section((), text)], max_sentences=max_sentences)


def key_facts(sentences: Sequence[str]) -> list[str]:
    """One line per distinct money amount, date, duration or percentage, with its sentence."""
    lines: list[str] = []
    seen: set[str] = set()
    for sentence in sentences:
        facts = [f for f in find_facts(sentence) if f.value.lower() not in seen]
        if not facts:
            continue
        seen.update(f.value.lower() for f in facts)
        values = ", ".join(f.value for f in facts)
        lines.append(f"{values}: {_short(simplify(sentence))}")
        if len(lines) >= MAX_KEY_FACTS:
            break
    return lines


def obligations(sentences: Sequence[str]) -> list[Obligation]:
    """Duties stated in the text and who bears them ("will" counts only with a named party)."""
    found = []
    for sentence in sentences:
        obligation = find_obligation(sentence)
        if obligation is None or (obligation.modal == "will" and obligation.party == "unspecified"):
            continue
        found.append(Obligation(party=obligation.party, duty=_short(simplify(sentence)), modal=obligation.modal))
    return found[:MAX_KEY_FACTS]


def explain_terms(glossary: Glossary, text: str) -> list[TermExplanation]:
    return [
        TermExplanation(
            term=m.entry.term,
            definition=m.entry.definition,
            other_side=m.entry.other_side,
            found_as=m.surface,
        )
        for m in glossary.find(text)
    ]


def _short(sentence: str, limit: int = 240) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
