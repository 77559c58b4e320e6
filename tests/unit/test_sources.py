"""Sidecar manifests: citation URLs, authority tiers and dates for files that carry none themselves."""

from __future__ import annotations

from pathlib import Path

from ingest.sources import ManifestEntry, ManifestIndex


def test_manifest_rows_give_url_authority_and_date(tmp_path: Path) -> None:
    (tmp_path / "far").mkdir()
    (tmp_path / "far" / "2.101.md").write_text("# 2.101\n\nText.\n")
    (tmp_path / "blog.md").write_text("# Post\n\nText.\n")
    (tmp_path / "MANIFEST.csv").write_text(
        "local_path,source_url,authority,date\n"
        "far/2.101.md,https://example.gov/2.101,regulation,2025-10-01\n"
        "blog.md,https://example.gov/blog,,\n"
    )
    manifests = ManifestIndex()
    entry = manifests.entry_for(tmp_path / "far" / "2.101.md", tmp_path)
    assert entry == ManifestEntry("https://example.gov/2.101", "regulation", "2025-10-01")
    blog = manifests.entry_for(tmp_path / "blog.md", tmp_path)
    assert blog == ManifestEntry("https://example.gov/blog")
    assert blog.salt() == "https://example.gov/blog"  # a URL-only row hashes as before: no re-embedding
    assert manifests.entry_for(tmp_path / "missing.md", tmp_path) == ManifestEntry()
