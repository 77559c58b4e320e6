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


class ManifestIndex:
    """Citation URLs from ``MANIFEST.csv`` files (columns ``local_path`` and ``source_url``)."""

    def __init__(self) -> None:
        self._loaded: dict[Path, dict[Path, str]] = {}

    def url_for(self, path: Path, root: Path) -> str:
        for folder in _folders_up(path.parent, root):
            for name in MANIFEST_NAMES:
                manifest = folder / name
                if manifest.is_file():
                    url = self._table(manifest).get(path.resolve())
                    if url:
                        return url
        return ""

    def _table(self, manifest: Path) -> dict[Path, str]:
        if manifest not in self._loaded:
            table: dict[Path, str] = {}
            with manifest.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    local = row.get("local_path") or row.get("path")
                    url = row.get("source_url") or row.get("url")
                    if local and url:
                        table[(manifest.parent / local).resolve()] = url
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
