"""Rank fusion and near-duplicate collapsing (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Sequence

Ranked = Sequence[tuple[str, float]]


def reciprocal_rank_fusion(rankings: Sequence[Ranked], *, k: int = 60) -> dict[str, float]:
    """Cormack et al.'s RRF: each list contributes 1 / (k + rank)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (item, _score) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def convex_fusion(dense: Ranked, lexical: Ranked, *, alpha: float) -> dict[str, float]:
    """``alpha`` × min-max-normalised dense score + (1 − ``alpha``) × normalised BM25 score."""
    fused: dict[str, float] = {}
    for weight, ranking in ((alpha, dense), (1.0 - alpha, lexical)):
        for item, score in _min_max(ranking).items():
            fused[item] = fused.get(item, 0.0) + weight * score
    return fused


def _min_max(ranking: Ranked) -> dict[str, float]:
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    span = high - low
    return {item: (score - low) / span if span > 0 else 1.0 for item, score in ranking}


_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 3) -> frozenset[str]:
    """Word n-grams of a text, case- and punctuation-insensitive."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def collapse_near_duplicates(ordered: Sequence[tuple[str, str]], *, threshold: float) -> list[tuple[str, list[str]]]:
    """Keep the first of each group of near-identical texts.

    ``ordered`` is ``(key, text)`` best first; returns ``(key, keys collapsed into it)``.
    """
    kept: list[tuple[str, frozenset[str], list[str]]] = []
    for key, text in ordered:
        grams = shingles(text)
        for _kept_key, kept_grams, collapsed in kept:
            if jaccard(grams, kept_grams) >= threshold:
                collapsed.append(key)
                break
        else:
            kept.append((key, grams, []))
    return [(key, collapsed) for key, _, collapsed in kept]
