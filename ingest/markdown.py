"""Markdown to sections: headings from markdown-it's token stream, prose rendered as plain text."""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest.cleaning import join_broken_paragraphs, tidy
from ingest.documents import Section


@dataclass
class _Builder:
    sections: list[Section] = field(default_factory=list)
    stack: list[tuple[int, str]] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    first_h1: str = ""

    def flush(self) -> None:
        paragraphs = [tidy(block) for block in join_broken_paragraphs(self.blocks)]
        text = "\n\n".join(p for p in paragraphs if p)
        if text:
            self.sections.append(Section(tuple(title for _, title in self.stack), text))
        self.blocks = []

    def heading(self, level: int, title: str) -> None:
        self.flush()
        if level == 1 and not self.first_h1:
            self.first_h1 = title
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if title:
            self.stack.append((level, title))


_LIST_STEP = {"bullet_list_open": 1, "ordered_list_open": 1, "bullet_list_close": -1, "ordered_list_close": -1}


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def inline_text(token: Token) -> str:
    """Plain text of an inline token: link text kept, images and raw HTML dropped."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts).strip()


def table_row(header: list[str], cells: list[str]) -> str:
    """One table row as a line that names its columns ("Tier: Formal | Approves award: City Manager"),
    so no cell is ever read without the header that gives it meaning."""
    if not header:
        return " | ".join(cells)
    named = [f"{name}: {cell}" if name else cell for name, cell in zip(header, cells, strict=False) if cell]
    return " | ".join(named)


def markdown_sections(body: str) -> tuple[str, list[Section]]:
    """The first level-1 heading (if any) and the sections of a Markdown body."""
    tokens = _parser().parse(body)
    builder = _Builder()
    list_depth = 0
    row: list[str] = []
    header: list[str] = []
    table_rows: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            builder.heading(int(token.tag[1]), inline_text(tokens[index + 1]))
            index += 3
            continue
        if kind in _LIST_STEP:
            list_depth += _LIST_STEP[kind]
        elif kind == "inline" and tokens[index - 1].type in ("th_open", "td_open"):
            row.append(inline_text(token))
        elif kind == "inline":
            text = inline_text(token)
            if text:
                builder.blocks.append(("- " + text) if list_depth else text)
        elif kind == "tr_close":
            if tokens[index - 1].type == "th_close" and not header:
                header = row
            else:
                table_rows.append(table_row(header, row))
            row = []
        elif kind == "table_close":
            builder.blocks.append("\n".join(table_rows))
            table_rows, header = [], []
        elif kind in ("fence", "code_block"):
            code = token.content.strip()
            if code:
                builder.blocks.append(code)
        index += 1
    builder.flush()
    return builder.first_h1, builder.sections
