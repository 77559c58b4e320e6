"""Typed records shared by ingestion, the index and the skills."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["procurement", "standard", "lesson", "decision", "other"]
KINDS: tuple[Kind, ...] = ("procurement", "standard", "lesson", "decision", "other")

MetaValue = str | int | float | bool

# How each authority tier (knowledge.authority) is named to a reader.
TIER_LABELS: dict[str, str] = {
    "regulation": "regulation",
    "guidance": "official guidance",
    "city": "city handbook",
    "case-study": "case study",
    "blog": "blog post",
}


class Chunk(BaseModel):
    """One retrievable passage of a document, with everything needed to cite it."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    doc_id: str
    ordinal: int
    title: str
    section: str = Field(default="", description="Heading path, e.g. '2. Thresholds > 2.1 Micro-purchases'.")
    section_number: str = Field(default="", description="Deepest numbered heading, e.g. '13.003' or '2.1'.")
    kind: Kind = "other"
    source: str = Field(default="", description="Source file path as given to ingest.")
    url: str = ""
    date: str = ""
    text: str
    meta: dict[str, MetaValue] = Field(default_factory=dict)
    visibility: str = Field(default="internal", description="public, internal or restricted:GROUP[,GROUP…].")

    def embedding_text(self) -> str:
        """What the embedding model sees: the chunk in the context of its title and section."""
        context = " > ".join(part for part in (self.title, self.section) if part)
        return f"{context}\n\n{self.text}" if context else self.text


class Hit(BaseModel):
    """A search result: the best chunk of one document."""

    doc_id: str
    chunk_id: str
    title: str
    section: str
    section_number: str = ""
    kind: Kind
    url: str
    source: str
    date: str = ""
    score: float = Field(description="Fused ranking score (higher is better).")
    dense_score: float | None = Field(default=None, description="Cosine similarity to the query, if ranked.")
    lexical_score: float | None = Field(default=None, description="BM25 score, if matched lexically.")
    text: str
    meta: dict[str, MetaValue] = Field(default_factory=dict)
    duplicates: list[str] = Field(default_factory=list, description="Doc ids of near-duplicates collapsed here.")
    authority: str = Field(default="", description="Authority tier (regulation, guidance, city, case-study, blog).")

    @property
    def link(self) -> str:
        """The citation URL when known, else the source path."""
        return self.url or self.source or self.doc_id


class Citation(BaseModel):
    """A numbered source in an answer."""

    number: int
    doc_id: str
    title: str
    section: str
    url: str
    kind: Kind
    source: str = ""
    authority: str = ""
    date: str = Field(default="", description="ISO date (or year) of the source, empty when unknown.")

    @classmethod
    def from_hit(cls, number: int, hit: Hit) -> Citation:
        section = hit.section_number or hit.section
        return cls(
            number=number,
            doc_id=hit.doc_id,
            title=hit.title,
            section=section,
            url=hit.url,
            kind=hit.kind,
            source=hit.source,
            authority=hit.authority,
            date=hit.date,
        )

    def label(self) -> str:
        """ "Title, §section (regulation, 2025-01-17)": what the source is, how much it counts, how old it is."""
        section = f", §{self.section}" if self.section else ""
        about = ", ".join(part for part in (TIER_LABELS.get(self.authority, ""), self.date) if part)
        return f"{self.title}{section}" + (f" ({about})" if about else "")


def flatten_meta(raw: dict[str, Any]) -> dict[str, MetaValue]:
    """Keep metadata values the vector store can filter on; render the rest as text."""
    flat: dict[str, MetaValue] = {}
    for key, value in raw.items():
        if value is None or value in ("", []):
            continue
        if isinstance(value, bool | int | float | str):
            flat[str(key)] = value
        elif isinstance(value, list | tuple | set):
            flat[str(key)] = ", ".join(str(item) for item in value)
        else:
            flat[str(key)] = str(value)
    return flat
