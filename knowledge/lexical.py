"""Turning free text into an FTS5 query (pure functions, no I/O)."""

from __future__ import annotations

import re

# A compact English stop list: function words only, so that domain words ("use", "must", "data")
# still count.  Query words outside it are OR-ed and ranked by BM25.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
        "don",
        "doesn",
        "isn",
        "aren",
        "wasn",
        "weren",
        "hasn",
        "haven",
        "let",
        "us",
        "also",
        "may",
        "might",
        "shall",
    ]
)

_TOKEN = re.compile(r"\w+(?:[.\-]\w+)*", re.UNICODE)


def query_terms(text: str, *, limit: int = 32) -> list[str]:
    """The distinct content words of a query, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(text.lower()):
        token = match.group(0).strip("._-")
        if not token or token in STOPWORDS or (len(token) == 1 and not token.isdigit()):
            continue
        seen.setdefault(token, None)
        if len(seen) >= limit:
            break
    return list(seen)


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression that ORs the query's content words, each quoted as a phrase.

    Quoting makes every user string safe (FTS5 operators and punctuation lose their meaning) and
    keeps section numbers such as ``13.003`` together as a phrase.
    """
    terms = query_terms(text)
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def phrase_query(text: str) -> str:
    """An FTS5 phrase of the words of ``text`` ("micro-purchase threshold" → ``"micro purchase threshold"``),
    or "" when it has none. Punctuation is dropped, so user text cannot inject operators."""
    words = re.findall(r"\w+", text.lower())
    return '"' + " ".join(words) + '"' if words else ""
