"""File loaders: one function per format, each returning documents made of sections."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag

from ingest.cleaning import (
    date_from_name,
    normalise_date,
    split_front_matter,
    strip_site_noise,
    tidy,
    title_from_name,
    unwrap_lines,
)
from ingest.documents import LoadedDocument, LoadError, Section
from ingest.markdown import markdown_sections
from ingest.records import RecordColumns, load_records

# Bump when a loader reads files differently: every file is re-read, but only documents whose
# text actually changed are re-embedded.
LOADER_VERSION = "5"

MARKDOWN = {".md", ".markdown", ".mdx"}
HTML = {".html", ".htm", ".xhtml"}
XML = {".dita", ".xml"}
TEXT = {".txt", ".text", ".rst", ".yaml", ".yml", ""}
RECORDS = {".csv", ".tsv", ".jsonl", ".ndjson", ".json"}
PDF = {".pdf"}
DOCX = {".docx"}
SUPPORTED = MARKDOWN | HTML | XML | TEXT | RECORDS | PDF | DOCX

_URL_KEYS = ("url", "source_url", "canonical_url", "canonical", "citation_url", "link")
_TITLE_KEYS = ("title", "heading", "name")
_SUMMARY_KEYS = ("summary", "description", "promo_description", "excerpt", "lede", "deck")
_DATE_KEYS = ("date", "published", "publish_date", "updated", "last_updated", "modified")
_BLOCK_TAGS = [
    "p",
    "li",
    "td",
    "th",
    "pre",
    "blockquote",
    "dd",
    "dt",
    "figcaption",
    "caption",
    "shortdesc",
    "codeblock",
    "entry",
    "note",
    "cite",
]
_HEADING_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "title"]


class UnsupportedFileError(LoadError):
    """The file type is not one CityBridge reads (reported as skipped, not failed)."""


def decode_text(data: bytes) -> str:
    """UTF-8 text, refusing binaries instead of indexing mojibake."""
    if b"\x00" in data[:8192]:
        raise LoadError("binary file (contains NUL bytes), not text")
    text = data.decode("utf-8-sig", errors="replace")
    bad = text.count("\ufffd")
    if bad > max(8, len(text) // 100):
        raise LoadError(f"not valid UTF-8 text ({bad} undecodable bytes)")
    return text


def load_file(path: Path, doc_id: str, data: bytes, columns: RecordColumns) -> list[LoadedDocument]:
    """Documents in ``data`` (the bytes of ``path``), ids derived from ``doc_id``."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFileError(f"unsupported file type {suffix!r}")
    if not data.strip():
        raise LoadError("empty file")
    if suffix in RECORDS:
        documents = load_records(path, doc_id, decode_text(data), columns)
        if documents is not None:
            return documents
    loader = _LOADERS.get(suffix, load_text)
    return [loader(path, doc_id, data)]


def load_markdown(path: Path, doc_id: str, data: bytes) -> LoadedDocument:
    front, body = split_front_matter(decode_text(data))
    first_h1, sections = markdown_sections(strip_site_noise(body))
    summary = tidy(strip_site_noise(_first_str(front, _SUMMARY_KEYS)))
    if summary and not any(summary[:80] in section.text for section in sections):
        # News and link pages often carry their only prose in the front-matter summary.
        sections.insert(0, Section((), summary))
    title = _first_str(front, _TITLE_KEYS) or first_h1 or title_from_name(path.name)
    return LoadedDocument(
        doc_id=doc_id,
        title=tidy(title),
        sections=sections,
        url=_url(front),
        date=_date(front) or date_from_name(path.name),
        kind=str(front.get("kind", "")),
        meta=_front_meta(front),
        visibility=str(front.get("visibility") or "").strip(),
    )


def load_html(path: Path, doc_id: str, data: bytes) -> LoadedDocument:
    soup = BeautifulSoup(data, "lxml")
    for junk in soup(["script", "style", "nav", "header", "footer", "noscript", "svg", "form"]):
        junk.decompose()
    canonical = soup.find("link", rel="canonical")
    url = str(canonical.get("href", "")) if isinstance(canonical, Tag) else ""
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    body = soup.body or soup
    first_h1, sections = _markup_sections(body)
    return LoadedDocument(
        doc_id=doc_id,
        title=page_title or first_h1 or title_from_name(path.name),
        sections=sections,
        url=url if url.startswith("http") else "",
        date=date_from_name(path.name),
    )


def load_xml(path: Path, doc_id: str, data: bytes) -> LoadedDocument:
    """DITA and similar XML: ``title`` elements are headings, block elements are prose."""
    soup = BeautifulSoup(data, "xml")
    first_title, sections = _markup_sections(soup)
    return LoadedDocument(
        doc_id=doc_id,
        title=first_title or title_from_name(path.name),
        sections=sections,
        date=date_from_name(path.name),
    )


def load_pdf(path: Path, doc_id: str, data: bytes) -> LoadedDocument:
    import pypdfium2 as pdfium  # noqa: PLC0415 - native library loaded only for PDFs

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise LoadError(f"corrupt or unreadable PDF ({exc})") from exc
    try:
        title = str(pdf.get_metadata_dict().get("Title", "")).strip()
        sections = []
        for number, page in enumerate(pdf, start=1):
            textpage = page.get_textpage()
            text = tidy(unwrap_lines(textpage.get_text_bounded()))
            textpage.close()
            page.close()
            if text:
                sections.append(Section((f"Page {number}",), text))
    except pdfium.PdfiumError as exc:
        raise LoadError(f"corrupt PDF page ({exc})") from exc
    finally:
        pdf.close()
    if not title or title.lower() in {"untitled", "microsoft word"} or title.lower().endswith((".doc", ".docx")):
        title = title_from_name(path.name)
    return LoadedDocument(doc_id=doc_id, title=title, sections=sections, date=date_from_name(path.name))


