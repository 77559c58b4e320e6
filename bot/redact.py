"""Redaction of resident personal data before text leaves for an external model."""

from __future__ import annotations

import re

_STREET_TYPES = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|terrace|ter|"
    r"parkway|pkwy|highway|hwy|circle|cir|trail|trl"
)
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[EMAIL]", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("[SSN]", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("[PHONE]", re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b")),
    (
        "[ADDRESS]",
        re.compile(
            rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){{1,3}}(?:{_STREET_TYPES})\b\.?"
            r"(?:,?\s+(?:apt|apartment|unit|suite|ste|#)\.?\s*\w+)?",
            re.IGNORECASE,
        ),
    ),
)


def redact(text: str) -> str:
    """``text`` with emails, SSN-like numbers, phone numbers and street addresses replaced by labels."""
    for label, pattern in PATTERNS:
        text = pattern.sub(label, text)
    return text
