"""Retrieval quality on BEIR-layout benchmarks: lexical vs dense vs hybrid, measured in one run."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.metrics import ndcg_at_k, recall_at_k
from ingest.pipeline import IngestOptions, Ingestor, Progress
from knowledge.embeddings import Embedder
from knowledge.index import KnowledgeIndex
from knowledge.search import Mode, SearchConfig, Searcher


@dataclass(frozen=True)
class Dataset:
    name: str
    folder: Path
    filter_field: str | None = None  # query metadata field that must equal the document title


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    filter: dict[str, Any]


@dataclass(frozen=True)
class Score:
    dataset: str
    method: str
    ndcg10: float
    recall10: float
    queries: int


def benchmark_datasets(shared: Path) -> list[Dataset]:
    root = shared / "benchmarks"
    return [
        Dataset("legal_clause_retrieval", root / "legal_clause_retrieval"),
        Dataset("policyqa (within policy)", root / "policyqa" / "beir_test", filter_field="policy"),
    ]


def load_queries(dataset: Dataset) -> list[Query]:
    queries = []
    with (dataset.folder / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            meta = item.get("metadata") or {}
            where = {"title": meta[dataset.filter_field]} if dataset.filter_field else {}
            queries.append(Query(item["_id"], item["text"], where))
    return queries


def load_qrels(dataset: Dataset) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (dataset.folder / "qrels_test.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels[row["query-id"]][row["corpus-id"]] = int(row["score"])
    return qrels


METHODS: dict[str, tuple[Mode, SearchConfig]] = {
    "BM25 (lexical only)": ("lexical", SearchConfig()),
    "dense (MiniLM only)": ("dense", SearchConfig()),
    "hybrid RRF k=60": ("hybrid", SearchConfig(fusion="rrf", rrf_k=60)),
    "hybrid RRF k=10": ("hybrid", SearchConfig(fusion="rrf", rrf_k=10)),
    "hybrid convex α=0.3": ("hybrid", SearchConfig(fusion="convex", convex_alpha=0.3)),
    "hybrid convex α=0.5": ("hybrid", SearchConfig(fusion="convex", convex_alpha=0.5)),
    "hybrid convex α=0.7": ("hybrid", SearchConfig(fusion="convex", convex_alpha=0.7)),
}


def evaluate(
    dataset: Dataset,
    index: KnowledgeIndex,
    embedder: Embedder,
    *,
    progress: Progress,
    on_score: Callable[[Score], None],
) -> list[Score]:
    """Index the dataset's corpus into ``index`` and score every method on its queries."""
    Ingestor(index, embedder, progress=progress).run([dataset.folder / "corpus.jsonl"], IngestOptions(kind="other"))
    queries = load_queries(dataset)
    qrels = load_qrels(dataset)
    queries = [q for q in queries if q.id in qrels]
    vectors = embedder.embed_documents([q.text for q in queries])
    scores = []
    for method, (mode, config) in METHODS.items():
        searcher = Searcher(index, embedder, config)
        ndcg = recall = 0.0
        progress.begin(f"{dataset.name}: {method}", len(queries))
        for query, vector in zip(queries, vectors, strict=True):
            hits = searcher.search(query.text, k=10, where=query.filter, mode=mode, query_vector=vector)
            ranked = [hit.doc_id for hit in hits]
            ndcg += ndcg_at_k(ranked, qrels[query.id])
            recall += recall_at_k(ranked, qrels[query.id])
            progress.advance()
        progress.end()
        score = Score(dataset.name, method, ndcg / len(queries), recall / len(queries), len(queries))
        on_score(score)
        scores.append(score)
    return scores
