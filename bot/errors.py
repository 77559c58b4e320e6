"""Errors meant for users: one hierarchy, rooted in :class:`CityBridgeError`, each with a safe message
and a way forward. Every front door catches ``CityBridgeError`` the same way (see :mod:`bot.dispatch`);
anything else is logged with a reference id and answered with a short reason.
"""

from __future__ import annotations

from knowledge.errors import CityBridgeError

__all__ = ["MAX_QUESTION_CHARS", "CityBridgeError", "InputError", "NotAllowedError", "check_question"]


class InputError(CityBridgeError):
    """The request itself is unusable (empty, too long, wrong type)."""


class NotAllowedError(CityBridgeError):
    """The person may not do this here (the message never says what exists)."""


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
