"""The composition root: builds every service once from :class:`Settings`."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cached_property

from sqlalchemy import Engine

from bot.assistant.ask import Assistant
from bot.assistant.skills import GroundedSkills, Skills
from bot.assistant.summarize import Summarizer
from bot.assistant.translate import Translator
from bot.audit import AuditLog
from bot.decisions.desk import DecisionDesk
from bot.decisions.models import Decision, SourceRef
from bot.decisions.store import DecisionStore, DecisionView
from bot.settings import Settings
from bot.solicitations import Blackout, SolicitationStore
from ingest.pipeline import IngestOptions, Ingestor, IngestReport, Progress
from ingest.records import RecordColumns
from knowledge.embeddings import SentenceTransformerEmbedder, build_embedder
from knowledge.glossary import Glossary, load_glossary
from knowledge.index import KnowledgeIndex, open_index
from knowledge.models import Kind
from knowledge.search import SearchConfig, Searcher
from knowledge.visibility import PUBLIC_VISIBILITY, STAFF, Audience, Visibility

MAX_WORKSPACES = 512  # the oldest is dropped beyond this; building one again is cheap (no I/O)


class Services:
    """Lazily built, shared services. Nothing heavy happens until a property is used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._workspaces: dict[Audience, Workspace] = {}
        self._lock = threading.Lock()

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        s = self.settings
        return build_embedder(s.embedding_model, batch_size=s.embedding_batch_size, threads=s.embedding_threads)

    @cached_property
    def index(self) -> KnowledgeIndex:
        return open_index(self.settings.index_dir)

    @cached_property
    def glossary(self) -> Glossary:
        return load_glossary()

    @cached_property
    def summarizer(self) -> Summarizer:
        return Summarizer(self.embedder, self.glossary)

    def workspace(self, audience: Audience) -> Workspace:
        """The skills and search that ``audience`` may use, built once per audience."""
        with self._lock:
            if audience not in self._workspaces:
                if len(self._workspaces) >= MAX_WORKSPACES:  # each staff member has their own (their groups)
                    self._workspaces.pop(next(iter(self._workspaces)))
                self._workspaces[audience] = Workspace(self, audience)
            return self._workspaces[audience]

    # The operator's view, for the CLI's maintenance commands and the benchmarks (staff, every
    # unrestricted document). Front doors go through workspace(request.audience) instead.
    @property
    def searcher(self) -> Searcher:
        return self.workspace(STAFF).searcher

    @property
    def assistant(self) -> Assistant:
        return self.workspace(STAFF).assistant

    @property
    def translator(self) -> Translator:
        return self.workspace(STAFF).translator

    @property
    def skills(self) -> Skills:
        return self.workspace(STAFF).skills

    @cached_property
    def engine(self) -> Engine:
        """The shared database (event ledger, feedback, decision record), migrated on first use."""
        from bot.store import build_engine  # noqa: PLC0415 - Alembic loads only when a database is needed

        return build_engine(self.settings.database)

    @cached_property
    def decisions(self) -> DecisionStore:
        return DecisionStore(self.engine, retry_seconds=self.settings.database_retry_seconds)

    @property
    def decision_desk(self) -> DecisionDesk:
        return self.workspace(STAFF).decision_desk

    def index_decisions(self, decisions: Sequence[Decision]) -> int:
        """Keep the knowledge base's copy of these decisions current, so `ask` finds what was decided."""
        from bot.decisions.knowledge import index_decisions  # noqa: PLC0415

        return index_decisions(self.ingestor(), decisions, chunk_chars=self.settings.chunk_chars)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.engine)

    @cached_property
    def solicitations(self) -> SolicitationStore:
        return SolicitationStore(self.engine)

    @cached_property
    def blackout(self) -> Blackout:
        return Blackout(self.solicitations, self.embedder, self.index, similarity=self.settings.blackout_similarity)

    def ingest_options(
        self,
        *,
        kind: Kind | None = None,
        prune: bool = False,
        columns: RecordColumns | None = None,
        visibility: Visibility | None = None,
    ) -> IngestOptions:
        s = self.settings
        return IngestOptions(
            kind=kind,
            prune=prune,
            columns=columns or RecordColumns(),
            chunk_chars=s.chunk_chars,
            max_file_bytes=int(s.max_file_mb * 1024 * 1024),
            visibility=visibility,
            default_visibility=Visibility.parse(s.default_visibility),
            folder_visibility=tuple((pattern, Visibility.parse(v)) for pattern, v in s.folder_visibility.items()),
        )

    def ingestor(self, progress: Progress | None = None) -> Ingestor:
        return Ingestor(self.index, self.embedder, progress=progress)

    def ensure_library(self, progress: Progress | None = None) -> IngestReport:
        """Index the bundled sample knowledge base (a no-op when nothing changed)."""
        options = self.ingest_options(visibility=PUBLIC_VISIBILITY)  # we wrote it for anyone to read
        return self.ingestor(progress).run([self.settings.library_dir], options)

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


