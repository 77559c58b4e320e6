"""The composition root: builds every service once from :class:`Settings`."""

from __future__ import annotations

from functools import cached_property

from bot.assistant.ask import Assistant
from bot.assistant.skills import GroundedSkills, Skills
from bot.assistant.summarize import Summarizer
from bot.assistant.translate import Translator
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
        return Searcher(self.index, self.embedder, config)

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
        if not self.settings.llm:
            return GroundedSkills(self.assistant, self.translator, self.summarizer)
        from bot.llm import LLMSkills, build_chat_model  # noqa: PLC0415 - LangChain loads only in LLM mode

        model = build_chat_model(self.settings)
        if model is None:  # pragma: no cover - settings.llm is set
            return GroundedSkills(self.assistant, self.translator, self.summarizer)
        return LLMSkills(
            model,
            self.assistant,
            self.translator,
            self.summarizer,
            self.glossary,
            redact_personal_data=self.settings.llm_redact,
        )

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
