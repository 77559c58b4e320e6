"""Loaders read every supported format and refuse bad files with a reason."""

import io
import json
from pathlib import Path

import pytest

from ingest.documents import LoadError
from ingest.loaders import UnsupportedFileError, decode_text, load_file
from ingest.records import RecordColumns

AUTO = RecordColumns()


def load(name: str, data: bytes, columns: RecordColumns = AUTO):  # type: ignore[no-untyped-def]
    return load_file(Path(name), name, data, columns)


def test_markdown_uses_front_matter_title_url_and_date() -> None:
    data = b"---\ntitle: Cloud standard\nurl: https://city.example/ts-05\ndate: 2026-03-15\nlayout: page\n---\n# TS-05\nText."
    [doc] = load("standards/ts-05.md", data)
    assert (doc.title, doc.url, doc.date) == ("Cloud standard", "https://city.example/ts-05", "2026-03-15")
    assert "layout" not in doc.meta


def test_mdx_title_falls_back_to_heading_field_and_components_are_gone() -> None:
    data = b"---\nheading: How Pay.gov went agile\n---\n<Summary>\nKey points.\n</Summary>\n## Lessons\nStart small."
    [doc] = load("case.mdx", data)
    assert doc.title == "How Pay.gov went agile"
    assert [s.text for s in doc.sections] == ["Key points.", "Start small."]


def test_html_headings_become_sections_and_chrome_is_dropped() -> None:
    data = (
        b"<html><head><title>Guide</title></head><body><nav>Menu</nav><h1>Buying</h1><p>Intro.</p>"
        b"<h2>Bids</h2><ul><li>Compare <b>three</b></li></ul><footer>Footer</footer></body></html>"
    )
    [doc] = load("guide.html", data)
    assert doc.title == "Guide"
    assert [(s.headings, s.text) for s in doc.sections] == [
        (("Buying",), "Intro."),
        (("Buying", "Bids"), "- Compare three"),
    ]


def test_dita_titles_become_headings() -> None:
    data = (
        b'<?xml version="1.0"?><dita><concept id="a"><title><ph>10.001</ph> Market research.</title>'
        b"<conbody><p>Agencies must describe needs.</p></conbody></concept></dita>"
    )
    [doc] = load("10.001.dita", data)
    assert doc.title == "10.001 Market research."
    assert doc.sections[0].text == "Agencies must describe needs."


def test_docx_paragraphs_headings_and_tables_are_read() -> None:
    import docx

    document = docx.Document()
    document.add_heading("Scope of work", level=1)
    document.add_paragraph("The vendor shall host the system.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Uptime"
    table.rows[0].cells[1].text = "99.9%"
    buffer = io.BytesIO()
    document.save(buffer)
    [doc] = load("sow.docx", buffer.getvalue())
    assert doc.sections[0].headings == ("Scope of work",)
    assert "The vendor shall host the system." in doc.sections[0].text
    assert "Uptime | 99.9%" in doc.sections[0].text


def test_corrupt_pdf_and_docx_are_refused_with_a_reason() -> None:
    with pytest.raises(LoadError, match="corrupt or unreadable PDF"):
        load("broken.pdf", b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(LoadError, match="corrupt or unreadable DOCX"):
        load("broken.docx", b"PK\x03\x04 not a zip")


def test_binary_empty_and_unknown_files_are_refused() -> None:
    with pytest.raises(LoadError, match="binary"):
        load("notes.txt", b"abc\x00\x01\x02")
    with pytest.raises(LoadError, match="empty"):
        load("notes.md", b"  \n\n")
    with pytest.raises(UnsupportedFileError, match=r"unsupported file type '\.png'"):
        load("logo.png", b"\x89PNG")
    with pytest.raises(LoadError, match=r"not valid UTF-8"):
        decode_text(bytes(range(128, 256)) * 10)


def test_plain_text_title_is_its_first_short_line() -> None:
    [doc] = load("LICENSE", b"MIT License\n\nPermission is hereby granted.")
    assert doc.title == "MIT License"
    assert doc.sections[0].text == "MIT License\n\nPermission is hereby granted."


def test_beir_corpus_keeps_id_as_doc_id_and_other_fields_as_metadata() -> None:
    lines = [
        {
            "_id": "acme::seg1",
            "title": "acme.com",
            "text": "We collect email.",
            "metadata": {"policy": "acme.com"},
        },
        {"_id": "acme::seg2", "title": "acme.com", "text": "We never sell data."},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    docs = load("corpus.jsonl", data)
    assert [d.doc_id for d in docs] == ["acme::seg1", "acme::seg2"]
    assert docs[0].title == "acme.com"
    assert docs[0].sections[0].text == "We collect email."
    assert docs[0].meta == {"title": "acme.com", "policy": "acme.com"}


def test_lessons_spreadsheet_without_a_text_column_is_labelled_text() -> None:
    data = (
        b"id,title,project,year,what_happened,what_we_learned,tags,url\n"
        b'LL-1,Free pilot,Parking,2019,"Sensors went in.","Own your data.",pilots;data,https://x/LL-1\n'
    )
    [doc] = load("lessons/lessons.csv", data)
    assert doc.doc_id == "LL-1"
    assert (doc.title, doc.url, doc.date) == ("Free pilot", "https://x/LL-1", "2019")
    assert "What we learned: Own your data." in doc.sections[0].text
    assert "https://x/LL-1" not in doc.sections[0].text
    assert doc.meta["what_we_learned"] == "Own your data."


def test_record_columns_can_be_chosen_and_wrong_ones_are_named() -> None:
    data = b"key,headline,body,extra\nk1,Hello,World text,e\n"
    [doc] = load("x.csv", data, RecordColumns(id="key", title="headline", text=("body",)))
    assert (doc.doc_id, doc.title, doc.sections[0].text) == ("k1", "Hello", "World text")
    with pytest.raises(LoadError, match="text column\\(s\\) missing not found"):
        load("x.csv", data, RecordColumns(text=("missing",)))


def test_bad_records_are_refused_with_the_line_number() -> None:
    with pytest.raises(LoadError, match="line 2 is not valid JSON"):
        load("c.jsonl", b'{"_id": "1", "text": "a"}\n{broken\n')
    with pytest.raises(LoadError, match="duplicate record id '1'"):
        load("c.jsonl", b'{"_id": "1", "text": "a"}\n{"_id": "1", "text": "b"}\n')


def test_json_that_is_not_a_record_list_is_read_as_text() -> None:
    [doc] = load("config.json", b'{"name": "311 service list"}')
    assert "311 service list" in doc.sections[0].text


def test_front_matter_summary_is_indexed_when_the_body_lacks_it() -> None:
    data = b"---\ntitle: Project handoffs\nsummary: Six lessons we learned as a project changed hands.\n---\n"
    [doc] = load("news/handoff.md", data)
    assert doc.sections[0].text == "Six lessons we learned as a project changed hands."
    assert "summary" not in doc.meta