class Workspace:
    """Everything one audience may use. Its index is scoped to the audience, so every search, count and
    citation made through it — by any skill, in either mode — holds only what that audience may see."""

    def __init__(self, services: Services, audience: Audience) -> None:
        self.services = services
        self.audience = audience

    @cached_property
    def index(self) -> KnowledgeIndex:
        return self.services.index.scoped(self.audience)

    @cached_property
    def searcher(self) -> Searcher:
        s = self.services.settings
        config = SearchConfig(
            fusion=s.fusion,
            rrf_k=s.rrf_k,
            convex_alpha=s.convex_alpha,
            candidates=s.candidates,
            duplicate_jaccard=s.duplicate_jaccard,
        )
        return Searcher(self.index, self.services.embedder, config, authority=s.authority_policy())

    @cached_property
    def assistant(self) -> Assistant:
        return Assistant(self.searcher, answer_threshold=self.services.settings.answer_threshold)

    @cached_property
    def translator(self) -> Translator:
        return Translator(
            self.services.glossary,
            self.searcher,
            self.services.summarizer,
            self.assistant,
            answer_threshold=self.services.settings.answer_threshold,
        )

    @cached_property
    def skills(self) -> Skills:
        """LLM mode when CITYBRIDGE_LLM is set, grounded mode otherwise."""
        settings = self.services.settings
        if settings.llm:
            from bot.llm import LLMSkills, build_chat_model  # noqa: PLC0415 - LangChain loads only in LLM mode

            model = build_chat_model(settings)
            if model is not None:
                return LLMSkills(
                    model,
                    self.assistant,
                    self.translator,
                    self.services.summarizer,
                    self.services.glossary,
                    redact_personal_data=settings.llm_redact,
                )
        return GroundedSkills(self.assistant, self.translator, self.services.summarizer)

    @cached_property
    def decisions(self) -> DecisionView:
        return DecisionView(self.services.decisions, self.audience)

    @cached_property
    def decision_desk(self) -> DecisionDesk:
        return DecisionDesk(
            self.services.decisions,
            self.services.engine,
            publish=self.services.index_decisions,
            sources=self.decision_sources,
            audience=self.audience,
        )

    def decision_sources(self, text: str, limit: int = 5) -> list[tuple[SourceRef, float]]:
        """Knowledge-base documents (not other decisions) close enough to a draft to have informed it,
        with their cosine similarity, best first."""
        hits = self.searcher.search(text[:2000], k=limit + 3)
        scored = [
            (SourceRef(doc_id=hit.doc_id, title=hit.title, url=hit.url), hit.dense_score or 0.0)
            for hit in hits
            if hit.kind != "decision" and (hit.dense_score or 0.0) >= self.services.settings.answer_threshold
        ]
        return sorted(scored, key=lambda pair: pair[1], reverse=True)[:limit]
