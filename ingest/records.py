"""Record files (CSV, TSV, JSONL, JSON arrays): one document per row.

Lessons-learned archives are usually spreadsheets, and benchmark corpora are BEIR ``corpus.jsonl``
files; both become documents whose id is the id column and whose other fields are metadata.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.cleaning import normalise_date, tidy
from ingest.documents import LoadedDocument, LoadError, Section

ID_COLUMNS = ("_id", "id", "doc_id", "docid", "uid", "key")
TITLE_COLUMNS = ("title", "name", "headline", "subject")
TEXT_COLUMNS = ("text", "body", "content", "description", "summary", "abstract")
URL_COLUMNS = ("url", "source_url", "link", "citation_url")
DATE_COLUMNS = ("date", "published", "year")


@dataclass(frozen=True)
class RecordColumns:
    """Which columns hold the id, the title and the text; ``None`` means detect them."""

    id: str | None = None
    title: str | None = None
    text: tuple[str, ...] = ()

    def describe(self) -> str:
        return json.dumps({"id": self.id, "title": self.title, "text": list(self.text)})


def load_records(path: Path, doc_id: str, text: str, columns: RecordColumns) -> list[LoadedDocument] | None:
    """Documents for each row, or ``None`` when a ``.json`` file is not a list of records."""
    rows = _read_rows(path, text)
    if rows is None:
        return None
    if not rows:
        raise LoadError("no records in file")
    fields = list(dict.fromkeys(key for row in rows[:50] for key in row))
    id_col = _pick(columns.id, fields, ID_COLUMNS, "id")
    title_col = _pick(columns.title, fields, TITLE_COLUMNS, "title")
    text_cols = _text_columns(columns.text, fields, {id_col, title_col})
    url_col = _pick(None, fields, URL_COLUMNS, "url")
    date_col = _pick(None, fields, DATE_COLUMNS, "date")
    documents: list[LoadedDocument] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        record_id = str(row.get(id_col, "")).strip() if id_col else ""
        record_id = record_id or f"{doc_id}#row{number}"
        if record_id in seen:
            raise LoadError(f"duplicate record id {record_id!r} (row {number})")
        seen.add(record_id)
        body = _record_text(row, text_cols)
        if not body:
            continue
        title = str(row.get(title_col, "")).strip() if title_col else ""
        documents.append(
            LoadedDocument(
                doc_id=record_id,
                title=tidy(title) or record_id,
                sections=[Section((), body)],
                url=str(row.get(url_col, "")).strip() if url_col else "",
                date=normalise_date(row.get(date_col)) if date_col else "",
                meta=_record_meta(row, {id_col, *(text_cols if len(text_cols) == 1 else ())}),
            )
        )
    if not documents:
        raise LoadError("records have no text in the text columns")
    return documents


def _read_rows(path: Path, text: str) -> list[dict[str, Any]] | None:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        try:
            dialect: type[csv.Dialect] = csv.excel_tab if suffix == ".tsv" else csv.excel
            reader = csv.DictReader(io.StringIO(text), dialect=dialect)
            return [{k.strip(): v for k, v in row.items() if k} for row in reader]
        except csv.Error as exc:
            raise LoadError(f"malformed {suffix[1:].upper()} ({exc})") from exc
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
            return data
        return None
    return parse_jsonl(text)


def parse_jsonl(text: str) -> list[dict[str, Any]]:
    """One JSON object per non-blank line; the error names the first bad line."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(f"line {number} is not valid JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise LoadError(f"line {number} is not a JSON object")
        rows.append(item)
    return rows


def _pick(explicit: str | None, fields: list[str], candidates: tuple[str, ...], role: str) -> str | None:
    if explicit:
        if explicit not in fields:
            raise LoadError(f"{role} column {explicit!r} not found (columns: {', '.join(fields)})")
        return explicit
    lowered = {field.lower(): field for field in fields}
    return next((lowered[name] for name in candidates if name in lowered), None)


def _text_columns(explicit: tuple[str, ...], fields: list[str], exclude: set[str | None]) -> list[str]:
    if explicit:
        missing = [name for name in explicit if name not in fields]
        if missing:
            raise LoadError(f"text column(s) {', '.join(missing)} not found (columns: {', '.join(fields)})")
        return list(explicit)
    lowered = {field.lower(): field for field in fields}
    for name in TEXT_COLUMNS:
        if name in lowered:
            return [lowered[name]]
    # No obvious text column (a lessons spreadsheet): every descriptive column, labelled.
    return [f for f in fields if f not in exclude and f.lower() not in URL_COLUMNS]


def _record_text(row: dict[str, Any], columns: list[str]) -> str:
    if len(columns) == 1:
        return tidy(_as_text(row.get(columns[0])))
    parts = []
    for column in columns:
        value = _as_text(row.get(column))
        if value:
            parts.append(f"{_label(column)}: {tidy(value)}")
    return "\n\n".join(parts)


def _record_meta(row: dict[str, Any], exclude: set[str | None]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key, value in row.items():
        if key in exclude:
            continue
        if isinstance(value, dict):  # BEIR keeps extra fields under "metadata"
            meta.update({str(k): v for k, v in value.items()})
        else:
            meta[key] = value
    return meta


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value).strip()


def _label(column: str) -> str:
    words = column.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]
