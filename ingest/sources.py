"""Finding files to ingest, their kind, and their citation URLs from sidecar manifests."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from knowledge.models import KINDS, Kind

MANIFEST_NAMES = ("MANIFEST.csv", "manifest.csv")
_KIND_BY_FOLDER: dict[str, Kind] = {
    "procurement": "procurement",
    "purchasing": "procurement",
    "acquisition": "procurement",
    "contracts": "procurement",
    "far": "procurement",
    "standards": "standard",
    "standard": "standard",
    "policies": "standard",
    "policy": "standard",
    "lessons": "lesson",
    "lessons-learned": "lesson",
    "lessons_learned": "lesson",
    "case-studies": "lesson",
    "retrospectives": "lesson",
    "decisions": "decision",
    "decision-records": "decision",
    "adr": "decision",
    "adrs": "decision",
}


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest: where it is, the folder its id is relative to, and that id."""

    path: Path
    root: Path

    @property
    def doc_id(self) -> str:
        return self.path.relative_to(self.root).as_posix()


def discover(target: Path) -> Iterator[SourceFile]:
    """Files under ``target`` (or ``target`` itself), skipping hidden files and manifests."""
    target = target.resolve()
    if target.is_file():
        yield SourceFile(target, target.parent)
        return
    for folder, dirs, files in os.walk(target):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")) and d != "node_modules")
        for name in sorted(files):
            if not name.startswith("."):
                yield SourceFile(Path(folder) / name, target)


def is_manifest(path: Path) -> bool:
    return path.name in MANIFEST_NAMES


def infer_kind(source: SourceFile, declared: str = "") -> Kind:
    """A kind from the document itself, else from the folders on its path, else ``other``."""
    if declared in KINDS:
        return declared
    parts = [source.root.name, *source.path.relative_to(source.root).parts[:-1]]
    for part in reversed(parts):
        kind = _KIND_BY_FOLDER.get(part.lower())
        if kind:
            return kind
    return "other"


@dataclass(frozen=True)
class ManifestEntry:
    """What a ``MANIFEST.csv`` row says about a file: its citation URL, authority tier and date."""

    url: str = ""
    authority: str = ""
    date: str = ""
    visibility: str = ""

    def salt(self) -> str:
        """Changes the content hash only when the row carries more than a URL (old indexes stay valid)."""
        extra = f"|{self.authority}|{self.date}" if self.authority or self.date else ""
        return self.url + extra + (f"|{self.visibility}" if self.visibility else "")


class ManifestIndex:
    """Rows of ``MANIFEST.csv`` files (columns ``local_path``, ``source_url``, optional ``authority``, ``date``,
    ``visibility``)."""

    def __init__(self) -> None:
        self._loaded: dict[Path, dict[Path, ManifestEntry]] = {}

    def url_for(self, path: Path, root: Path) -> str:
        return self.entry_for(path, root).url

    def entry_for(self, path: Path, root: Path) -> ManifestEntry:
        for folder in _folders_up(path.parent, root):
            for name in MANIFEST_NAMES:
                manifest = folder / name
                if manifest.is_file():
                    entry = self._table(manifest).get(path.resolve())
                    if entry:
                        return entry
        return ManifestEntry()

    def _table(self, manifest: Path) -> dict[Path, ManifestEntry]:
        if manifest not in self._loaded:
            table: dict[Path, ManifestEntry] = {}
            with manifest.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    local = row.get("local_path") or row.get("path")
                    if not local:
                        continue
                    entry = ManifestEntry(
                        url=(row.get("source_url") or row.get("url") or "").strip(),
                        authority=(row.get("authority") or "").strip(),
                        date=(row.get("date") or "").strip(),
                        visibility=(row.get("visibility") or "").strip(),
                    )
                    if entry != ManifestEntry():
                        table[(manifest.parent / local).resolve()] = entry
            self._loaded[manifest] = table
        return self._loaded[manifest]


def _folders_up(start: Path, root: Path, extra_levels: int = 3) -> Iterator[Path]:
    """``start`` and its parents up to ``root``, then a few more (a sub-folder of a corpus)."""
    folder = start
    while True:
        yield folder
        if folder in (root, folder.parent):
            break
        folder = folder.parent
    for _ in range(extra_levels):
        if folder.parent == folder:
            return
        folder = folder.parent
        yield folder