def load_docx(path: Path, doc_id: str, data: bytes) -> LoadedDocument:
    import docx  # noqa: PLC0415
    from docx.opc.exceptions import PackageNotFoundError  # noqa: PLC0415

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise LoadError(f"corrupt or unreadable DOCX ({exc})") from exc
    except Exception as exc:  # zipfile and lxml raise a variety of errors for damaged files
        raise LoadError(f"corrupt or unreadable DOCX ({type(exc).__name__})") from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            for row in block.rows:
                lines.append(" | ".join(cell.text.strip() for cell in row.cells))
            lines.append("")
            continue
        style = (block.style.name or "").lower() if block.style is not None else ""
        text = block.text.strip()
        if not text:
            continue
        level = _docx_heading_level(style)
        lines.append(f"{'#' * level} {text}" if level else text)
        lines.append("")
    first_h1, sections = markdown_sections("\n".join(lines))
    core_title = (document.core_properties.title or "").strip()
    return LoadedDocument(
        doc_id=doc_id,
        title=core_title or first_h1 or title_from_name(path.name),
        sections=sections,
        date=normalise_date(document.core_properties.created) if document.core_properties.created else "",
    )


def load_text(path: Path, doc_id: str, data: bytes) -> LoadedDocument:
    raw = decode_text(data)
    _, text = split_front_matter(raw)
    if text is not raw:
        # A site-generator file (Jekyll front matter, even empty): its template code is not prose.
        text = strip_site_noise(text)
    paragraphs = [tidy(p) for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p]
    first_line = paragraphs[0].splitlines()[0] if paragraphs else ""
    title = first_line if 0 < len(first_line) <= 100 else title_from_name(path.name)
    body = "\n\n".join(paragraphs)
    return LoadedDocument(
        doc_id=doc_id,
        title=title.strip("# "),
        sections=[Section((), body)] if body else [],
        date=date_from_name(path.name),
    )


_LOADERS: dict[str, Callable[[Path, str, bytes], LoadedDocument]] = {
    **dict.fromkeys(MARKDOWN, load_markdown),
    **dict.fromkeys(HTML, load_html),
    **dict.fromkeys(XML, load_xml),
    **dict.fromkeys(PDF, load_pdf),
    **dict.fromkeys(DOCX, load_docx),
}


def _markup_sections(root: Any) -> tuple[str, list[Section]]:
    """Walk headings and leaf blocks of an HTML/XML tree in document order."""
    sections: list[Section] = []
    headings: list[tuple[int, str]] = []
    blocks: list[str] = []
    first_heading = ""

    def flush() -> None:
        text = "\n\n".join(b for b in blocks if b)
        if text:
            sections.append(Section(tuple(h for _, h in headings), text))
        blocks.clear()

    for element in root.find_all(_HEADING_TAGS + _BLOCK_TAGS):
        if element.name in _HEADING_TAGS:
            title = tidy(element.get_text(" ", strip=True))
            if not title:
                continue
            level = int(element.name[1]) if element.name != "title" else _xml_depth(element)
            flush()
            first_heading = first_heading or title
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, title))
        elif element.find(_BLOCK_TAGS) is None and element.find_parent(_HEADING_TAGS) is None:
            text = tidy(element.get_text(" ", strip=True))
            if text:
                blocks.append("- " + text if element.name == "li" else text)
    flush()
    return first_heading, sections


def _xml_depth(element: Tag) -> int:
    """Heading level of an XML ``title``: how many topic/section ancestors enclose it."""
    return (
        1
        + sum(
            1
            for parent in element.parents
            if parent.name in {"section", "topic", "concept", "task", "reference", "example"}
        )
        - 1
    )


def _docx_heading_level(style: str) -> int:
    if style == "title":
        return 1
    match = re.match(r"heading (\d)", style)
    return int(match.group(1)) if match else 0


def _first_str(front: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = front.get(key)
        if isinstance(value, str | int | float) and str(value).strip():
            return str(value).strip()
    return ""


def _url(front: dict[str, Any]) -> str:
    for key in _URL_KEYS:
        value = front.get(key)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return ""


def _date(front: dict[str, Any]) -> str:
    for key in _DATE_KEYS:
        if key in front:
            value = normalise_date(front[key])
            if value:
                return value
    return ""


def _front_meta(front: dict[str, Any]) -> dict[str, Any]:
    """Front matter worth keeping as metadata (layout and navigation keys are noise)."""
    noise = {
        "visibility",  # its own field: it decides who may see the document
        "layout",
        "sidebar_label",
        "sidebar_position",
        "nav_weight",
        "permalink",
        "redirect_from",
        "media_image",
        "media_alt_text",
        "template",
        "page_type",
        "slug",
        "title",
        "heading",
        "kind",
        "image",
        "primary_image",
        "weight",
        "aliases",
        *_SUMMARY_KEYS,
    }
    return {key: value for key, value in front.items() if key not in noise and value not in (None, "", [])}


def read_document(path: Path, *, max_bytes: int) -> list[Section]:
    """The sections of one file given to a skill (summarize, translate, review)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"cannot read {path.name} ({exc.strerror})") from exc
    if size > max_bytes:
        raise LoadError(f"{path.name} is too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB)")
    documents = load_file(path, path.name, path.read_bytes(), RecordColumns())
    sections = [section for document in documents for section in document.sections]
    if not sections:
        raise LoadError(f"{path.name} has no text to read")
    return sections
