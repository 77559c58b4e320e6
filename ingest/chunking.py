"""Structure-aware chunking: chunks never cross a heading, and each keeps its heading path."""

from __future__ import annotations

import re
from typing import Any

from ingest.documents import LoadedDocument
from knowledge.models import Chunk, Kind, flatten_meta

CHUNKER_VERSION = "1"  # bump when chunking changes: every document is re-embedded

# "13.003 Policy", "2.1 Micro-purchases", "TS-01.2 Conformance", "Part 13", "Section 4.2", "§ 200.320"
_SECTION_NUMBER = re.compile(
    r"^(?:(?:part|section|chapter|subpart|§)\s*)?((?:[A-Z]{1,4}-)?\d+(?:[.\-]\d+)*[A-Za-z]?)(?=[.)\s:]|$)",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;:])\s+(?=[\"'(\[A-Z0-9])")


def section_number(heading: str) -> str:
    """The number a heading starts with, if any."""
    match = _SECTION_NUMBER.match(heading.strip())
    return match.group(1).rstrip(".") if match else ""


def split_long(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at sentence ends, else at spaces."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for part in _SENTENCE_BREAK.split(text):
        sentence = part
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def pack_paragraphs(text: str, limit: int) -> list[str]:
    """Greedily pack paragraphs into chunks of about ``limit`` characters."""
    units: list[str] = []
    for paragraph in text.split("\n\n"):
        units.extend(split_long(paragraph.strip(), limit))
    chunks: list[str] = []
    current = ""
    for unit in units:
        if not unit:
            continue
        if current and len(current) + 2 + len(unit) > limit:
            chunks.append(current)
            current = unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        # A short tail reads better attached to its predecessor than on its own.
        if chunks and len(current) < limit // 4 and len(chunks[-1]) + len(current) <= limit * 1.3:
            chunks[-1] = f"{chunks[-1]}\n\n{current}"
        else:
            chunks.append(current)
    return chunks


def chunk_document(
    document: LoadedDocument,
    *,
    kind: Kind,
    source: str,
    limit: int,
    extra_meta: dict[str, Any] | None = None,
    visibility: str = "internal",
) -> list[Chunk]:
    """Chunks of one document, each carrying title, heading path, section number and metadata."""
    meta = flatten_meta({**document.meta, **(extra_meta or {})})
    chunks: list[Chunk] = []
    for section in document.sections:
        headings = [h for h in section.headings if h]
        number = next((n for n in map(section_number, reversed(headings)) if n), "") or section_number(document.title)
        shown = [h for h in headings if h.strip().lower() != document.title.strip().lower()]
        path = " > ".join(shown)
        for piece in pack_paragraphs(section.text, limit):
            chunks.append(
                Chunk(
                    chunk_id=f"{document.doc_id}#{len(chunks)}",
                    doc_id=document.doc_id,
                    ordinal=len(chunks),
                    title=document.title,
                    section=path,
                    section_number=number,
                    kind=kind,
                    source=source,
                    url=document.url,
                    date=document.date,
                    text=piece,
                    meta=meta,
                    visibility=visibility,
                )
            )
    return chunks
