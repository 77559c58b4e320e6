"""Sentence splitting, fragment checks and selection for extractive answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from knowledge.lexical import query_terms

MIN_SENTENCE = 20
MAX_SENTENCE = 600
MIN_WORDS = 6

UnitKind = Literal["prose", "item", "row"]


@cache
def _segmenter() -> Any:
    import pysbd  # noqa: PLC0415

    return pysbd.Segmenter(language="en", clean=False)


def segment(text: str) -> list[str]:
    """Every sentence of a text, as the sentence splitter sees it (no filtering)."""
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]


@dataclass(frozen=True)
class Unit:
    """A sentence of a passage, a list item, or a table row read with its column names."""

    text: str
    kind: UnitKind = "prose"


_ITEM = re.compile(r"^(?:[-*•]\s+|\(\w{1,4}\)\s+|\d{1,3}[.)]\s+)")
_LEAD_IN_END = re.compile(r"(?:[:\-—–]|\b(?:following|follows|include|includes|including|are|is))\s*$", re.I)
_EXCEPTION_TAIL = re.compile(r",\s*(?:except|unless|other than|but)\b[^,]*$", re.I)
_DANGLING_END = re.compile(r"(?:[;,]|\b(?:and|or|the|a|an|of|to|for|with|by|in|on|at|that|which))\s*$", re.I)
_ENUMERATOR = re.compile(r"^\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)\s+(?=[A-Z])")
_LEAD_IN_MARK = re.compile(r"\s*[:\-—–]\s*$")
_ITEM_TAIL = re.compile(r"(?:[;,]\s*(?:and|or)?|\.)\s*$", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_FIGURE = re.compile(r"[$€£]?\d[\d,.]*%?")  # "$2 million" is two words of a sentence, not one


def split_units(text: str, *, min_length: int = MIN_SENTENCE) -> list[Unit]:
    """The units of a passage: prose sentences, list items, and table rows (``Col: value | Col: value``).

    A list item is read with the sentence that introduces it ("Imprest funds may be used when—" and
    "(a) The transaction does not exceed $500;" make one sentence), so an item is never a fragment.
    """
    units: list[Unit] = []
    lead_in = ""
    for line in (raw.strip() for raw in re.split(r"\n+", text)):
        if not line:
            continue
        if " | " in line or line.startswith("|"):
            units.append(Unit(_row_text(line), "row"))
            lead_in = ""
            continue
        item = bool(_ITEM.match(line))
        body = _ITEM.sub("", line, count=1).strip() if item else line
        pieces = [p.strip() for p in _segmenter().segment(body) if p.strip()]
        if item and lead_in and pieces:
            pieces[0] = _with_lead_in(lead_in, pieces[0])
        elif not item:
            lead_in = pieces[-1] if pieces and _LEAD_IN_END.search(pieces[-1]) else ""
        units += [Unit(p, "item" if item else "prose") for p in pieces if min_length <= len(p) <= MAX_SENTENCE]
    return units


def _with_lead_in(lead_in: str, item: str) -> str:
    """ "Imprest funds may be used when—" + "The transaction does not exceed $500;" as one sentence."""
    head = _LEAD_IN_MARK.sub("", lead_in).rstrip(" ,")
    tail = _ITEM_TAIL.sub("", item).rstrip(" ,;")
    if not head or not tail:
        return item
    first = tail[0].lower() + tail[1:] if tail[:2].istitle() or (tail[:1].isupper() and tail[1:2].islower()) else tail
    return f"{head} {first}."


def split_sentences(text: str, *, min_length: int = MIN_SENTENCE) -> list[str]:
    """The text of every unit (kept for callers that only need strings)."""
    return [unit.text for unit in split_units(text, min_length=min_length)]


def _row_text(line: str) -> str:
    cells = [cell.strip() for cell in line.strip("| ").split(" | ") if cell.strip()]
    return "; ".join(cells) + ("" if cells and cells[-1].endswith(".") else ".")


def repair(sentence: str) -> str:
    """A sentence that introduces a list, cut back to the statement it makes.

    "Micro-purchase threshold means $15,000, except it means-" becomes "Micro-purchase threshold means
    $15,000 (with exceptions listed in the source)."; a lead-in with nothing before it stays as it is,
    and :func:`is_fragment` rejects it.
    """
    text = _ENUMERATOR.sub("", sentence.strip(), count=1)
    if not _LEAD_IN_END.search(text):
        return text
    tail = _EXCEPTION_TAIL.search(text)
    if tail is not None:
        head = text[: tail.start()].rstrip(" ,;")
        if len(_WORD.findall(head)) >= 3:
            return f"{head} (with exceptions listed in the source)."
    return text


def is_fragment(unit: Unit | str) -> bool:
    """Text that cannot stand as a sentence of an answer: too short, a list lead-in, table or list debris."""
    kind = unit.kind if isinstance(unit, Unit) else "prose"
    text = (unit.text if isinstance(unit, Unit) else unit).strip()
    words = _WORD.findall(text)
    if len(words) + len(_FIGURE.findall(text)) < MIN_WORDS or "|" in text:
        return True
    if kind == "row":
        return ": " not in text  # a row without its column names is debris
    if _LEAD_IN_END.search(text) or _DANGLING_END.search(text):
        return True
    if text[0].islower() or text[0] in ",;:)]}" or text.lower().startswith(("and ", "or ", "but ")):
        return True
    if text[0] in "([" and len(text) > 1 and text[1].islower() and not re.match(r"^\((?:[a-z]|[ivx]+)\)", text):
        return True
    if text.count("(") != text.count(")") or text.count('"') % 2:
        return True
    letters = sum(ch.isalpha() for ch in text)
    if letters < 0.55 * len(text):
        return True
    capitalised = sum(1 for w in words if w[0].isupper())
    return not re.search(r"[.!?)\"'”]$", text) and capitalised > 0.6 * len(words)  # a heading or a label


def term_overlap(question: str, sentence: str) -> float:
    """Share of the question's content words found in the sentence (prefix match handles plurals)."""
    return coverage(query_terms(question), sentence)


def coverage(terms: list[str], text: str, weights: Mapping[str, float] | None = None) -> float:
    """Share of ``terms`` found in ``text`` (a word that starts like the term counts: plurals, tenses),
    each term weighted (by its rarity, say) when ``weights`` are given; zero-weight terms are left out."""
    weighted = {t: (weights.get(t, 1.0) if weights is not None else 1.0) for t in terms}
    total = sum(weighted.values())
    if not terms or total <= 0:
        return 0.0
    words = set(re.findall(r"[\w\-]+", text.lower())) | set(re.findall(r"\w+", text.lower()))
    found = sum(w for term, w in weighted.items() if any(word.startswith(stem(term)) for word in words))
    return found / total


def stem(term: str) -> str:
    """Enough of a term to match its other forms ("approves" → "appro", "computer-aided" → "computer-ai")."""
    return term[: max(5, len(term) - 3)]


def similar(a: str, b: str, threshold: float = 0.6) -> bool:
    """Two sentences that say nearly the same words (Jaccard over words)."""
    left, right = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    if not left or not right:
        return False
    return len(left & right) / len(left | right) >= threshold
