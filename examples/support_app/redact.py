"""Keep customers' contact details out of prompts."""

from __future__ import annotations

import re

__all__ = ["redact_contacts"]

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_PHONE_LIKE = re.compile(r"(?<!\w)\+?\d[\d ().-]{7,}\d(?!\w)")


def _phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group())
    return "[phone]" if 9 <= digits <= 15 else match.group()  # not dates or order totals


def redact_contacts(text: str) -> str:
    """``text`` with email addresses and phone numbers replaced by ``[email]`` / ``[phone]``."""
    return _PHONE_LIKE.sub(_phone, _EMAIL.sub("[email]", text))
