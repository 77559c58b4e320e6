"""The composition root: builds every service once from :class:`Settings`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from sqlalchemy import Engine

from bot.assistant.ask import Assistant
from bot.assistant.skills import GroundedSkills, Skills
from bot.assistant.summarize import Summarizer
from bot.assistant.translate import Translator
from bot.decisions.desk import DecisionDesk
from bot.decisions.models import Decision, SourceRef
from bot.decisions.store import DecisionStore
from bot.settings import Settings
from ingest.pipeline import IngestOptions, Ingestor, IngestReport, Progress
from ingest.records import RecordColumns
from knowledge.embeddings import SentenceTransformerEmbedder, build_embedder
from knowledge.glossary import Glossary, load_glossary
from knowledge.index import KnowledgeIndex, open_index
from knowledge.models import Kind
from knowledge.search import SearchConfig, Searcher


class Services:
    """Lazily built, shared services. Nothing heavy happens until a property is used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        s = self.settings
        return build_embedder(s.embedding_model, batch_size=s.embedding_batch_size, threads=s.embedding_threads)

    @cached_property
    def index(self) -> KnowledgeIndex:
        return open_index(self.settings.index_dir)

    @cached_property
    def searcher(self) -> Searcher:
        s = self.settings
        config = SearchConfig(
            fusion=s.fusion,
            rrf_k=s.rrf_k,
            convex_alpha=s.convex_alpha,
            candidates=s.candidates,
            duplicate_jaccard=s.duplicate_jaccard,
        )
        return Searcher(self.index, self.embedder, config, authority=s.authority_policy())

    @cached_property
    def glossary(self) -> Glossary:
        return load_glossary()

    @cached_property
    def assistant(self) -> Assistant:
        return Assistant(self.searcher, answer_threshold=self.settings.answer_threshold)

    @cached_property
    def summarizer(self) -> Summarizer:
        return Summarizer(self.embedder, self.glossary)

    @cached_property
    def translator(self) -> Translator:
        return Translator(
            self.glossary,
            self.searcher,
            self.summarizer,
            self.assistant,
            answer_threshold=self.settings.answer_threshold,
        )

    @cached_property
    def skills(self) -> Skills:
        """LLM mode when CITYBRIDGE_LLM is set, grounded mode otherwise."""
        if self.settings.llm:
            from bot.llm import LLMSkills, build_chat_model  # noqa: PLC0415 - LangChain loads only in LLM mode

            model = build_chat_model(self.settings)
            if model is not None:
                return LLMSkills(
                    model,
                    self.assistant,
                    self.translator,
                    self.summarizer,
                    self.glossary,
                    redact_personal_data=self.settings.llm_redact,
                )
        return GroundedSkills(self.assistant, self.translator, self.summarizer)

    @cached_property
    def engine(self) -> Engine:
        """The shared database (event ledger, feedback, decision record), migrated on first use."""
        from bot.store import build_engine  # noqa: PLC0415 - Alembic loads only when a database is needed

        return build_engine(self.settings.database)

    @cached_property
    def decisions(self) -> DecisionStore:
        return DecisionStore(self.engine, retry_seconds=self.settings.database_retry_seconds)

    @cached_property
    def decision_desk(self) -> DecisionDesk:
        return DecisionDesk(self.decisions, self.engine, publish=self.index_decisions, sources=self.decision_sources)

    def index_decisions(self, decisions: Sequence[Decision]) -> int:
        """Keep the knowledge base's copy of these decisions current, so `ask` finds what was decided."""
        from bot.decisions.knowledge import index_decisions  # noqa: PLC0415

        return index_decisions(self.ingestor(), decisions, chunk_chars=self.settings.chunk_chars)

    def decision_sources(self, text: str, limit: int = 5) -> list[tuple[SourceRef, float]]:
        """Knowledge-base documents (not other decisions) close enough to a draft to have informed it,
        with their cosine similarity, best first."""
        hits = self.searcher.search(text[:2000], k=limit + 3)
        scored = [
            (SourceRef(doc_id=hit.doc_id, title=hit.title, url=hit.url), hit.dense_score or 0.0)
            for hit in hits
            if hit.kind != "decision" and (hit.dense_score or 0.0) >= self.settings.answer_threshold
        ]
        return sorted(scored, key=lambda pair: pair[1], reverse=True)[:limit]

    def ingest_options(
        self, *, kind: Kind | None = None, prune: bool = False, columns: RecordColumns | None = None
    ) -> IngestOptions:
        return IngestOptions(
            kind=kind,
            prune=prune,
            columns=columns or RecordColumns(),
            chunk_chars=self.settings.chunk_chars,
            max_file_bytes=int(self.settings.max_file_mb * 1024 * 1024),
        )

    def ingestor(self, progress: Progress | None = None) -> Ingestor:
        return Ingestor(self.index, self.embedder, progress=progress)

    def ensure_library(self, progress: Progress | None = None) -> IngestReport:
        """Index the bundled sample knowledge base (a no-op when nothing changed)."""
        return self.ingestor(progress).run([self.settings.library_dir], self.ingest_options())

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
