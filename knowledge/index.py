"""The knowledge index: a Chroma collection for vectors plus a SQLite catalog with an FTS5 lexical index.

The catalog is the source of truth for what is indexed: a document row is written only after its
chunks are in both stores, so a crash mid-ingest leaves at worst orphan vectors that the next run
overwrites, never a document that looks indexed but is not.
"""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embeddings import Vectors
from knowledge.errors import CityBridgeError
from knowledge.lexical import fts_query, phrase_query
from knowledge.models import Chunk, Kind, MetaValue
from knowledge.visibility import Audience, Visibility

logger = logging.getLogger(__name__)

COLLECTION = "citybridge_chunks"
STANDARD_FIELDS = ("doc_id", "title", "section", "section_number", "kind", "source", "url", "date")
GROUP_KEY = "group:"  # vector metadata: one boolean key per group a restricted chunk is shown to

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    options TEXT NOT NULL,
    doc_ids TEXT NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    date TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    ingested_at REAL NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'internal'
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    section_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    date TEXT NOT NULL,
    text TEXT NOT NULL,
    meta TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'internal',
    groups TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_kind ON chunks(kind);
CREATE INDEX IF NOT EXISTS chunks_title ON chunks(title);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, section, text,
    content='chunks', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, title, section, text) VALUES (new.rowid, new.title, new.section, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, title, section, text)
    VALUES ('delete', old.rowid, old.title, old.section, old.text);
