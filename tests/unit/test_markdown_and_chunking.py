"""Markdown structure survives into chunks: every chunk knows its heading path and section number."""

import pytest

from ingest.chunking import chunk_document, pack_paragraphs, section_number, split_long
from ingest.documents import LoadedDocument, Section
from ingest.markdown import markdown_sections

HANDBOOK = """# 2. Purchase thresholds

Intro text for the chapter.

## 2.1 Micro-purchases

You may buy with **one quote** under [$10,000](https://x).

```
# not a heading inside code
```

### 2.1.1 Purchasing cards

- Cards up to $5,000.
- No splitting.

## 2.2 Approvals

| Who | Limit |
|---|---|
| City Manager | $249,999.99 |

Setext heading
--------------

Under setext.
"""


def test_markdown_sections_follow_the_heading_tree() -> None:
    first_h1, sections = markdown_sections(HANDBOOK)
    assert first_h1 == "2. Purchase thresholds"
    paths = [section.headings for section in sections]
    assert paths == [
        ("2. Purchase thresholds",),
        ("2. Purchase thresholds", "2.1 Micro-purchases"),
        ("2. Purchase thresholds", "2.1 Micro-purchases", "2.1.1 Purchasing cards"),
        ("2. Purchase thresholds", "2.2 Approvals"),
        ("2. Purchase thresholds", "Setext heading"),
    ]


def test_markdown_text_is_plain_with_lists_tables_and_code_kept() -> None:
    _, sections = markdown_sections(HANDBOOK)
    micro = sections[1].text
    assert "You may buy with one quote under $10,000." in micro
    assert "# not a heading inside code" in micro
    assert "- Cards up to $5,000." in sections[2].text
    assert "Who: City Manager | Limit: $249,999.99" in sections[3].text  # each cell keeps its column name


@pytest.mark.parametrize(
    ("heading", "number"),
    [
        ("13.003 Policy", "13.003"),
        ("2.1 Micro-purchases (under $10,000)", "2.1"),
        ("TS-01.2 Conformance target", "TS-01.2"),
        ("Part 13 Simplified Acquisition", "13"),
        ("§ 200.320 Methods", "200.320"),
        ("2. Purchase thresholds", "2"),
        ("Introduction", ""),
        ("2024 was a good year", "2024"),
    ],
)
def test_section_numbers_are_read_from_headings(heading: str, number: str) -> None:
    assert section_number(heading) == number


def test_long_text_is_split_at_sentences_within_the_limit() -> None:
    text = " ".join(f"Sentence number {i} says something useful." for i in range(40))
    pieces = split_long(text, 200)
    assert all(len(piece) <= 200 for piece in pieces)
    assert " ".join(pieces) == text


def test_a_single_huge_word_is_still_cut() -> None:
    pieces = split_long("x" * 1000, 300)
    assert all(len(piece) <= 300 for piece in pieces) and "".join(pieces) == "x" * 1000


def test_paragraphs_are_packed_and_a_short_tail_joins_its_predecessor() -> None:
    text = "\n\n".join(["a" * 300, "b" * 300, "c" * 300, "d" * 20])
    chunks = pack_paragraphs(text, 700)
    assert chunks == ["a" * 300 + "\n\n" + "b" * 300, "c" * 300 + "\n\n" + "d" * 20]


def test_chunks_carry_title_heading_path_number_and_metadata() -> None:
    document = LoadedDocument(
        doc_id="procurement/02.md",
        title="2. Purchase thresholds",
        sections=[Section(("2. Purchase thresholds", "2.1 Micro-purchases"), "Buy with one quote.")],
        url="https://example.gov/02",
        date="2026-07-01",
        meta={"tags": ["thresholds", "p-card"], "owner": None},
    )
    [chunk] = chunk_document(document, kind="procurement", source="/lib/02.md", limit=500)
    assert chunk.chunk_id == "procurement/02.md#0"
    assert chunk.section == "2.1 Micro-purchases"  # the title is not repeated in the path
    assert chunk.section_number == "2.1"
    assert chunk.meta == {"tags": "thresholds, p-card"}
    assert chunk.embedding_text().startswith("2. Purchase thresholds > 2.1 Micro-purchases\n\n")
