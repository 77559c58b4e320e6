"""Plain-language summaries on the legal_summarization benchmark: ours vs Lead-K, TextRank, LexRank."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.assistant.plain import grade
from bot.assistant.sentences import segment
from bot.assistant.summarize import Summarizer
from knowledge.embeddings import Embedder
from knowledge.glossary import load_glossary

SENTENCE_BUDGET = 1  # the same rule for every method: references are one sentence (median) of ~16 words


@dataclass(frozen=True)
class Item:
    uid: str
    text: str
    reference: str
    sentences: list[str]


@dataclass(frozen=True)
class SummaryScore:
    method: str
    rouge1: float
    rouge2: float
    rougeL: float  # noqa: N815 - the metric's name
    grade: float
    items: int


class _Tokenizer:
    """sumy's tokenizer protocol over our sentence splitter (NLTK's punkt data is not installed)."""

    language = "english"

    def to_sentences(self, text: str) -> list[str]:
        return segment(text)

    def to_words(self, sentence: str) -> list[str]:
        return re.findall(r"\w+", sentence)


def load_items(folder: Path) -> list[Item]:
    data = json.loads((folder / "all_v1.json").read_text(encoding="utf-8"))
    return [
        Item(
            v["uid"],
            v["original_text"],
            v["reference_summary"],
            segment(v["original_text"]) or [v["original_text"]],
        )
        for v in data.values()
    ]


def lead(item: Item) -> str:
    return " ".join(item.sentences[:SENTENCE_BUDGET])


def sumy_method(kind: str) -> Callable[[Item], str]:
    from sumy.nlp.stemmers import Stemmer  # noqa: PLC0415 - optional bench dependency
    from sumy.parsers.plaintext import PlaintextParser  # noqa: PLC0415
    from sumy.summarizers.lex_rank import LexRankSummarizer  # noqa: PLC0415
    from sumy.summarizers.text_rank import TextRankSummarizer  # noqa: PLC0415
    from sumy.utils import get_stop_words  # noqa: PLC0415

    summarizer: Any = (TextRankSummarizer if kind == "textrank" else LexRankSummarizer)(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = _Tokenizer()

    def run(item: Item) -> str:
        parser = PlaintextParser.from_string(" ".join(item.sentences), tokenizer)
        chosen = summarizer(parser.document, SENTENCE_BUDGET)
        return " ".join(str(sentence) for sentence in chosen) or lead(item)

    return run


def grounded_method(summarizer: Summarizer) -> Callable[[Item], str]:
    """CityBridge's grounded summarizer, exactly as `citybridge summarize` runs it, held to the budget."""

    def run(item: Item) -> str:
        return summarizer.summarize_text(" ".join(item.sentences), max_sentences=SENTENCE_BUDGET).summary

    return run


def score(method: str, outputs: Sequence[str], items: Sequence[Item]) -> SummaryScore:
    from rouge_score import rouge_scorer  # noqa: PLC0415 - optional bench dependency

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    results = [scorer.score(item.reference, output) for item, output in zip(items, outputs, strict=True)]
    return SummaryScore(
        method=method,
        rouge1=statistics.mean(r["rouge1"].fmeasure for r in results),
        rouge2=statistics.mean(r["rouge2"].fmeasure for r in results),
        rougeL=statistics.mean(r["rougeL"].fmeasure for r in results),
        grade=statistics.mean(grade(output) for output in outputs),
        items=len(items),
    )


def evaluate(folder: Path, embedder: Embedder) -> tuple[list[SummaryScore], float, float]:
    """Scores of every method, the mean grade of the originals and of the human references."""
    items = load_items(folder)
    methods: dict[str, Callable[[Item], str]] = {
        f"Lead-{SENTENCE_BUDGET}": lead,
        "TextRank (sumy)": sumy_method("textrank"),
        "LexRank (sumy)": sumy_method("lexrank"),
        "CityBridge grounded": grounded_method(Summarizer(embedder, load_glossary())),
    }
    scores = [score(name, [run(item) for item in items], items) for name, run in methods.items()]
    return (
        scores,
        statistics.mean(grade(i.text) for i in items),
        statistics.mean(grade(i.reference) for i in items),
    )
