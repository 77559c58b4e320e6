"""What loaders produce: documents split into titled sections, before chunking."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from knowledge.errors import CityBridgeError


class LoadError(CityBridgeError):
    """A file could not be turned into text; the message says why, in words a user understands."""


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path (outermost heading first)."""

    headings: tuple[str, ...]
    text: str


@dataclass
class LoadedDocument:
    """One document from a file (or one record of a records file)."""

    doc_id: str
    title: str
    sections: list[Section]
    url: str = ""
    date: str = ""
    kind: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    visibility: str = ""  # as declared in the document itself (front matter); empty: not declared

    @property
    def text_length(self) -> int:
        return sum(len(section.text) for section in self.sections)

    def content_hash(self, salt: str) -> str:
        """Changes whenever anything that ends up in the index would change."""
        digest = hashlib.sha256(salt.encode())
        payload = {
            "title": self.title,
            "url": self.url,
            "date": self.date,
            "kind": self.kind,
            "meta": self.meta,
            "sections": [[list(s.headings), s.text] for s in self.sections],
        }
        if self.visibility:
            payload["visibility"] = self.visibility
        digest.update(json.dumps(payload, sort_keys=True, default=str).encode())
        return digest.hexdigest()
