"""Errors meant for users: each carries a short, safe message and a way forward."""

from __future__ import annotations


class CityBridgeError(Exception):
    """Base class; ``str(error)`` is safe to show to any user."""


class InputError(CityBridgeError):
    """The request itself is unusable (empty, too long, wrong type)."""


MAX_QUESTION_CHARS = 2000


def check_question(text: str, *, what: str = "question") -> str:
    """The stripped text, or an :class:`InputError` saying what to change."""
    text = (text or "").strip()
    if not text:
        raise InputError(
            f"The {what} is empty: type what you want to know, e.g. 'What is the micro-purchase threshold?'"
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(
            f"The {what} is {len(text):,} characters; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask a shorter question, or use `summarize` for long text."
        )
    return text
