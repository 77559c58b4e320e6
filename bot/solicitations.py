"""Open solicitations and the procurement blackout.

While a solicitation is open, a question from someone outside the city that concerns it (a keyword or
alias, or close similarity to its title or its documents) is not answered from the knowledge base: an
answer to one bidder is an unequal disclosure. The person is told to ask the procurement officer in
writing (reviewed wording, ``prompts/notices/blackout.yaml``) and the officer gets a DM. Staff still get
answers.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.errors import InputError
from bot.store import solicitations, writer
from knowledge.embeddings import Embedder
from knowledge.index import KnowledgeIndex

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Solicitation(BaseModel):
    id: str
    title: str = Field(min_length=3, max_length=300)
    keywords: list[str] = Field(default_factory=list, description="Keywords and aliases people use for it.")
    documents: list[str] = Field(default_factory=list, description="Its documents' ids in the knowledge base.")
    opens: dt.date
    closes: dt.date
    officer: str = Field(description="The procurement officer's Slack user id.")
    qa_address: str = Field(default="", description="Where written questions go (an email or a web address).")
    closed_at: float | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value.strip()):
            raise ValueError("an id is letters, digits, '.', '_' or '-' (up to 64), e.g. RFP-2026-014")
        return value.strip()

    @field_validator("officer")
    @classmethod
    def _officer(cls, value: str) -> str:
        if not re.fullmatch(r"[UW][A-Z0-9]{2,20}", value.strip()):
            raise ValueError("the officer is a Slack user id such as U012ABCDEF")
        return value.strip()

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(" ".join(k.split()) for k in value if len(k.strip()) >= 3))

    @model_validator(mode="after")
    def _dates(self) -> Solicitation:
        if self.closes < self.opens:
            raise ValueError("it cannot close before it opens")
        return self

    def is_open(self, today: dt.date) -> bool:
        return self.closed_at is None and self.opens <= today <= self.closes

    def named_in(self, question: str) -> bool:
        """Its id, title or one of its keywords appears in ``question`` as whole words."""
        lowered = question.lower()
        names = [self.id, self.title, *self.keywords]
        return any(re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered) for name in names)


class SolicitationStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, solicitation: Solicitation) -> Solicitation:
        row = solicitation.model_dump()
        row.update(
            keywords=json.dumps(solicitation.keywords),
            documents=json.dumps(solicitation.documents),
            opens=solicitation.opens.isoformat(),
            closes=solicitation.closes.isoformat(),
            created_at=time.time(),
        )
        try:
            with writer(self._engine).begin() as connection:
                connection.execute(insert(solicitations).values(**row))
        except IntegrityError as exc:
            raise InputError(f"There is already a solicitation {solicitation.id}.") from exc
        return solicitation

    def all(self) -> list[Solicitation]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(solicitations).order_by(solicitations.c.opens)).all()
        return [
            Solicitation.model_validate(
                {**row._mapping, "keywords": json.loads(row.keywords), "documents": json.loads(row.documents)}
            )
            for row in rows
        ]

    def open_on(self, today: dt.date) -> list[Solicitation]:
        return [s for s in self.all() if s.is_open(today)]

    def close(self, identifier: str) -> Solicitation:
        with writer(self._engine).begin() as connection:
            done = connection.execute(
                update(solicitations)
                .where(solicitations.c.id == identifier, solicitations.c.closed_at.is_(None))
                .values(closed_at=time.time())
            )
        if not done.rowcount:
            raise InputError(f"There is no open solicitation {identifier!r}.", "`citybridge solicitations list`")
        return next(s for s in self.all() if s.id == identifier)


@dataclass(frozen=True)
class Blackout:
    """Decides whether a question concerns an open solicitation."""

    store: SolicitationStore
    embedder: Embedder
    index: KnowledgeIndex  # unscoped: a solicitation's documents count even when the asker may not see them
    similarity: float = 0.6
    today: Callable[[], dt.date] = dt.date.today
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def concerning(self, question: str) -> Solicitation | None:
        open_now = self.store.open_on(self.today())
        if not open_now or not question.strip():
            return None
        named = next((s for s in open_now if s.named_in(question)), None)
        if named is not None:
            return named
        vector = self.embedder.embed_query(question)
        best = max(open_now, key=lambda s: self._closeness(s, vector))
        return best if self._closeness(best, vector) >= self.similarity else None

    def _closeness(self, solicitation: Solicitation, vector: np.ndarray) -> float:
        stored = self._vectors(solicitation)
        return float(np.max(stored @ vector)) if len(stored) else 0.0

    def _vectors(self, solicitation: Solicitation) -> np.ndarray:
        """Its title, keywords and documents' passages as vectors, computed once per solicitation (not per
        question): every outside question is compared with them."""
        key = solicitation.model_dump_json()
        if key not in self._cache:
            texts = [solicitation.title, *solicitation.keywords]
            chunk_ids = [c.chunk_id for doc in solicitation.documents for c in self.index.chunks_of(doc)]
            rows = [*self.embedder.embed_documents(texts), *self.index.vectors(chunk_ids).values()]
            self._cache[key] = np.asarray(rows, dtype=np.float32)
        return self._cache[key]


def parse_day(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(f"{what} {value!r} is not a date (YYYY-MM-DD).") from exc


def keywords_of(values: Sequence[str]) -> list[str]:
    """``--keyword`` values, each possibly a comma-separated list."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
