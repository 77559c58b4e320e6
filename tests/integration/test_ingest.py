"""Ingestion is incremental, reports every file it cannot read, and loses nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from ingest.pipeline import Ingestor
from knowledge.embeddings import SentenceTransformerEmbedder, Vectors
from tests.conftest import REPO, make_services

LIBRARY = REPO / "knowledge" / "library"


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.embedded = 0

    @property
    def name(self) -> str:
        return self.inner.name

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> Vectors:
        self.embedded += len(texts)
        return self.inner.embed_documents(texts, on_batch=on_batch)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "standards").mkdir(parents=True)
    shutil.copy(LIBRARY / "standards" / "ts-05-cloud-and-saas.md", docs / "standards" / "cloud.md")
    shutil.copy(LIBRARY / "procurement" / "09-protests-and-appeals.md", docs / "protests.md")
    return docs


def test_unchanged_files_cost_no_embedding_and_changed_files_replace_their_chunks(
    tmp_path: Path, folder: Path, embedder: SentenceTransformerEmbedder
) -> None:
    services = make_services(tmp_path / "home", embedder)
    counting = CountingEmbedder(embedder)
    ingestor = Ingestor(services.index, counting)
    first = ingestor.run([folder], services.ingest_options())
    assert first.count("indexed") == 2 and first.chunks_indexed == counting.embedded > 0

    counting.embedded = 0
    second = ingestor.run([folder], services.ingest_options())
    assert second.count("unchanged") == 2 and counting.embedded == 0 and second.chunks_indexed == 0

    protests = folder / "protests.md"
    protests.write_text(protests.read_text().replace("5 business days", "7 business days"))
    third = ingestor.run([folder], services.ingest_options())
    assert third.count("indexed") == 1 and third.documents_indexed == 1
    texts = " ".join(c.text for c in services.index.chunks_of("protests.md"))
    assert "7 business days" in texts and "5 business days" not in texts
    assert services.index.stats().documents == 2
    assert services.searcher.search("cloud exit", k=3)[0].doc_id == "standards/cloud.md"


def test_a_new_loader_version_rereads_files_but_reembeds_only_changed_text(
    tmp_path: Path, folder: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path / "home", embedder)
    counting = CountingEmbedder(embedder)
    Ingestor(services.index, counting).run([folder], services.ingest_options())
    counting.embedded = 0
    monkeypatch.setattr("ingest.pipeline.LOADER_VERSION", "next")
    report = Ingestor(services.index, counting).run([folder], services.ingest_options())
    assert report.documents_unchanged == 2 and counting.embedded == 0
    again = Ingestor(services.index, counting).run([folder], services.ingest_options())
    assert again.count("unchanged") == 2  # the new version was recorded for each file


def test_prune_removes_documents_whose_files_are_gone(
    tmp_path: Path, folder: Path, embedder: SentenceTransformerEmbedder
) -> None:
    services = make_services(tmp_path / "home", embedder)
    services.ingestor().run([folder], services.ingest_options())
    (folder / "protests.md").unlink()
    kept = services.ingestor().run([folder], services.ingest_options())
    assert services.index.document("protests.md") is not None and kept.documents_removed == 0
    pruned = services.ingestor().run([folder], services.ingest_options(prune=True))
    assert pruned.documents_removed == 1 and services.index.document("protests.md") is None
    assert services.index.chunks_of("protests.md") == []
    assert all(h.doc_id != "protests.md" for h in services.searcher.search("bid protest appeal", k=5))


def test_bad_files_are_reported_with_reasons_and_the_rest_is_indexed(
    tmp_path: Path, folder: Path, embedder: SentenceTransformerEmbedder
) -> None:
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage that is not a PDF")
    (folder / "image.txt").write_bytes(b"\x89PNG\x00\x00\x01binary")
    (folder / "empty.md").write_text("---\ntitle: nothing\n---\n")
    (folder / "huge.txt").write_text("word " * 300_000)
    (folder / "logo.svg").write_text("<svg/>")
    services = make_services(tmp_path / "home", embedder, max_file_mb=1.0)
    report = services.ingestor().run([folder], services.ingest_options())
    outcomes = {Path(f.path).name: (f.status, f.reason) for f in report.files}
    assert outcomes["broken.pdf"][0] == "failed" and "PDF" in outcomes["broken.pdf"][1]
    assert outcomes["image.txt"] == ("failed", "binary file (contains NUL bytes), not text")
    assert outcomes["huge.txt"][0] == "failed" and "too large" in outcomes["huge.txt"][1]
    assert outcomes["empty.md"] == ("skipped", "no text found (only markup)")
    assert outcomes["logo.svg"] == ("skipped", "unsupported file type '.svg'")
    assert outcomes["protests.md"][0] == "indexed" and outcomes["cloud.md"][0] == "indexed"


def test_identical_copies_collapse_into_one_hit(
    tmp_path: Path, folder: Path, embedder: SentenceTransformerEmbedder
) -> None:
    shutil.copy(folder / "protests.md", folder / "protests-copy.md")
    services = make_services(tmp_path / "home", embedder)
    services.ingestor().run([folder], services.ingest_options())
    hits = services.searcher.search("who may file a bid protest", k=5)
    top = hits[0]
    assert {top.doc_id, *top.duplicates} == {"protests.md", "protests-copy.md"}
    assert [h.doc_id for h in hits].count("protests-copy.md") + [h.doc_id for h in hits].count("protests.md") == 1


def test_cli_ingest_search_batch_ask_and_stats(tmp_path: Path, folder: Path) -> None:
    """The CLI end to end, with its own model load, as an evaluator would drive it."""
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 nope")
    records = folder / "records.jsonl"
    records.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"_id": "p1::seg1", "title": "p1", "text": "We share your email address with advertisers."},
                {
                    "_id": "p2::seg1",
                    "title": "p2",
                    "text": "We share your email address with advertisers and partners.",
                },
                {"_id": "p2::seg2", "title": "p2", "text": "You may delete your account at any time."},
            ]
        )
    )
    home = tmp_path / "home"
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(home), "ingest", str(folder), "--json"])
    assert result.exit_code == 1, result.output  # one file failed
    report = json.loads(result.stdout)
    assert [f["reason"] for f in report["files"] if f["status"] == "failed"] == [
        "corrupt or unreadable PDF (Failed to load document (PDFium: Data format error).)"
    ]

    queries = tmp_path / "queries.jsonl"
    batch = [
        {"id": "q1", "text": "who gets my email", "filter": {"title": "p2"}},
        {"id": "q2", "text": "cloud availability service credits"},
        {"id": "q3", "text": "  "},
    ]
    queries.write_text("\n".join(json.dumps(query) for query in batch) + "\n")
    result = runner.invoke(app, ["--home", str(home), "search", "--batch", str(queries), "--k", "3", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["id"] == "q1" and set(lines[0]["hits"]) <= {"p2::seg1", "p2::seg2"}
    assert lines[0]["hits"][0] == "p2::seg1" and lines[0]["ms"] > 0
    assert lines[1]["hits"][0] == "standards/cloud.md"
    assert lines[2] == {"id": "q3", "hits": [], "ms": 0.0, "error": "The query is empty."}

    result = runner.invoke(app, ["--home", str(home), "ask", "How long do I have to file a protest?", "--json"])
    answer = json.loads(result.stdout)
    assert answer["answered"] is True and answer["answer"]
    assert answer["citations"][0]["doc_id"] == "protests.md"
    assert {"doc_id", "title", "section", "url"} <= set(answer["citations"][0])

    result = runner.invoke(app, ["--home", str(home), "stats", "--json"])
    assert json.loads(result.stdout)["documents"] == 5


def test_cli_rejects_bad_input_with_a_clear_message(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(tmp_path), "ingest", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "no such file or folder" in result.stdout
    result = runner.invoke(app, ["--home", str(tmp_path), "search", "x", "--kind", "recipes"])
    assert result.exit_code != 0 and "Unknown kind 'recipes'" in str(result.exception)


def test_a_shrunken_document_leaves_no_stale_vectors(
    tmp_path: Path, folder: Path, embedder: SentenceTransformerEmbedder
) -> None:
    services = make_services(tmp_path / "home", embedder)
    services.ingestor().run([folder], services.ingest_options())
    before = services.index.stats()
    protests = folder / "protests.md"
    protests.write_text(protests.read_text()[:600])
    services.ingestor().run([folder], services.ingest_options())
    after = services.index.stats()
    assert after.chunks < before.chunks
    assert after.vectors == after.chunks  # no vector outlives its chunk
