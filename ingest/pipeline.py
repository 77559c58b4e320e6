"""Ingestion: files → documents → chunks → vectors, incremental by content hash."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from ingest.chunking import CHUNKER_VERSION, chunk_document
from ingest.cleaning import normalise_date
from ingest.documents import LoadedDocument, LoadError
from ingest.loaders import LOADER_VERSION, UnsupportedFileError, load_file
from ingest.records import RecordColumns
from ingest.sources import ManifestIndex, SourceFile, discover, infer_kind, is_manifest
from knowledge.embeddings import Embedder
from knowledge.index import DocumentRecord, KnowledgeIndex
from knowledge.models import Chunk, Kind
from knowledge.visibility import INTERNAL_VISIBILITY, Visibility, VisibilityError

logger = logging.getLogger(__name__)

Status = Literal["indexed", "unchanged", "skipped", "failed", "removed"]


class Progress(Protocol):
    """Where long work reports how far it got (a rich progress bar in the CLI)."""

    def begin(self, label: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    def begin(self, label: str, total: int) -> None:
        return None

    def advance(self, amount: int = 1) -> None:
        return None

    def end(self) -> None:
        return None


class FileOutcome(BaseModel):
    path: str
    status: Status
    reason: str = ""
    documents: int = 0
    chunks: int = 0


class IngestReport(BaseModel):
    files: list[FileOutcome] = Field(default_factory=list)
    documents_indexed: int = 0
    documents_unchanged: int = 0
    documents_removed: int = 0
    chunks_indexed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)


@dataclass(frozen=True)
class IngestOptions:
    kind: Kind | None = None
    prune: bool = False
    columns: RecordColumns = field(default_factory=RecordColumns)
    chunk_chars: int = 1100
    max_file_bytes: int = 25 * 1024 * 1024
    visibility: Visibility | None = None  # `ingest --visibility`: for every file this run reads
    default_visibility: Visibility = INTERNAL_VISIBILITY
    folder_visibility: tuple[tuple[str, Visibility], ...] = ()  # (fnmatch pattern on the path, visibility)

    def fingerprint(self, source: Path | None = None) -> str:
        """Anything that changes how a file becomes documents; a change forces re-reading the file."""
        fields: dict[str, str] = {"chunks": self.chunk_salt(), "loader": LOADER_VERSION}
        given = self.visibility_for(source) if source is not None else INTERNAL_VISIBILITY
        if given != INTERNAL_VISIBILITY:  # the default leaves indexes written before visibility valid
            fields["visibility"] = str(given)
        return json.dumps(fields, sort_keys=True)

    def visibility_for(self, source: Path) -> Visibility:
        """What a file gets unless it (or its manifest row) says otherwise: this run's ``--visibility``,
        else the first per-folder rule that matches its path, else the default."""
        if self.visibility is not None:
            return self.visibility
        path = source.as_posix()
        for pattern, visibility in self.folder_visibility:
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.rstrip("/") + "/*"):
                return visibility
        return self.default_visibility

    def chunk_salt(self) -> str:
        """Anything besides a document's own content that changes its chunks; a change re-embeds it."""
        return json.dumps(
            {
                "kind": self.kind,
                "columns": self.columns.describe(),
                "chunk": self.chunk_chars,
                "chunker": CHUNKER_VERSION,
            },
            sort_keys=True,
        )


@dataclass
class _Pending:
    """Documents read from one file and waiting for vectors."""

    source: SourceFile
    file_hash: str
    fingerprint: str
    doc_ids: list[str]
    records: list[DocumentRecord] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    outcome: FileOutcome | None = None


