"""Text cleaning: front matter, site-generator noise, and prose repair (pure functions)."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import yaml

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?:(.*?)\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)

# Liquid: comment blocks go entirely; other tags and output expressions are dropped, their body kept.
_LIQUID_COMMENT = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.DOTALL)
_LIQUID_CAPTURE = re.compile(r"{%-?\s*capture\b.*?-?%}|{%-?\s*endcapture\s*-?%}", re.DOTALL)
_LIQUID_TAG = re.compile(r"{%-?.*?-?%}", re.DOTALL)
_LIQUID_OUTPUT = re.compile(r"{{-?(?!<|%).*?-?}}", re.DOTALL)
# Hugo shortcodes: {{< name args >}} and {{% name args %}}, opening or closing.
_HUGO = re.compile(r"{{[<%]\s*/?\s*[\w\-./]+.*?[>%]}}", re.DOTALL)
# MDX: module lines, expression comments, and JSX components (capitalised tags).
_MDX_MODULE = re.compile(r"^(?:import|export)\s.*?(?:;|$)(?:\n(?=\s))?", re.MULTILINE)
_MDX_COMMENT = re.compile(r"{/\*.*?\*/}", re.DOTALL)
_JSX_SELF_CLOSING = re.compile(r"<[A-Z][\w.]*(?:\s(?:[^<>{}]|{(?:[^{}]|{[^{}]*})*})*)?/>", re.DOTALL)
_JSX_TAG = re.compile(r"</?[A-Z][\w.]*(?:\s(?:[^<>{}]|{(?:[^{}]|{[^{}]*})*})*)?>", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_DROP = re.compile(r"<(script|style|svg|iframe)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_HTML_BLOCK_TAG = re.compile(r"</?(?:p|div|br|li|ul|ol|h[1-6]|tr|table|section|blockquote)\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>")

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?)\]])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[])[ \t]+")
_MULTI_SPACE = re.compile(r"[ \t\u00a0]{2,}")
# A closing quote ends a sentence only after a stop ('… "done."'); "offerors'" is a possessive, not an end.
_SENTENCE_END = re.compile(r"(?:[.!?:;)]|[.!?][\"'”’])\s*$")
_LOOSE_APOSTROPHE = re.compile(r"(\w) ([’'](?:s\b)?)(?=[\s,.;:)]|$)")


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as text: real front matter has dates like 2018-02-30."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(node.value)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter as a dict, and the body after it. Broken front matter is kept as text."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.load(match.group(1) or "", Loader=_FrontMatterLoader) or {}  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return {str(key): value for key, value in data.items()}, text[match.end() :]


def strip_site_noise(text: str) -> str:
    """Remove Liquid, Hugo-shortcode, MDX/JSX and raw-HTML markup, keeping the prose inside it."""
    text = _LIQUID_COMMENT.sub("", text)
    text = _LIQUID_CAPTURE.sub("", text)
    text = _LIQUID_TAG.sub("", text)
    text = _HUGO.sub("", text)
    text = _LIQUID_OUTPUT.sub("", text)
    text = _MDX_COMMENT.sub("", text)
    text = _MDX_MODULE.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_DROP.sub("", text)
    text = _JSX_SELF_CLOSING.sub("", text)
    text = _JSX_TAG.sub("\n", text)
    text = _HTML_BLOCK_TAG.sub("\n\n", text)
    text = _HTML_TAG.sub("", text)
    return html.unescape(text)


def tidy(text: str) -> str:
    """Normalise spacing the way a reader expects (PDF and FAR extractions are full of stray spaces)."""
    text = text.replace("\u00ad", "").replace("\r\n", "\n").replace("\r", "\n")
    text = _MULTI_SPACE.sub(" ", text)
    text = _LOOSE_APOSTROPHE.sub(r"\1\2", text)  # the FAR extraction's "offerors ' price", "offeror ’s plan"
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub(r"\1", text)
    return text.strip()


def join_broken_paragraphs(paragraphs: list[str]) -> list[str]:
    """Re-join paragraphs that a hard-wrapped extraction split mid-sentence.

    The FAR markdown puts a blank line after every printed line, so "the micro-" and "purchase
    threshold" arrive as separate paragraphs. A paragraph that does not end a sentence and is followed
    by one that starts in lower case is a continuation; in a text that is hard-wrapped throughout, so
    is one followed by a capitalised word ("Wage Rate" / "Requirements"), unless a list item starts.
    """
    wrapped = looks_hard_wrapped(paragraphs)
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and _continues(joined[-1], paragraph, wrapped=wrapped):
            previous = joined[-1]
            glue = "" if previous.endswith("-") and paragraph[:1].islower() else " "
            joined[-1] = previous + glue + paragraph
        else:
            joined.append(paragraph)
    return joined


_STRUCTURE = ("|", "#", "-", "*", ">")
_LIST_START = re.compile(r"^(?:\(\w{1,4}\)|\d{1,3}[.)]\s|[•◦▪]\s)")


def looks_hard_wrapped(paragraphs: list[str]) -> bool:
    """True when most prose paragraphs stop mid-sentence: the text was printed lines, not paragraphs."""
    prose = [p for p in paragraphs if p and not p.lstrip().startswith(_STRUCTURE)]
    if len(prose) < 4:
        return False
    open_ended = sum(1 for p in prose if not _SENTENCE_END.search(p))
    return open_ended / len(prose) >= 0.4


def _continues(previous: str, paragraph: str, *, wrapped: bool = False) -> bool:
    if not previous or not paragraph or _SENTENCE_END.search(previous):
        return False
    if previous.lstrip().startswith(_STRUCTURE):
        return False
    first = paragraph[0]
    if first.islower():
        return True
    if paragraph.startswith(("(", "|")) or _LIST_START.match(paragraph):
        return False
    return previous.endswith(("-", ",")) or (wrapped and len(previous) >= 40 and not paragraph.startswith(_STRUCTURE))


def unwrap_lines(text: str) -> str:
    """Join hard-wrapped lines into paragraphs (blank lines separate paragraphs); mend hyphenation."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        merged = lines[0]
        for line in lines[1:]:
            if merged.endswith("-") and line[:1].islower():
                merged = merged[:-1] + line
            else:
                merged += " " + line
        paragraphs.append(merged)
    return "\n\n".join(paragraphs)


def normalise_date(value: Any) -> str:
    """An ISO date string from front matter values (dates, datetimes, strings, years)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and 1900 <= value <= 2100:
        return str(value)
    if isinstance(value, str):
        match = re.search(r"\d{4}-\d{2}-\d{2}", value)
        if match:
            return match.group(0)
        match = re.fullmatch(r"\s*(\d{4})\s*", value)
        if match:
            return match.group(1)
    return ""


def date_from_name(name: str) -> str:
    """Blog-style file names start with their date (``2015-01-08-title.md``)."""
    match = _DATE_IN_NAME.search(name)
    if not match:
        return ""
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return ""


def title_from_name(name: str) -> str:
    """A readable title from a file name: ``2015-01-08-how-to-buy.md`` → ``How to buy``."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _DATE_IN_NAME.sub("", stem).strip("-_ ")
    words = re.sub(r"[-_]+", " ", stem).strip()
    return (words[:1].upper() + words[1:]) if words else name
