"""Plain language: readability grades and conservative rewriting of quoted sentences."""

from __future__ import annotations

import re
import warnings
from functools import cache
from pathlib import Path

import yaml

from knowledge.glossary import GLOSSARY_DIR

_PARENTHETICAL = re.compile(r"\s*\((?![^)]*[\d$%])[^()]{0,120}\)")
_FILLER = re.compile(
    r"^(?:please note that|note that|it is important to note that|for the avoidance of doubt,?|"
    r"in addition,?|furthermore,?|moreover,?|additionally,?)\s+",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s{2,}")


def grade(text: str) -> float:
    """Flesch–Kincaid grade level (0 for empty text)."""
    if not text.strip():
        return 0.0
    with warnings.catch_warnings():  # textstat 0.7.8 imports pkg_resources, which warns on import
        warnings.simplefilter("ignore")
        import textstat  # noqa: PLC0415 - loads its syllable dictionaries on first use

    return round(float(textstat.flesch_kincaid_grade(text)), 2)


@cache
def _replacements(path: Path = GLOSSARY_DIR / "plain_words.yaml") -> tuple[re.Pattern[str], dict[str, str]]:
    table = {str(k).lower(): str(v or "") for k, v in yaml.safe_load(path.read_text(encoding="utf-8")).items()}
    alternatives = "|".join(re.escape(phrase) for phrase in sorted(table, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE), table


def plain_words(sentence: str) -> str:
    """Swap bureaucratic phrases for plain ones ("prior to" → "before"), keeping capitals."""
    pattern, table = _replacements()

    def swap(match: re.Match[str]) -> str:
        found = match.group(0)
        plain = table[found.lower()]
        if plain and found[:1].isupper():
            plain = plain[:1].upper() + plain[1:]
        return plain

    return _SPACES.sub(" ", pattern.sub(swap, sentence)).strip()


def simplify(sentence: str) -> str:
    """A plainer version of a quoted sentence: no filler openers, no asides without numbers, plain words."""
    text = _FILLER.sub("", sentence.strip())
    text = _PARENTHETICAL.sub("", text)
    text = plain_words(text)
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return text[:1].upper() + text[1:] if text else text


MAX_SENTENCE_WORDS = 25  # plain-language guidance: keep sentences to about 20–25 words
PLAIN_GRADE = 9.0  # the reading grade plain-language output aims for
_CLAUSE_BREAK = re.compile(
    r"[;:,]\s|\s(?:and|or|but|which|that|including|unless|except|provided|so that|such as|whether|where|while)"
    r"\s",
    re.IGNORECASE,
)


def compress(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> str:
    """A plain version of ``sentence`` cut back to its main clause when it runs past ``max_words``.

    The cut falls at the last clause boundary before the limit, so what remains still reads as a
    sentence; numbers stated later are not lost, because summaries list every key fact separately.
    """
    text = simplify(sentence)
    words = text.split()
    if len(words) <= max_words:
        return text
    head = " ".join(words[:max_words])
    cuts = [m.start() for m in _CLAUSE_BREAK.finditer(head) if m.start() >= len(head) // 3]
    cut = cuts[-1] if cuts else len(head)
    return head[:cut].rstrip(" ,;:-") + "."


_DANGLING = re.compile(r"[,;:]?\s+(?:or|and)\s*$|[;:,]\s*$", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r";\s+|:\s+(?=[A-Za-z])")


def plain_sentences(sentence: str, max_words: int = MAX_SENTENCE_WORDS) -> list[str]:
    """A quoted sentence as one or more short plain sentences: split at semicolons and colons, then compressed."""
    pieces = [p.strip() for p in _SENTENCE_SPLIT.split(simplify(sentence)) if p.strip()]
    if len(pieces) > 1 and min(len(p.split()) for p in pieces) < 4:
        pieces = [simplify(sentence)]  # a label ("Term: 3 years") reads better whole
    result = []
    for piece in pieces:
        short = compress(_DANGLING.sub("", piece), max_words)  # "…higher; or" loses its trailing "or"
        short = short[:1].upper() + short[1:]
        result.append(short if short.endswith((".", "!", "?")) else short + ".")
    return result
