"""Request headers and query parameters as the request log keeps them: secrets fingerprinted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["SECRET_HEADERS", "SECRET_QUERY_PARAMS", "fingerprint", "safe_headers", "safe_query"]

#: Headers whose values are never stored: replaced by :func:`fingerprint`.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
    }
)

#: Query parameters that carry keys in some clients (Azure ``api-key``, Gemini-style ``key``,
#: signed URLs): their values are fingerprinted too (names compared case-insensitively).
SECRET_QUERY_PARAMS = frozenset(
    {"key", "api-key", "api_key", "apikey", "access_token", "token", "sig", "signature"}
)


def fingerprint(value: str) -> str:
    """``sha256:<first 8 hex digits>`` of ``value``: tells keys apart without storing them.

    For ``Authorization: Bearer KEY`` the fingerprint is of the whole header value; use
    ``fingerprint("Bearer " + key)`` to compare.
    """
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def safe_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased headers with secret values fingerprinted (repeated headers joined by ``, ``)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in items:
        name = raw_name.lower()
        value = fingerprint(raw_value) if name in SECRET_HEADERS else raw_value
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def safe_query(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Query parameters with secret values fingerprinted (repeated ones: the last wins)."""
    return {
        name: fingerprint(value) if name.lower() in SECRET_QUERY_PARAMS else value
        for name, value in items
    }
