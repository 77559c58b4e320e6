"""Finding technical terms in a text, whether or not the glossary knows them, and explaining each one:
from the glossary, else from the text's own expansion of an acronym, else from a definition in the
knowledge base (cited), else as a question for the author. Nothing is left out silently."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from bot.assistant.results import TermExplanation, UndefinedTerm
from bot.assistant.sentences import split_sentences
from knowledge.glossary import Glossary, Side
from knowledge.models import Citation, Hit

RARE_ZIPF = 2.9  # a word used less often than this (Zipf scale: ~1 per million words is 3) reads as jargon
_ACRONYM = re.compile(
    r"(?<![\w./-])(?=[\w&/.-]*[A-Z][\w&/.-]*[A-Z])[A-Za-z][\w&/.-]*?[A-Za-z0-9]"
    r"(?=-(?:based|enabled|compliant|compatible|capable|ready|certified|powered|driven|only)\b|(?![\w/-]))"
)
_VERSIONED = re.compile(
    r"(?<![\w.-])(?P<name>(?:[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)(?:[ /-](?:[A-Z][A-Za-z0-9]*|SP|CFR))*)"
    r"[ -](?:v|[A-Z])?\d+(?:[.-]\d+)*[A-Za-z]?(?:\s(?:(?:Rev\.?|Revision|Version|Part)\s?|v)\d+(?:\.\d+)*)?"
    r"(?![\w.-]*\w)"
)
_WORD = re.compile(r"(?<![\w-])[A-Za-z][a-z]+(?:-[A-Za-z][a-z]+)*(?![\w-])")
_EXPANSION_AFTER = r"\(\s*{name}s?\s*\)"  # "Automated Traffic Signal Performance Measures (ATSPM)"
_EXPANSION_BEFORE = r"{name}s?\s*\(\s*(?P<words>[A-Za-z][^()]{{3,80}}?)\s*\)"  # "ATSPM (Automated …)"
# Acronyms every reader knows, document furniture, and capitalised words that are not terms.
_EVERYDAY = frozenset(
    [
        "US",
        "U.S.",
        "USA",
        "UK",
        "EU",
        "AM",
        "PM",
        "ID",
        "OK",
        "TV",
        "PC",
        "IT",
        "HR",
        "FAQ",
        "PDF",
        "CEO",
        "CFO",
        "COO",
        "VP",
        "LLC",
        "INC",
        "CO",
        "NA",
        "TBD",
        "FY",
        "Q1",
        "Q2",
        "Q3",
        "Q4",
        "Mr",
        "Ms",
        "Dr",
        "No",
        "St",
        "Ave",
        "City",
        "RFP",
        "RFQ",
        "RFI",
        "ADA",
        "HQ",
        "PO",
        "DBA",
        "U.S",
        "GB",
        "MB",
        "TB",
        "KB",
    ]
)


_SMALL_WORDS = frozenset({"of", "and", "the", "for", "to", "a", "an", "in", "on"})


@dataclass(frozen=True)
class Candidate:
    """A term as written and where it first appears."""

    surface: str
    start: int
    kind: str  # glossary, acronym, standard or rare


@dataclass(frozen=True)
class Explained:
    terms: list[TermExplanation]
    undefined: list[UndefinedTerm]
    found: int


Define = Callable[[str], tuple[str, Hit] | None]  # a knowledge-base sentence defining a term, and its passage


@cache
def _zipf() -> Callable[[str, str], float]:
    from wordfreq import zipf_frequency  # noqa: PLC0415 - loads its word lists on first use

    return zipf_frequency


def is_rare(word: str) -> bool:
    """A word most readers have not met: rare in general English (wordfreq's Zipf scale)."""
    return _zipf()(word.lower(), "en") < RARE_ZIPF


def _rare_in_every_form(word: str) -> bool:
    """Rare as written and without its ending ("renews" is rarer than "renew", which everyone knows)."""
    lowered = word.lower()
    forms = [lowered] + [lowered[: -len(end)] for end in ("s", "es", "ed", "d", "ing") if lowered.endswith(end)]
    return all(is_rare(form) for form in forms if len(form) >= 3)


def _own_names(text: str) -> set[str]:
    """The author's own names (vendor, product): mixed-case words in the title or marked ™/®, which a
    reader need not have explained."""
    title = next((line for line in text.splitlines() if line.strip()), "")
    names = set(re.findall(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*\b", title))
    names |= set(re.findall(r"\b([A-Z][\w-]+)\s?[™®]", text))
    return names


def detect(text: str, glossary: Glossary, *, side: Side | None = None) -> list[Candidate]:
    """Technical terms in ``text``: glossary terms, acronyms, version-numbered standards and rare words,
    each once, in order of first use; a candidate inside a longer one counts as part of it."""
    found: list[tuple[int, int, str, str]] = []
    for term in glossary.find(text, side=side):
        found.append((term.first, term.first + len(term.surface), term.surface, "glossary"))
    own = _own_names(text)
    found += [(c.start, c.start + len(c.surface), c.surface, c.kind) for c in version_numbered(text, own)]
    for match in _ACRONYM.finditer(text):
        word = match.group(0).rstrip(".")
        if word not in _EVERYDAY and word not in own and not _is_heading_word(word) and len(word) >= 2:
            found.append((match.start(), match.start() + len(word), word, "acronym"))
    for sentence_start, sentence in _sentences_with_offsets(text):
        for match in _WORD.finditer(sentence):
            word = match.group(0)
            if len(word) < 5 or (word[0].isupper() and match.start() > 0) or not _rare_in_every_form(word):
                continue
            found.append((sentence_start + match.start(), sentence_start + match.end(), word, "rare"))
    return _without_overlaps(found)


def version_numbered(text: str, own: set[str] | frozenset[str] = frozenset()) -> list[Candidate]:
    """Standards named with a version or number ("OCPP 1.6J", "NIST SP 800-82 Rev. 2", "ISO 8601")."""
    return [
        Candidate(m.group(0), m.start(), "standard")
        for m in _VERSIONED.finditer(text)
        if m.group("name").split()[0] not in _EVERYDAY and m.group("name") not in own
    ]


def explain(candidates: Sequence[Candidate], text: str, glossary: Glossary, define: Define) -> Explained:
    """An explanation for every candidate, or a question to ask about it."""
    terms: list[TermExplanation] = []
    undefined: list[UndefinedTerm] = []
    seen: set[str] = set()
    entries: set[str] = set()
    for candidate in candidates:
        key = candidate.surface.lower()
        if key in seen:
            continue
        seen.add(key)
        entry = next((m.entry for m in glossary.find(candidate.surface)), None)
        if entry is not None and entry.term not in entries:
            entries.add(entry.term)
            terms.append(
                TermExplanation(
                    term=entry.term,
                    definition=entry.definition,
                    other_side=entry.other_side,
                    found_as=candidate.surface,
                )
            )
            continue
        if entry is not None:
            continue  # another spelling of a term already explained
        expansion = expanded_in(candidate.surface, text)
        if expansion:
            known = next((m.entry for m in glossary.find(expansion)), None)
            meaning = f"{candidate.surface} stands for {expansion}" + (f": {known.definition}" if known else ".")
            terms.append(
                TermExplanation(term=candidate.surface, definition=meaning, found_as=candidate.surface, source="text")
            )
            continue
        definition = define(candidate.surface)
        if definition is not None:
            sentence, hit = definition
            terms.append(
                TermExplanation(
                    term=candidate.surface,
                    definition=sentence,
                    found_as=candidate.surface,
                    source="knowledge base",
                    citation=Citation.from_hit(1, hit),
                )
            )
            continue
        undefined.append(UndefinedTerm(term=candidate.surface, question=define_question(candidate.surface)))
    return Explained(terms, undefined, len(terms) + len(undefined))


def define_question(term: str) -> str:
    return (
        f"What do you mean by \u201c{term}\u201d? Please define it in plain words and say what it means for "
        "the City: cost, data, staff time or risk."
    )


def expanded_in(acronym: str, text: str) -> str:
    """The expansion a text gives for its acronym ("… Measures (ATSPM)" or "ATSPM (Automated …)"), or ""."""
    if not re.fullmatch(r"[A-Za-z0-9&/-]{2,12}", acronym) or not re.search(r"[A-Z].*[A-Z]", acronym):
        return ""
    name = re.escape(acronym)
    before = re.search(_EXPANSION_BEFORE.format(name=name), text)
    if before and _initials_match(acronym, before.group("words")):
        return before.group("words").strip()
    for match in re.finditer(_EXPANSION_AFTER.format(name=name), text):
        words = re.findall(r"[A-Za-z][\w'-]*", text[max(0, match.start() - 120) : match.start()])
        letters = [c for c in acronym if c.isalpha()]
        for size in range(len(letters) + 2, 0, -1):
            phrase = words[-size:] if size <= len(words) else []
            if phrase and _initials_match(acronym, " ".join(phrase)):
                while phrase and phrase[0].lower() in _SMALL_WORDS:
                    phrase = phrase[1:]
                return " ".join(phrase)
    return ""


def defining_sentence(term: str, text: str) -> str:
    """The sentence of ``text`` that defines ``term`` ("X means …", "X is a …", "X refers to …"), or ""."""
    name = r"[\s\-]+".join(re.escape(w) for w in term.split())
    pattern = re.compile(
        rf"(?:^|\b(?:an?|the)\s+)(?:term\s+)?[\"“']?{name}s?[\"”']?(?:\s*\([^)]*\))?\s*,?\s+"
        r"(?:means|is defined as|refers to|stands for|is an?|are|is the)\b",
        re.I,
    )
    for sentence in split_sentences(text):
        if pattern.search(sentence) and len(sentence.split()) >= 6:
            return sentence
    return ""


def _initials_match(acronym: str, phrase: str) -> bool:
    """Whether ``phrase`` spells ``acronym`` by its words' initials ("real-time crime center" → RTCC)."""
    joined = "".join(c.lower() for c in acronym if c.isalpha())
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", phrase) if w.lower() not in _SMALL_WORDS]
    if not joined or not words:
        return False
    whole = "".join(w[0].lower() for w in words)
    parts = "".join(p[0].lower() for w in words for p in w.split("-") if p)
    if joined in (whole, parts):
        return True
    return whole.startswith(joined[:2]) and len(words) <= len(joined) + 1 and whole[0] == joined[0]


def _is_heading_word(word: str) -> bool:
    """An all-capitals ordinary word ("PRICING", "NOTE") or a number with letters ("3PM")."""
    return (word.isupper() and len(word) > 5 and not is_rare(word)) or bool(re.fullmatch(r"[\d.]+[A-Za-z]{1,2}", word))


def _sentences_with_offsets(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    cursor = 0
    for sentence in split_sentences(text):
        at = text.find(sentence[:40], cursor)
        at = cursor if at < 0 else at
        out.append((at, sentence))
        cursor = at + 1
    return out


def _without_overlaps(found: list[tuple[int, int, str, str]]) -> list[Candidate]:
    """The longest candidate wins where two overlap; glossary matches win ties."""
    rank = {"glossary": 0, "standard": 1, "acronym": 2, "rare": 3}
    ordered = sorted(found, key=lambda f: (-(f[1] - f[0]), rank[f[3]], f[0]))
    kept: list[tuple[int, int, str, str]] = []
    for item in ordered:
        if all(item[1] <= k[0] or item[0] >= k[1] for k in kept):
            kept.append(item)
    return [Candidate(surface, start, kind) for start, _, surface, kind in sorted(kept)]
