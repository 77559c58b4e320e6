"""Hybrid search: dense (Chroma) and lexical (FTS5 BM25) candidates fused into one ranking."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge.authority import AuthorityPolicy
from knowledge.embeddings import Embedder, Vectors
from knowledge.errors import CityBridgeError
from knowledge.fusion import collapse_near_duplicates, convex_fusion, reciprocal_rank_fusion
from knowledge.index import KnowledgeIndex
from knowledge.models import Chunk, Hit, Kind, MetaValue

Mode = Literal["hybrid", "dense", "lexical"]


class SearchError(CityBridgeError, ValueError):
    """A search request that cannot be run (the message is safe to show)."""


@dataclass(frozen=True)
class SearchConfig:
    fusion: Literal["rrf", "convex"] = "rrf"
    rrf_k: int = 60
    convex_alpha: float = 0.5
    candidates: int = 50
    duplicate_jaccard: float = 0.8


class Searcher:
    """Ranks documents for a query; one hit per document, near-duplicates collapsed."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        config: SearchConfig | None = None,
        authority: AuthorityPolicy | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config or SearchConfig()
        self.authority = authority or AuthorityPolicy()

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        kind: Kind | None = None,
        where: Mapping[str, MetaValue] | None = None,
        mode: Mode = "hybrid",
        query_vector: Vectors | None = None,
        per_document: int = 1,
    ) -> list[Hit]:
        """The ``k`` best documents (or, with ``per_document`` > 1, their best few chunks each)."""
        query = query.strip()
        if not query:
            raise SearchError("The query is empty.")
        if k < 1:
            raise SearchError("k must be at least 1.")
        filters = dict(where or {})
        if kind:
            filters["kind"] = kind
        n = max(self.config.candidates, k * 4)
        vector = query_vector if query_vector is not None or mode == "lexical" else self.embedder.embed_query(query)
        dense = self.index.dense(vector, n, filters) if mode != "lexical" and vector is not None else []
        lexical = self.index.lexical(query, n, filters) if mode != "dense" else []
        scores = self._fuse(dense, lexical, mode)
        ranked = sorted(scores, key=lambda cid: scores[cid], reverse=True)
        chunks = self.index.chunks(ranked)
        best: list[Chunk] = []
        spare: list[Chunk] = []
        taken: dict[str, int] = {}
        for chunk_id in ranked:
            chunk = chunks.get(chunk_id)
            if chunk is not None and taken.get(chunk.doc_id, 0) < per_document:
                taken[chunk.doc_id] = taken.get(chunk.doc_id, 0) + 1
                best.append(chunk)
            elif chunk is not None and per_document > 1:
                spare.append(chunk)
        if per_document > 1 and len(best) < k:  # a small knowledge base: more chunks of the same documents
            best += spare[: k - len(best)]
        groups = collapse_near_duplicates(
            [(c.chunk_id, c.text) for c in best], threshold=self.config.duplicate_jaccard
        )[:k]
        dense_scores = dict(dense)
        missing = [cid for cid, _ in groups if cid not in dense_scores]
        if missing and vector is not None:
            dense_scores.update(self._similarities(vector, missing))
        lexical_scores = dict(lexical)
        return [
            self._hit(
                chunks[cid],
                scores[cid],
                dense_scores.get(cid),
                lexical_scores.get(cid),
                [chunks[d].doc_id for d in collapsed],
            )
            for cid, collapsed in groups
        ]

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the chunks. A term the index never holds gets the
        highest weight (it is the part of a question nothing here can answer), unless it is a short word
        such as "PO" or "KEV": shorthand, not a subject, so it counts for nothing."""
        total, counts = self.index.frequencies(terms)
        return {
            t: 0.0 if not counts.get(t) and len(t) <= 3 else math.log(1 + total / (counts.get(t, 0) + 0.5))
            for t in terms
        }

    def documents_naming(self, phrase: str) -> frozenset[str]:
        """The documents that name ``phrase`` anywhere, not only in the chunks a search returned."""
        return frozenset(self.index.documents_with(phrase))

    def defining(self, phrase: str, *, k: int = 5, query_vector: Vectors | None = None) -> list[Hit]:
        """Chunks where ``phrase`` comes right before "means" (how regulations define their terms)."""
        return self._lexical_hits(self.index.near(phrase, "means", k), query_vector)

    def numbered(self, section: str, *, k: int = 5, query_vector: Vectors | None = None) -> list[Hit]:
        """The chunks of the section a question names by number ("FAR 13.201")."""
        hits = self._lexical_hits(self.index.numbered(section, 50), query_vector)
        return sorted(hits, key=lambda h: h.dense_score or 0.0, reverse=True)[:k]

    def containing(self, phrase: str, *, k: int = 5, query_vector: Vectors | None = None) -> list[Hit]:
        """Chunks that hold ``phrase`` word for word (a definition, a name), best BM25 first."""
        return self._lexical_hits(self.index.phrase(phrase, k), query_vector)

    def _lexical_hits(self, found: list[tuple[str, float]], query_vector: Vectors | None) -> list[Hit]:
        chunks = self.index.chunks([cid for cid, _ in found])
        dense = self._similarities(query_vector, list(chunks)) if query_vector is not None else {}
        return [self._hit(chunks[cid], score, dense.get(cid), score, []) for cid, score in found if cid in chunks]

    def _hit(
        self, chunk: Chunk, score: float, dense: float | None, lexical: float | None, duplicates: list[str]
    ) -> Hit:
        fields = chunk.model_dump(exclude={"ordinal"})
        authority = self.authority.tier(chunk.doc_id, chunk.source, chunk.kind, chunk.meta)
        return Hit(
            **fields, score=score, dense_score=dense, lexical_score=lexical, duplicates=duplicates, authority=authority
        )

    def _fuse(self, dense: list[tuple[str, float]], lexical: list[tuple[str, float]], mode: Mode) -> dict[str, float]:
        if mode == "dense":
            return dict(dense)
        if mode == "lexical":
            return dict(lexical)
        if self.config.fusion == "convex":
            return convex_fusion(dense, lexical, alpha=self.config.convex_alpha)
        return reciprocal_rank_fusion([dense, lexical], k=self.config.rrf_k)

    def _similarities(self, vector: Vectors, chunk_ids: list[str]) -> dict[str, float]:
        stored = self.index.vectors(chunk_ids)
        return {cid: float(np.dot(vec, vector)) for cid, vec in stored.items()}
