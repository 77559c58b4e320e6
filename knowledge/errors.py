"""The root of every error meant for a person: its message is safe to show anyone who asked."""

from __future__ import annotations


class CityBridgeError(Exception):
    """``str(error)`` is safe to show to any user; ``hint`` says what to do next (may be empty).

    Every front door catches this one class the same way. Anything else is a bug: it is logged with a
    reference id and the person gets a short reason with that id.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint
