"""A real sample of ../shared/corpus: every format, real citations, real answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant.ask import Assistant
from bot.services import Services
from ingest.pipeline import IngestReport
from knowledge.embeddings import SentenceTransformerEmbedder
from tests.conftest import make_services

SAMPLE = [
    "MANIFEST.csv",
    "procurement/far-text-markdown/part-13",
    "procurement/far-text-markdown/part-2/2.101.md",
    "procurement/far-dita-gsa-sample/dita",
    "procurement/techfar-hub/files/USDS-HowTo8a.pdf",
    "procurement/18f-derisking-guides/derisking/index.html",
    "procurement/section508-acquisition/acquisition/2023-09-28-buy-understand-vendor-acr-claims.md",
    "standards/section508-gov/test/2025-07-17-testing-lifecycle-overview.md",
    "standards/usds-digital-services-playbook/plays.json",
    "standards/usds-digital-services-playbook/_plays",
    "standards/open311-georeport/GeoReport",
    "lessons/techfar-hub-case-studies/case-studies/How-Pay-Gov-Team-went-Agile.mdx",
    "lessons/digitalgov-news/2023/11/2023-11-14-defining-benchmarks-and-targets-for-intranet-kpis.md",
]


def _mirror(shared: Path, target: Path) -> None:
    """Link the sample files into ``target`` under their corpus-relative paths (so doc ids match)."""
    corpus = shared / "corpus"
    for item in SAMPLE:
        source = corpus / item
        files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        for file in files:
            link = target / file.relative_to(corpus)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(file)


@pytest.fixture(scope="module")
def corpus(
    shared: Path, tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[Services, IngestReport]]:
    root = tmp_path_factory.mktemp("corpus")
    _mirror(shared, root)
    services = make_services(tmp_path_factory.mktemp("corpus-home"), embedder)
    report = services.ingestor().run([root], services.ingest_options())
    yield services, report
    services.close()


def test_every_sample_file_is_indexed_or_reported(corpus: tuple[Services, IngestReport]) -> None:
    _, report = corpus
    by_name = {Path(f.path).name: f for f in report.files}
    assert not report.failed, report.failed
    assert by_name["MANIFEST.csv"].status == "skipped"
    assert by_name["plays.json"].status == "skipped"  # a Jekyll template: no text once Liquid is removed
    assert by_name["USDS-HowTo8a.pdf"].status == "indexed"
    assert report.count("indexed") >= 70


def test_doc_ids_are_corpus_relative_with_manifest_urls_and_far_section_numbers(
    corpus: tuple[Services, IngestReport],
) -> None:
    services, _ = corpus
    record = services.index.document("procurement/far-text-markdown/part-13/13.003.md")
    assert record is not None and record.kind == "procurement"
    assert record.url.startswith("https://github.com/") and record.url.endswith("part-13/13.003.md")
    chunks = services.index.chunks_of("procurement/far-text-markdown/part-13/13.003.md")
    assert {c.section_number for c in chunks} == {"13.003"}
    assert "micro-purchase threshold" in " ".join(c.text for c in chunks)  # hard-wrapped lines rejoined


def test_template_noise_is_gone_from_indexed_text(corpus: tuple[Services, IngestReport]) -> None:
    services, _ = corpus
    for doc_id in (
        "lessons/techfar-hub-case-studies/case-studies/How-Pay-Gov-Team-went-Agile.mdx",
        "lessons/digitalgov-news/2023/11/2023-11-14-defining-benchmarks-and-targets-for-intranet-kpis.md",
        "standards/section508-gov/test/2025-07-17-testing-lifecycle-overview.md",
    ):
        text = " ".join(c.text for c in services.index.chunks_of(doc_id))
        assert text, doc_id
        for noise in ("{%", "{{", "<Summary", "</", "&#8217;"):
            assert noise not in text, (doc_id, noise)
    pay_gov = services.index.document("lessons/techfar-hub-case-studies/case-studies/How-Pay-Gov-Team-went-Agile.mdx")
    assert pay_gov is not None and pay_gov.title == "How the Pay.gov Team Went Agile" and pay_gov.kind == "lesson"


def test_pdf_pages_and_dita_sections_are_citable(corpus: tuple[Services, IngestReport]) -> None:
    services, _ = corpus
    pdf = services.index.chunks_of("procurement/techfar-hub/files/USDS-HowTo8a.pdf")
    assert pdf and pdf[0].section == "Page 1" and len(pdf[0].text) > 100
    dita = services.index.chunks_of("procurement/far-dita-gsa-sample/dita/10.001.dita")
    assert dita and dita[0].section_number == "10.001" and "market research" in dita[0].text.lower()


def test_federal_micro_purchase_threshold_is_answered_from_the_far(
    corpus: tuple[Services, IngestReport],
) -> None:
    services, _ = corpus
    result = Assistant(services.searcher, answer_threshold=services.settings.answer_threshold).ask(
        "What is the micro-purchase threshold dollar amount under the FAR?"
    )
    assert result.answered
    assert any(c.doc_id.startswith("procurement/far-text-markdown/") for c in result.citations)
    assert "$15,000" in " ".join(p.hit.text for p in result.passages)


def test_open311_question_finds_the_georeport_spec(corpus: tuple[Services, IngestReport]) -> None:
    services, _ = corpus
    hits = services.searcher.search("How does a 311 app submit a service request with a location?", k=5)
    assert hits[0].doc_id.startswith("standards/open311-georeport/")
    assert hits[0].url.startswith("https://github.com/open311/")
