"""Grounded plain-language summaries: chosen sentences, simplified, with every key fact kept."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.assistant.facts import fact_weight, find_facts, find_obligation
from bot.assistant.plain import PLAIN_GRADE, grade, plain_sentences, simplify
from bot.assistant.results import Obligation, SummaryResult, TermExplanation
from bot.assistant.sentences import split_sentences
from ingest.documents import Section
from knowledge.embeddings import Embedder, Vectors
from knowledge.glossary import Glossary

MAX_KEY_FACTS = 30
CHOICE_FOR_FULL_READABILITY = 10  # sentences left out before readability counts fully
READABILITY_WEIGHT = 0.15  # how much each grade above it counts against a sentence


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


def is_prose(sentence: str) -> bool:
    """False for title blocks and label chains ("Proposal: Submitted by: Acme Inc"), which summarize nothing."""
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", sentence)]
    if len(words) < 4 or sentence.count(": ") >= 2 or sentence.rstrip().endswith(":"):
        return False  # too short, a label chain, or a lead-in to a list
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) < 0.5


def choice(available: int, keep: int) -> float:
    """How much choice a summary has: 0 when it keeps nearly everything, 1 when it leaves out 10 or more."""
    return min(1.0, max(0, available - keep) / CHOICE_FOR_FULL_READABILITY)


def sentence_scores(sentences: Sequence[str], vectors: Vectors, freedom: float) -> npt.NDArray[np.float32]:
    """MEAD score plus the facts a sentence carries, minus how hard it is to read.

    Readability counts in proportion to the choice there is: keeping 1 of 3 sentences, position and
    centrality decide; keeping 5 of 40, the plainer of two equally central sentences wins.
    """
    weight = READABILITY_WEIGHT * freedom
    bonus = [
        0.15 * fact_weight(s) - weight * max(0.0, grade(s) - PLAIN_GRADE) - (0.0 if is_prose(s) else 1.0)
        for s in sentences
    ]
    return np.asarray(mead_scores(vectors) + np.asarray(bonus, dtype=np.float32), dtype=np.float32)


def pick(sentences: Sequence[str], vectors: Vectors, count: int) -> list[int]:
    """The ``count`` best sentences, in document order."""
    if not sentences:
        return []
    scores = sentence_scores(sentences, vectors, choice(len(sentences), count))
    return sorted(int(i) for i in np.argsort(-scores, kind="stable")[:count])


def meet_reading_target(
    groups: Sequence[Sequence[str]], allocation: list[list[int]], target: float, *, max_steps: int = 12
) -> list[list[int]]:
    """Swap the hardest chosen sentence for the plainest unused one of its section, then drop hard
    sentences, until the summary reads at ``target`` or better (never below two sentences)."""
    chosen = [list(indices) for indices in allocation]

    def plain(g: int, i: int) -> str:
        return " ".join(plain_sentences(groups[g][i]))

    def overall() -> float:
        return grade(" ".join(plain(g, i) for g, indices in enumerate(chosen) for i in indices))

    for _ in range(max_steps):
        if overall() <= target:
            break
        picked = [(grade(plain(g, i)), g, i) for g, indices in enumerate(chosen) for i in indices]
        hardest, g, i = max(picked)
        spare = [(grade(plain(g, j)), j) for j in range(len(groups[g])) if j not in chosen[g]]
        easier = min(spare, default=None)
        if easier is not None and easier[0] < hardest - 1.0:
            chosen[g][chosen[g].index(i)] = easier[1]
        elif len(picked) > 2:
            chosen[g].remove(i)
        else:
            break
    return [sorted(indices) for indices in chosen]


def allocate(groups: Sequence[Sequence[str]], vectors: Vectors, total: int) -> list[list[int]]:
    """Chosen sentence indices per section: shares by length, or the best ``total`` overall when
    there are more sections than sentences to spend (a section need not say anything)."""
    scores: list[npt.NDArray[np.float32]] = []
    count = sum(len(s) for s in groups)
    freedom = choice(count, total)
    offset = 0
    for sents in groups:
        scores.append(sentence_scores(sents, vectors[offset : offset + len(sents)], freedom))
        offset += len(sents)
    if len(groups) > total:
        ranked = sorted(
            ((float(score), g, i) for g, group in enumerate(scores) for i, score in enumerate(group)), reverse=True
        )[:total]
        return [sorted(i for _, g2, i in ranked if g2 == g) for g in range(len(groups))]
    chosen = []
    for sents, group in zip(groups, scores, strict=True):
        share = min(len(sents), max(1, round(total * len(sents) / count)) if len(groups) > 1 else total)
        chosen.append(sorted(int(i) for i in np.argsort(-group, kind="stable")[:share]))
    return chosen


class Summarizer:
    """Extractive, section-aware summaries over one embedder and glossary."""

    def __init__(self, embedder: Embedder, glossary: Glossary, budget: Budget | None = None) -> None:
        self._embedder = embedder
        self._glossary = glossary
        self._budget = budget or Budget()

    def summarize(self, sections: Sequence[Section], *, max_sentences: int | None = None) -> SummaryResult:
        grouped = [(section, split_sentences(section.text)) for section in sections]
        every_sentence = [s for _, sents in grouped for s in sents]
        prose_only = [(section, [s for s in sents if is_prose(s)]) for section, sents in grouped]
        if any(sents for _, sents in prose_only):  # title blocks and label lists summarize nothing
            grouped = prose_only
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
        prose: list[str] = []
        chosen_count = 0
        allocation = allocate([sents for _, sents in grouped], vectors, total)
        if choice(len(everything), total) >= 0.5:  # enough choice to trade a hard sentence for a plainer one
            allocation = meet_reading_target([sents for _, sents in grouped], allocation, PLAIN_GRADE)
        for (section, sents), chosen in zip(grouped, allocation, strict=True):
            if not chosen:
                continue
            plain = [piece for i in chosen for piece in plain_sentences(sents[i])]
            prose += plain
            chosen_count += len(chosen)
            heading = section.headings[-1] if section.headings and len(grouped) > 1 else ""
            parts.append((f"{heading}: " if heading else "") + " ".join(plain))
        summary = "\n\n".join(part for part in parts if part.strip())
        return SummaryResult(
            summary=summary,
            key_facts=key_facts(every_sentence),
            obligations=obligations(every_sentence),
            terms=explain_terms(self._glossary, summary),
            grade_before=grade(original),
            grade_after=grade(" ".join(prose)),  # headings are labels, not prose
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
