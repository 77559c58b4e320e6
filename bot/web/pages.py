"""Rendering the public pages: a Jinja2 environment built on demand, and the filters the templates need."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

# Pages for the public: nothing runs in the page, nothing loads from elsewhere, nobody may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_BLANK_LINES = re.compile(r"\n\s*\n")


def build_templates() -> Environment:
    """The templates shipped in ``bot/web/templates``; autoescaped, and a missing variable is an error, not ''."""
    environment = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["paragraphs"] = paragraphs
    environment.filters["oneline"] = oneline
    return environment


def paragraphs(text: str) -> list[str]:
    """Blank lines separate paragraphs; single line breaks are kept by CSS (``white-space: pre-line``)."""
    return [part.strip() for part in _BLANK_LINES.split(text) if part.strip()]


def oneline(text: str) -> str:
    """All whitespace as single spaces: for attributes such as the meta description."""
    return " ".join(text.split())


def safe_href(url: str) -> str | None:
    """Only web links become ``href``s: a stored ``javascript:`` or ``file:`` URL is shown as text, never linked."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def utc(timestamp: float) -> tuple[str, str]:
    """A stored epoch time as (ISO 8601 for ``<time datetime>``, ``YYYY-MM-DD HH:MM`` for people), both UTC."""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return moment.isoformat(timespec="seconds"), moment.strftime("%Y-%m-%d %H:%M")


def base_path(request: Request) -> str:
    """The mount prefix (uvicorn's ``--root-path`` behind a proxy), so links work under a sub-path too.

    Inside a ``Mount`` (the static files) ``root_path`` grows by the mount's path; ``app_root_path`` keeps the
    application's own, which is what links need, as Starlette's ``Request.base_url`` does.
    """
    scope = request.scope
    return str(scope.get("app_root_path", scope.get("root_path", ""))).rstrip("/")


def render(
    templates: Environment, request: Request, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = templates.get_template(name).render(base=base_path(request), **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