class Ingestor:
    """Runs ingestion against one index with one embedder."""

    def __init__(self, index: KnowledgeIndex, embedder: Embedder, *, progress: Progress | None = None) -> None:
        self._index = index
        self._embedder = embedder
        self._progress = progress or NoProgress()
        self._manifests = ManifestIndex()

    def run(self, targets: Sequence[Path], options: IngestOptions) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        files: list[SourceFile] = []
        for target in targets:
            if not target.exists():
                report.files.append(FileOutcome(path=str(target), status="failed", reason="no such file or folder"))
                continue
            files.extend(discover(target))
        pending = self._read_all(files, options, report)
        self._embed_and_store(pending, report)
        if options.prune:
            self._prune(targets, {f.path for f in files}, report)
        report.seconds = time.perf_counter() - started
        return report

    # -- reading -------------------------------------------------------------------------------

    def _read_all(self, files: list[SourceFile], options: IngestOptions, report: IngestReport) -> list[_Pending]:
        pending: list[_Pending] = []
        self._progress.begin("Reading files", len(files))
        for source in files:
            item = self._read_one(source, options, report)
            if item is not None:
                pending.append(item)
            self._progress.advance()
        self._progress.end()
        return pending

    def _read_one(self, source: SourceFile, options: IngestOptions, report: IngestReport) -> _Pending | None:
        path = str(source.path)
        if is_manifest(source.path):
            report.files.append(FileOutcome(path=path, status="skipped", reason="citation manifest (used for URLs)"))
            return None
        try:
            size = source.path.stat().st_size
            if size > options.max_file_bytes:
                raise LoadError(f"too large ({size / 1e6:.1f} MB; the limit is {options.max_file_bytes / 1e6:.1f} MB)")
            data = source.path.read_bytes()
        except OSError as exc:
            report.files.append(FileOutcome(path=path, status="failed", reason=f"cannot read file ({exc.strerror})"))
            return None
        except LoadError as exc:
            report.files.append(FileOutcome(path=path, status="failed", reason=str(exc)))
            return None
        file_hash = hashlib.sha256(data).hexdigest()
        fingerprint = options.fingerprint(source.path)
        state = self._index.source_state(path)
        if state and state.file_hash == file_hash and state.options == fingerprint and state.root == str(source.root):
            report.documents_unchanged += len(state.doc_ids)
            report.files.append(FileOutcome(path=path, status="unchanged", documents=len(state.doc_ids)))
            return None
        try:
            documents = load_file(source.path, source.doc_id, data, options.columns)
        except UnsupportedFileError as exc:
            report.files.append(FileOutcome(path=path, status="skipped", reason=str(exc)))
            return None
        except LoadError as exc:
            report.files.append(FileOutcome(path=path, status="failed", reason=str(exc)))
            return None
        except Exception as exc:  # a loader bug must not stop the other 1,700 files
            logger.exception("loader crashed on %s", path)
            report.files.append(
                FileOutcome(path=path, status="failed", reason=f"could not parse ({type(exc).__name__})")
            )
            return None
        documents = [d for d in documents if d.text_length]
        if not documents:
            report.files.append(FileOutcome(path=path, status="skipped", reason="no text found (only markup)"))
            return None
        return self._plan(source, file_hash, documents, options, state.doc_ids if state else (), report)

    def _plan(
        self,
        source: SourceFile,
        file_hash: str,
        documents: list[LoadedDocument],
        options: IngestOptions,
        previous_ids: Sequence[str],
        report: IngestReport,
    ) -> _Pending | None:
        entry = self._manifests.entry_for(source.path, source.root)
        item = _Pending(
            source=source,
            file_hash=file_hash,
            fingerprint=options.fingerprint(source.path),
            doc_ids=[d.doc_id for d in documents],
        )
        try:  # the document's own front matter, then its manifest row, then the run's and the settings'
            visibilities = {
                d.doc_id: Visibility.parse(d.visibility or entry.visibility or str(options.visibility_for(source.path)))
                for d in documents
            }
        except VisibilityError as exc:  # never guess who may see a document
            report.files.append(FileOutcome(path=str(source.path), status="failed", reason=f"{exc} {exc.hint}"))
            return None
        salt = options.chunk_salt() + str(source.path)
        hashes = {
            d.doc_id: d.content_hash(salt + entry.salt() + _visibility_salt(visibilities[d.doc_id])) for d in documents
        }
        stored = self._index.document_hashes(hashes)
        gone = set(previous_ids) - set(hashes)
        if gone:
            report.documents_removed += len(gone)
            self._index.delete_documents(gone)
        for document in documents:
            if stored.get(document.doc_id) == hashes[document.doc_id]:
                report.documents_unchanged += 1
                continue
            document.url = document.url or entry.url
            document.date = document.date or normalise_date(entry.date)
            if entry.authority:
                document.meta.setdefault("authority", entry.authority)
            kind = options.kind or infer_kind(source, document.kind)
            record, chunks = prepare(
                document,
                kind,
                str(source.path),
                hashes[document.doc_id],
                options.chunk_chars,
                visibilities[document.doc_id],
            )
            item.chunks.extend(chunks)
            item.records.append(record)
        item.outcome = FileOutcome(
            path=str(source.path),
            status="indexed" if item.records else "unchanged",
            documents=len(item.records),
            chunks=len(item.chunks),
        )
        return item

    # -- documents that do not come from files (decisions) --------------------------------------

    def upsert(self, documents: Sequence[LoadedDocument], *, kind: Kind, source: str, chunk_chars: int) -> int:
        """Index documents made in the app itself; unchanged ones cost nothing. Returns chunks embedded."""
        salt = json.dumps({"chunk": chunk_chars, "chunker": CHUNKER_VERSION, "kind": kind}) + source
        hashes = {d.doc_id: d.content_hash(salt) for d in documents}  # a declared visibility is in the hash
        stored = self._index.document_hashes(hashes)
        records: list[DocumentRecord] = []
        chunks: list[Chunk] = []
        for document in documents:
            if stored.get(document.doc_id) == hashes[document.doc_id]:
                continue
            visibility = Visibility.parse(document.visibility or str(INTERNAL_VISIBILITY))
            record, pieces = prepare(document, kind, source, hashes[document.doc_id], chunk_chars, visibility)
            chunks += pieces
            records.append(record)
        if records:
            vectors = self._embedder.embed_documents([c.embedding_text() for c in chunks])
            self._index.add(records, chunks, vectors)
        return len(chunks)

    # -- embedding and storing -----------------------------------------------------------------

    def _embed_and_store(self, pending: list[_Pending], report: IngestReport) -> None:
        total = sum(len(p.chunks) for p in pending)
        self._progress.begin("Embedding chunks", total)
        batch: list[_Pending] = []
        batch_chunks = 0
        for item in pending:
            batch.append(item)
            batch_chunks += len(item.chunks)
            if batch_chunks >= 2048:
                self._store(batch, report)
                batch, batch_chunks = [], 0
        self._store(batch, report)
        self._progress.end()

    def _store(self, batch: list[_Pending], report: IngestReport) -> None:
        if not batch:
            return
        chunks = [chunk for item in batch for chunk in item.chunks]
        started = time.perf_counter()
        vectors = self._embedder.embed_documents([c.embedding_text() for c in chunks], on_batch=self._progress.advance)
        report.embed_seconds += time.perf_counter() - started
        records = [record for item in batch for record in item.records]
        self._index.add(records, chunks, vectors)
        for item in batch:
            self._index.record_source(
                str(item.source.path), str(item.source.root), item.file_hash, item.fingerprint, item.doc_ids
            )
            if item.outcome is not None:
                report.files.append(item.outcome)
        report.documents_indexed += len(records)
        report.chunks_indexed += len(chunks)

    # -- pruning -------------------------------------------------------------------------------

    def _prune(self, targets: Sequence[Path], present: set[Path], report: IngestReport) -> None:
        for target in targets:
            for state in self._index.sources_under(str(target.resolve())):
                if Path(state.path) in present or Path(state.path).exists():
                    continue
                report.documents_removed += len(state.doc_ids)
                self._index.delete_documents(state.doc_ids)
                self._index.forget_source(state.path)
                report.files.append(
                    FileOutcome(path=state.path, status="removed", reason="file is gone", documents=len(state.doc_ids))
                )


def _visibility_salt(visibility: Visibility) -> str:
    """Part of the content hash, so a change of visibility rewrites the document; the default adds nothing
    (indexes written before visibility existed stay valid)."""
    return "" if visibility == INTERNAL_VISIBILITY else f"|visibility={visibility}"


def prepare(
    document: LoadedDocument,
    kind: Kind,
    source: str,
    content_hash: str,
    chunk_chars: int,
    visibility: Visibility = INTERNAL_VISIBILITY,
) -> tuple[DocumentRecord, list[Chunk]]:
    """A document's chunks and the catalog row that marks it indexed once they are stored."""
    chunks = chunk_document(document, kind=kind, source=source, limit=chunk_chars, visibility=str(visibility))
    record = DocumentRecord(
        doc_id=document.doc_id,
        source=source,
        content_hash=content_hash,
        title=document.title,
        kind=kind,
        url=document.url,
        date=document.date,
        n_chunks=len(chunks),
        visibility=str(visibility),
    )
    return record, chunks
