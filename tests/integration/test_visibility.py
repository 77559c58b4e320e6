"""Visibility on the real index (Chroma + FTS5): set on ingest in every way the issue names, filtered
inside every query, changeable later, and carried over from indexes written before it existed; and the
CLI commands that go with it (`ask --as`, `visibility set`, `decisions add --visibility`, `solicitations`,
`audit export`)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.services import Services
from bot.settings import LIBRARY_DIR
from knowledge.embeddings import SentenceTransformerEmbedder
from knowledge.index import open_index
from knowledge.visibility import PUBLIC, STAFF, Audience, Visibility
from tests.conftest import make_services

EVALUATOR = Audience("internal", frozenset({"U0EVAL", "S0EVAL"}))


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def city(tmp_path: Path) -> Path:
    """A folder with a document for each way of saying who may see it."""
    folder = tmp_path / "city"
    write(
        folder,
        "declared.md",
        "---\nvisibility: restricted:S0EVAL\n---\n# Osprey weights\n\nOsprey scoring is 40/30/30.\n",
    )
    write(folder, "listed.md", "# Heron rates\n\nHeron unit rates are $12 per hour.\n")
    write(folder, "notices/pelican.md", "# Pelican notice\n\nThe Pelican hearing is on 3 March.\n")
    write(folder, "plain.md", "# Gannet memo\n\nThe Gannet budget is $2 million.\n")
    (folder / "MANIFEST.csv").write_text(
        "local_path,source_url,visibility\nlisted.md,https://example.gov/heron,public\n"
    )
    return folder


@pytest.fixture
def services(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Services:
    return make_services(tmp_path / "home", embedder, folder_visibility={"*/notices/*": "public"})


def visible(services: Services, audience: Audience, query: str) -> list[str]:
    return [hit.doc_id for hit in services.workspace(audience).searcher.search(query, k=10)]


def test_ingest_sets_visibility_from_front_matter_manifest_folder_rules_and_the_default(
    city: Path, services: Services
) -> None:
    report = services.ingestor().run([city], services.ingest_options())
    assert report.documents_indexed == 4 and not report.failed
    shown = {doc: services.index.document(doc).visibility for doc in services.index.document_ids()}  # type: ignore[union-attr]
    assert shown == {
        "declared.md": "restricted:S0EVAL",  # front matter
        "listed.md": "public",  # the MANIFEST.csv column
        "notices/pelican.md": "public",  # a per-folder rule in the settings
        "plain.md": "internal",  # the default setting
    }
    everything = "Osprey scoring Heron rates Pelican hearing Gannet budget"
    assert sorted(visible(services, PUBLIC, everything)) == ["listed.md", "notices/pelican.md"]
    assert sorted(visible(services, STAFF, everything)) == ["listed.md", "notices/pelican.md", "plain.md"]
    assert len(visible(services, EVALUATOR, everything)) == 4

    # --visibility for a run overrides the folder rule and the default, not what a document says itself
    again = services.ingestor().run([city], services.ingest_options(visibility=Visibility("public")))
    assert again.documents_indexed == 1  # only plain.md changes: it was internal
    assert services.index.document("plain.md").visibility == "public"  # type: ignore[union-attr]
    assert services.index.document("declared.md").visibility == "restricted:S0EVAL"  # type: ignore[union-attr]


def test_every_kind_of_query_is_filtered_inside_the_index(city: Path, services: Services) -> None:
    services.ingestor().run([city], services.ingest_options())
    public = services.workspace(PUBLIC).index
    staff = services.workspace(STAFF).index
    vector = services.embedder.embed_query("Gannet budget")
    assert "plain.md#0" not in dict(public.dense(vector, 10)) and "plain.md#0" in dict(staff.dense(vector, 10))
    assert not public.lexical("Gannet", 10) and staff.lexical("Gannet", 10)
    assert not public.phrase("Gannet budget", 10) and not public.documents_with("Gannet")
    assert public.frequencies(["Gannet"]) == (2, {"Gannet": 0})  # not even counted
    assert staff.frequencies(["Gannet"])[1] == {"Gannet": 1}
    assert (
        not public.chunks(["plain.md#0"]) and not public.chunks_of("plain.md") and public.document("plain.md") is None
    )
    assert public.stats().documents == 2 and staff.stats().documents == 3
    assert (
        "declared.md" not in staff.document_ids()
        and "declared.md" in services.workspace(EVALUATOR).index.document_ids()
    )
    # answers, term weights and definitions go through the same index
    answer = services.workspace(PUBLIC).assistant.ask("What is the Gannet budget?")
    assert not answer.answered and "$2 million" not in answer.answer


def test_visibility_set_changes_a_document_everywhere_and_for_every_audience(city: Path, services: Services) -> None:
    services.ingestor().run([city], services.ingest_options())
    assert services.index.set_visibility("plain.md", Visibility("public")) == 1
    assert "plain.md" in visible(services, PUBLIC, "Gannet budget")
    assert services.index.set_visibility("plain.md", Visibility("restricted", ("S0EVAL",))) == 1
    assert "plain.md" not in visible(services, STAFF, "Gannet budget")
    assert visible(services, EVALUATOR, "Gannet budget")[0] == "plain.md"
    assert services.index.set_visibility("missing.md", Visibility("public")) == 0


def test_an_index_written_before_visibility_existed_becomes_internal_and_stays_searchable(
    city: Path, services: Services
) -> None:
    services.ingestor().run([city], services.ingest_options())
    directory = services.settings.index_dir
    ids = [f"{doc}#0" for doc in services.index.document_ids()]
    services.index._collection.update(ids=ids, metadatas=[{"visibility": None}] * len(ids))  # the old metadata
    services.close()
    with sqlite3.connect(directory / "catalog.sqlite3") as db:  # the old catalog
        for table, column in (("chunks", "visibility"), ("chunks", "groups"), ("documents", "visibility")):
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    index = open_index(directory)
    try:
        staff, public = index.scoped(STAFF), index.scoped(PUBLIC)
        vector = services.embedder.embed_query("Gannet budget")
        assert "plain.md#0" in dict(staff.dense(vector, 10))  # the vectors got the metadata too
        assert not public.dense(vector, 10) and not public.lexical("Heron", 10)  # fail closed until re-ingested
        assert index.document("listed.md").visibility == "internal"  # type: ignore[union-attr]
    finally:
        index.close()


def test_a_visibility_nobody_can_read_fails_the_file_with_the_reason(tmp_path: Path, services: Services) -> None:
    write(tmp_path / "bad", "odd.md", "---\nvisibility: secret\n---\n# Odd\n\nText.\n")
    report = services.ingestor().run([tmp_path / "bad"], services.ingest_options())
    [failed] = report.failed
    assert "'secret' is not a visibility" in failed.reason and not services.index.document_ids()


def run(home: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args], input=input)
    return result.exit_code, result.stdout + (str(result.exception) if result.exception else "")


def test_the_cli_answers_as_an_audience_and_changes_visibility(city: Path, tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    code, out = run(home, "ingest", str(LIBRARY_DIR), "--visibility", "public", "--json")
    assert code == 0 and all(f["status"] != "failed" for f in json.loads(out)["files"])
    code, _ = run(home, "ingest", str(city), "--json")
    assert code == 0
    code, out = run(home, "ask", "What is the micro-purchase threshold?", "--as", "public", "--json")
    assert json.loads(out)["answered"] is True  # the library is public
    code, out = run(home, "ask", "What is the Gannet budget?", "--as", "public", "--json")
    assert code == 0 and json.loads(out)["answered"] is False and "$2 million" not in out
    code, out = run(home, "ask", "What is the Gannet budget?", "--as", "internal", "--json")
    assert code == 0 and json.loads(out)["answered"] is True and "$2 million" in out
    code, out = run(home, "ask", "What is the Gannet budget?", "--as", "somebody")
    assert code != 0 and "is not an audience" in out

    assert run(home, "visibility", "set", "plain.md", "public")[0] == 0
    code, out = run(home, "ask", "What is the Gannet budget?", "--as", "public", "--json")
    assert json.loads(out)["answered"] is True
    code, out = run(home, "visibility", "set", "nothing.md", "public")
    assert code != 0 and "There is no document 'nothing.md'" in out

    code, out = run(home, "decisions", "add", "--title", "Gannet ceiling", "--decision", "Hold it.", "--json")
    assert code == 0 and json.loads(out)["visibility"] == "internal"  # the record fails closed
    code, out = run(
        home, "decisions", "add", "--title", "Open311", "--decision", "Adopt.", "--visibility", "public", "--json"
    )
    assert code == 0 and json.loads(out)["visibility"] == "public"
    assert run(home, "visibility", "set", "DEC-0001", "public")[0] == 0
    code, out = run(home, "decisions", "show", "DEC-0001", "--json")
    record = json.loads(out)
    assert record["visibility"] == "public" and record["history"][-1]["kind"] == "visibility"


def test_solicitations_and_the_audit_export(tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    code, out = run(
        home, "solicitations", "add", "--id", "RFP-2026-014", "--title", "Transit data platform",
        "--keyword", "Kestrel, RFP 14", "--opens", "2026-01-01", "--closes", "2099-12-31", "--officer", "U0OFFICER",
        "--qa", "procurement@portalder.gov",
    )  # fmt: skip
    assert code == 0, out
    code, out = run(home, "solicitations", "list", "--json")
    [listed] = json.loads(out)
    assert listed["keywords"] == ["Kestrel", "RFP 14"] and listed["closed_at"] is None
    bad = ["solicitations", "add", "--id", "X", "--title", "Bad", "--opens", "2026-05-01", "--closes"]
    code, out = run(home, *bad, "2026-04-01", "--officer", "U0OFFICER")
    assert code != 0 and "cannot close before it opens" in out
    code, out = run(home, *bad, "2026-06-01", "--officer", "nobody")
    assert code != 0 and "Slack user id" in out
    assert run(home, "solicitations", "close", "RFP-2026-014")[0] == 0
    code, out = run(home, "solicitations", "close", "RFP-2026-014")
    assert code != 0 and "no open solicitation" in out

    run(home, "ask", "What is the micro-purchase threshold?", "--as", "public")
    code, out = run(home, "audit", "export", "--since", "2026-01-01", "--format", "json")
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["verb"] == "ask" and record["audience"] == "public" and record["door"] == "cli"
    assert (
        record["outcome"] in ("answered", "declined") and record["question"] == "What is the micro-purchase threshold?"
    )
    code, out = run(home, "audit", "export", "--since", "2026-01-01", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["request_id"] == record["request_id"] and "feedback" in rows[0]
    code, out = run(home, "audit", "export", "--since", "someday")
    assert code != 0 and "is not a date" in out


def test_a_missing_embedding_model_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "CITYBRIDGE_EMBEDDING_MODEL": str(tmp_path / "no-model"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--home", str(tmp_path), "ask", "What is the threshold?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    said = " ".join(done.stderr.split())  # rich wraps long lines
    assert said.startswith("Error: Embedding model directory") and said.endswith("does not exist.")