END;
"""


class IndexStoreError(CityBridgeError, RuntimeError):
    """The index could not be opened or written."""


@dataclass(frozen=True)
class SourceState:
    path: str
    root: str
    file_hash: str
    options: str
    doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    source: str
    content_hash: str
    title: str
    kind: Kind
    url: str
    date: str
    n_chunks: int
    visibility: str = "internal"


@dataclass(frozen=True)
class IndexStats:
    documents: int
    chunks: int
    sources: int
    by_kind: dict[str, int]
    vectors: int
    last_ingest: float | None
    path: str


Where = Mapping[str, MetaValue]


class KnowledgeIndex:
    """Stores chunks with their vectors and answers lexical and dense candidate queries.

    An index opened with :func:`open_index` reads everything (ingestion and maintenance use it); readers
    get :meth:`scoped` copies, whose every query — dense, lexical, phrase, counts, chunk lookups, stats —
    carries the audience's visibility filter inside it.
    """

    def __init__(self, directory: Path, collection: Any) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._collection = collection
        self._audience: Audience | None = None
        self._db = sqlite3.connect(directory / "catalog.sqlite3", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def close(self) -> None:
        self._db.close()

    def scoped(self, audience: Audience) -> KnowledgeIndex:
        """The same index, reading only what ``audience`` may see."""
        view = copy.copy(self)
        view._audience = audience
        return view

    def _migrate(self) -> None:
        """Catalogs written before visibility existed: add the columns (everything ``internal``, failing
        closed) and give their vectors the same metadata, so filtered queries still find them."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        if "visibility" in columns:
            return
        logger.warning("adding visibility to %s; existing documents become internal", self.directory)
        with self._transaction() as db:
            db.execute("ALTER TABLE chunks ADD COLUMN visibility TEXT NOT NULL DEFAULT 'internal'")
            db.execute("ALTER TABLE chunks ADD COLUMN groups TEXT NOT NULL DEFAULT ''")
            db.execute("ALTER TABLE documents ADD COLUMN visibility TEXT NOT NULL DEFAULT 'internal'")
        ids = [row[0] for row in self._db.execute("SELECT chunk_id FROM chunks")]
        for start in range(0, len(ids), 4000):
            part = ids[start : start + 4000]
            self._collection.update(ids=part, metadatas=[{"visibility": "internal"}] * len(part))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    # -- catalog -------------------------------------------------------------------------------

    def source_state(self, path: str) -> SourceState | None:
        row = self._db.execute("SELECT * FROM sources WHERE path = ?", (path,)).fetchone()
        if row is None:
            return None
        return SourceState(
            row["path"], row["root"], row["file_hash"], row["options"], tuple(json.loads(row["doc_ids"]))
        )

    def sources_under(self, root: str) -> list[SourceState]:
        """Sources recorded for files inside ``root`` (an absolute folder or file path)."""
        rows = self._db.execute(
            "SELECT * FROM sources WHERE path = ? OR path LIKE ? ESCAPE '\\'",
            (root, _like_prefix(root.rstrip("/") + "/")),
        ).fetchall()
        return [
            SourceState(r["path"], r["root"], r["file_hash"], r["options"], tuple(json.loads(r["doc_ids"])))
            for r in rows
        ]

    def record_source(self, path: str, root: str, file_hash: str, options: str, doc_ids: Sequence[str]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
                (path, root, file_hash, options, json.dumps(list(doc_ids)), time.time()),
            )

    def forget_source(self, path: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sources WHERE path = ?", (path,))

    def document(self, doc_id: str) -> DocumentRecord | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None or not self._may_see(row["visibility"]):
            return None
        return DocumentRecord(
            row["doc_id"],
            row["source"],
            row["content_hash"],
            row["title"],
            row["kind"],
            row["url"],
            row["date"],
            row["n_chunks"],
            row["visibility"],
        )

    def document_hashes(self, doc_ids: Iterable[str]) -> dict[str, str]:
        ids = list(doc_ids)
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self._db.execute(
                f"SELECT doc_id, content_hash FROM documents WHERE doc_id IN ({marks})",
                part,
            ):
                found[row["doc_id"]] = row["content_hash"]
        return found

    # -- writing -------------------------------------------------------------------------------

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        """Remove documents and all their chunks from both stores; returns chunks removed."""
        ids = list(doc_ids)
        if not ids:
            return 0
        chunk_ids = self._chunk_ids_of(ids)
        for start in range(0, len(chunk_ids), 5000):
            self._collection.delete(ids=chunk_ids[start : start + 5000])
        with self._transaction() as db:
            db.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in ids])
            db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in ids])
        return len(chunk_ids)

    def _chunk_ids_of(self, doc_ids: Sequence[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(doc_ids), 500):
            part = list(doc_ids[start : start + 500])
            marks = ",".join("?" * len(part))
            found += [r[0] for r in self._db.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", part)]
        return found

    def add(self, documents: Sequence[DocumentRecord], chunks: Sequence[Chunk], vectors: Vectors) -> None:
        """Store chunks and vectors, then mark their documents as indexed.

        A document that shrank leaves no stale vectors behind: chunk ids it no longer has are removed
        once the new vectors are in.
        """
        if len(chunks) != len(vectors):
            raise ValueError("each chunk needs exactly one vector")
        previous = set(self._chunk_ids_of([d.doc_id for d in documents]))
        self._add_vectors(chunks, vectors)
        stale = sorted(previous - {c.chunk_id for c in chunks})
        for start in range(0, len(stale), 5000):
            self._collection.delete(ids=stale[start : start + 5000])
        now = time.time()
        with self._transaction() as db:
            db.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d.doc_id,) for d in documents])
            db.executemany(
                "INSERT INTO chunks (chunk_id, doc_id, ordinal, title, section, section_number, kind, source,"
                " url, date, text, meta, visibility, groups) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.chunk_id,
                        c.doc_id,
                        c.ordinal,
                        c.title,
                        c.section,
                        c.section_number,
                        c.kind,
                        c.source,
                        c.url,
                        c.date,
                        c.text,
                        json.dumps(c.meta),
                        *_visibility_columns(c.visibility),
                    )
                    for c in chunks
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO documents (doc_id, source, content_hash, title, kind, url, date, n_chunks,"
                " ingested_at, visibility) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (d.doc_id, d.source, d.content_hash, d.title, d.kind, d.url, d.date, d.n_chunks, now, d.visibility)
                    for d in documents
                ],
            )

    def _add_vectors(self, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        if not chunks:
            return
        step = 4000
        for start in range(0, len(chunks), step):
            part = chunks[start : start + step]
            self._collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[start : start + step],
                metadatas=[_vector_metadata(c) for c in part],
            )

    def set_visibility(self, doc_id: str, visibility: Visibility) -> int:
        """Change who may see a stored document, in the catalog and on its vectors; returns chunks changed.

        Its content hash is cleared so the next ingest of its file writes the visibility it declares again
        (an explicit change here lasts until then)."""
        rows = self._db.execute("SELECT chunk_id, groups FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
        if not rows:
            return 0
        level, groups = _visibility_columns(str(visibility))
        for start in range(0, len(rows), 4000):
            part = rows[start : start + 4000]
            self._collection.update(
                ids=[row["chunk_id"] for row in part],
                metadatas=[_group_metadata(row["groups"], visibility) for row in part],
            )
        with self._transaction() as db:
            db.execute("UPDATE chunks SET visibility = ?, groups = ? WHERE doc_id = ?", (level, groups, doc_id))
            db.execute("UPDATE documents SET visibility = ? WHERE doc_id = ?", (str(visibility), doc_id))
        return len(rows)

    # -- reading -------------------------------------------------------------------------------

    def _may_see(self, visibility: str) -> bool:
        return self._audience is None or self._audience.may_see(Visibility.parse(visibility))

    def _scope_sql(self, alias: str = "c") -> tuple[list[str], list[MetaValue]]:
        """The audience's filter as SQL over the chunks table (nothing for the unscoped index)."""
        if self._audience is None:
            return [], []
        levels = list(self._audience.levels())
        groups = list(self._audience.readable_groups())
        test = f"{alias}.visibility IN ({','.join('?' * len(levels))})"
        test += "".join(f" OR {alias}.groups LIKE ? ESCAPE '\\'" for _ in groups)
        return [f"({test})"], [*levels, *(f"%{_like_escape(f',{group},')}%" for group in groups)]

    def _scope_chroma(self, where: Where | None) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = [{key: value} for key, value in (where or {}).items()]
        if self._audience is not None:
            allowed: list[dict[str, Any]] = [{"visibility": {"$in": list(self._audience.levels())}}]
            allowed += [{GROUP_KEY + group: True} for group in self._audience.readable_groups()]
            clauses.append(allowed[0] if len(allowed) == 1 else {"$or": allowed})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def lexical(self, query: str, n: int, where: Where | None = None) -> list[tuple[str, float]]:
        """Chunk ids ranked by BM25 (scores made positive: higher is better)."""
        match = fts_query(query)
        if not match:
            return []
        return self._match(match, n, where)

    def _match(self, match: str, n: int, where: Where | None) -> list[tuple[str, float]]:
        clauses, params = _sql_filter(where)
        scope, scope_params = self._scope_sql()
        clauses, params = clauses + scope, params + scope_params
        sql = (
            "SELECT c.chunk_id, bm25(chunks_fts, 1.5, 1.0, 1.0) AS rank FROM chunks_fts"
            " JOIN chunks c ON c.rowid = chunks_fts.rowid WHERE chunks_fts MATCH ?"
            + "".join(f" AND {clause}" for clause in clauses)
            + " ORDER BY rank LIMIT ?"
        )
        rows = self._db.execute(sql, (match, *params, n)).fetchall()
        return [(row[0], -float(row[1])) for row in rows]

    def phrase(self, phrase: str, n: int, where: Where | None = None) -> list[tuple[str, float]]:
        """Chunk ids holding ``phrase`` as consecutive words (stemmed), ranked by BM25."""
        match = phrase_query(phrase)
        return self._match(match, n, where) if match else []

    def documents_with(self, phrase: str, n: int = 1000) -> set[str]:
        """Ids of the documents that hold ``phrase`` as consecutive words (stemmed) in any of their chunks."""
        match = phrase_query(phrase)
        if not match:
            return set()
        scope, params = self._scope_sql()
        sql = (
            "SELECT DISTINCT c.doc_id FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid"
            " WHERE chunks_fts MATCH ?" + "".join(f" AND {clause}" for clause in scope) + " LIMIT ?"
        )
        return {row[0] for row in self._db.execute(sql, (match, *params, n)).fetchall()}

    def frequencies(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many chunks there are, and how many hold each term (stemmed as the lexical index stems)."""
        scope, params = self._scope_sql()
        visible = "".join(f" AND {clause}" for clause in scope)
        total = int(self._db.execute("SELECT COUNT(*) FROM chunks c WHERE 1" + visible, params).fetchone()[0])
        counts: dict[str, int] = {}
        for term in terms:
            match = phrase_query(term)
            if match:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid"
                    " WHERE chunks_fts MATCH ?" + visible,
                    (match, *params),
                )
                counts[term] = int(row.fetchone()[0])
        return total, counts

    def numbered(self, section: str, n: int) -> list[tuple[str, float]]:
        """Chunk ids of the section numbered ``section`` ("13.201"), in reading order."""
        scope, params = self._scope_sql()
        visible = "".join(f" AND {clause}" for clause in scope)
        rows = self._db.execute(
            "SELECT chunk_id FROM chunks c WHERE section_number = ?" + visible + " ORDER BY doc_id, ordinal LIMIT ?",
            (section, *params, n),
        )
        return [(row[0], 1.0) for row in rows]

    def near(self, phrase: str, word: str, n: int, distance: int = 3) -> list[tuple[str, float]]:
        """Chunk ids where ``phrase`` comes within ``distance`` words of ``word`` ("X … means")."""
        left, right = phrase_query(phrase), phrase_query(word)
        return self._match(f"NEAR({left} {right}, {int(distance)})", n, None) if left and right else []

    def dense(self, vector: Vectors, n: int, where: Where | None = None) -> list[tuple[str, float]]:
        """Chunk ids ranked by cosine similarity to ``vector``."""
        if self._collection.count() == 0:
            return []
        result = self._collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=n,
            where=self._scope_chroma(where),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [1.0] * len(ids)
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(ids, distances, strict=True)]

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, Vectors]:
        if not chunk_ids:
            return {}
        got = self._collection.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"], strict=True)}

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        found: dict[str, Chunk] = {}
        ids = list(chunk_ids)
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            scope, params = self._scope_sql()
            visible = "".join(f" AND {clause}" for clause in scope)
            rows = self._db.execute(f"SELECT * FROM chunks c WHERE chunk_id IN ({marks})" + visible, [*part, *params])
            for row in rows:
                found[row["chunk_id"]] = _row_to_chunk(row)
        return found

    def document_ids(self) -> list[str]:
        scope, params = self._scope_sql()
        sql = "SELECT DISTINCT doc_id FROM chunks c" + "".join(f" WHERE {clause}" for clause in scope)
        return sorted(row[0] for row in self._db.execute(sql, params))

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        scope, params = self._scope_sql()
        visible = "".join(f" AND {clause}" for clause in scope)
        rows = self._db.execute(
            "SELECT * FROM chunks c WHERE doc_id = ?" + visible + " ORDER BY ordinal", (doc_id, *params)
        )
        return [_row_to_chunk(row) for row in rows]

    def stats(self) -> IndexStats:
        """Counts of what this index's audience may see (the vector count is the store's own, unscoped)."""
        scope, params = self._scope_sql()
        visible = "".join(f" WHERE {clause}" for clause in scope)
        by_kind = {
            row[0]: row[1]
            for row in self._db.execute(
                f"SELECT kind, COUNT(DISTINCT doc_id) FROM chunks c{visible} GROUP BY kind ORDER BY kind", params
            )
        }
        documents = sum(by_kind.values())
        chunks = self._db.execute(f"SELECT COUNT(*) FROM chunks c{visible}", params).fetchone()[0]
        sources = self._db.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
        last = self._db.execute("SELECT MAX(ingested_at) FROM documents").fetchone()[0]
        return IndexStats(
            documents,
            int(chunks),
            int(sources),
            by_kind,
            int(self._collection.count()),
            last,
            str(self.directory),
        )


def open_index(directory: Path) -> KnowledgeIndex:
    """The embedded default: a persistent Chroma client beside the catalog."""
    import chromadb  # noqa: PLC0415 - keeps `import knowledge` light
    from chromadb.config import Settings as ChromaSettings  # noqa: PLC0415

    try:
        client = chromadb.PersistentClient(
            path=str(directory / "chroma"),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        collection = client.get_or_create_collection(COLLECTION, metadata={"hnsw:space": "cosine"})
    except Exception as exc:
        raise IndexStoreError(f"Could not open the vector index in {directory}: {exc}") from exc
    return KnowledgeIndex(directory, collection)


def _row_to_chunk(row: sqlite3.Row) -> Chunk:
    return Chunk(
        chunk_id=row["chunk_id"],
        doc_id=row["doc_id"],
        ordinal=row["ordinal"],
        title=row["title"],
        section=row["section"],
        section_number=row["section_number"],
        kind=row["kind"],
        source=row["source"],
        url=row["url"],
        date=row["date"],
        text=row["text"],
        meta=json.loads(row["meta"]),
        visibility=row["visibility"] + (f":{row['groups'].strip(',')}" if row["groups"] else ""),
    )


def _vector_metadata(chunk: Chunk) -> dict[str, MetaValue]:
    meta: dict[str, MetaValue] = {
        key: value
        for key, value in chunk.meta.items()
        if key not in STANDARD_FIELDS and key != "visibility" and not key.startswith(GROUP_KEY)
    }
    meta.update({field: getattr(chunk, field) for field in STANDARD_FIELDS})
    visibility = Visibility.parse(chunk.visibility)
    meta["visibility"] = visibility.level
    meta.update({GROUP_KEY + group: True for group in visibility.groups})
    return meta


def _visibility_columns(visibility: str) -> tuple[str, str]:
    """``(level, ",G1,G2,")``: groups with delimiters on both sides, so ``LIKE '%,G1,%'`` matches exactly."""
    parsed = Visibility.parse(visibility)
    return parsed.level, f",{','.join(parsed.groups)}," if parsed.groups else ""


def _group_metadata(old_groups: str, visibility: Visibility) -> dict[str, MetaValue | None]:
    """Vector metadata for a changed visibility: the new level and groups, and the old groups removed."""
    meta: dict[str, MetaValue | None] = {GROUP_KEY + g: None for g in old_groups.split(",") if g}
    meta.update({GROUP_KEY + g: True for g in visibility.groups})
    meta["visibility"] = visibility.level
    return meta


def _sql_filter(where: Where | None) -> tuple[list[str], list[MetaValue]]:
    clauses: list[str] = []
    params: list[MetaValue] = []
    for key, value in (where or {}).items():
        if key in STANDARD_FIELDS:
            clauses.append(f"c.{key} = ?")
        else:
            clauses.append("json_extract(c.meta, ?) = ?")
            params.append('$."' + key.replace('"', "") + '"')
        params.append(value)
    return clauses, params


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(prefix: str) -> str:
    return _like_escape(prefix) + "%"
