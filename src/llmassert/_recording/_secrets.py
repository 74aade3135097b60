"""Keeping secrets out of recordings.

Headers are kept by allow-list (never ``authorization``, ``x-api-key``, cookies, organisation or
project ids). Bodies are scanned before writing for the *values* of secrets in use (every
``*_API_KEY`` / ``*_TOKEN`` / ``*_SECRET`` environment variable, the keys the proxy saw, keys
registered with :func:`register_secret`) and for API-key *shapes* (``sk-...``, ``sk-ant-...``,
AWS, GitHub, Google, Hugging Face, Slack tokens, ``Bearer ...``). A hit is replaced by
``[redacted:<what>]`` and reported.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Redaction",
    "SecretScanner",
    "filter_headers",
    "register_secret",
]

#: Response headers worth keeping (exact names, lower case).
_ALLOWED_HEADERS = frozenset(
    {
        "content-type",
        "x-request-id",
        "request-id",
        "openai-processing-ms",
        "openai-version",
        "retry-after",
        "retry-after-ms",
        "x-should-retry",
    }
)
#: ... and prefixes (rate-limit information).
_ALLOWED_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")

#: Environment variable names whose values are secrets.
_SECRET_ENV = re.compile(
    r"(API_KEY|APIKEY|_TOKEN|_SECRET|SECRET_KEY|_PASSWORD|ACCESS_KEY)$", re.IGNORECASE
)
#: Values shorter than this are not treated as secrets (too many false hits).
_MIN_SECRET_LEN = 8
#: Placeholder keys llmassert itself sets for replay; not secrets.
PLACEHOLDER_KEY = "llmassert-replay-placeholder"

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("api-key-shape sk-", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")),
    ("api-key-shape AWS", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("api-key-shape GitHub", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})")),
    ("api-key-shape Google", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("api-key-shape Hugging Face", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("api-key-shape Slack", re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}")),
    ("bearer token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{16,}=*")),
)

_registered: dict[str, str] = {}
_registered_lock = threading.Lock()


def register_secret(value: str | None, label: str = "registered key") -> None:
    """Treat ``value`` as a secret in every later scan (e.g. the key a model was built with)."""
    if value and len(value) >= _MIN_SECRET_LEN and value != PLACEHOLDER_KEY:
        with _registered_lock:
            _registered.setdefault(value, label)


def filter_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed headers, lower-cased, sorted: never credentials, cookies or org ids."""
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _ALLOWED_HEADERS or lower.startswith(_ALLOWED_PREFIXES):
            kept[lower] = value
    return dict(sorted(kept.items()))


@dataclass(frozen=True)
class Redaction:
    """One secret removed before writing: ``what`` it was (never the value), ``where`` it was."""

    what: str
    where: str

    def describe(self) -> str:
        return f"{self.what} in {self.where}"


def _snapshot(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The environment's items; another thread (a test's monkeypatch) may change it meanwhile."""
    for _ in range(5):
        try:
            return list(env.items())
        except (RuntimeError, KeyError):  # pragma: no cover - a concurrent change
            continue
    return list(env.items())  # pragma: no cover


class SecretScanner:
    """Finds and redacts secrets in JSON-like values."""

    def __init__(
        self, extra: Iterable[tuple[str, str]] = (), env: Mapping[str, str] | None = None
    ) -> None:
        self._extra = dict(extra)
        self._env = env
        self._lock = threading.Lock()  # the proxy adds keys from its own thread

    def add(self, value: str | None, label: str) -> None:
        if value and len(value) >= _MIN_SECRET_LEN and value != PLACEHOLDER_KEY:
            with self._lock:
                self._extra.setdefault(value, label)

    def _known(self) -> dict[str, str]:
        env = os.environ if self._env is None else self._env
        known: dict[str, str] = {}
        for name, value in _snapshot(env):
            if (
                _SECRET_ENV.search(name)
                and len(value) >= _MIN_SECRET_LEN
                and value != PLACEHOLDER_KEY
            ):
                known.setdefault(value, name)
        with _registered_lock:
            for value, label in _registered.items():
                known.setdefault(value, label)
        with self._lock:
            for value, label in self._extra.items():
                known.setdefault(value, label)
        return known

    def redact(self, value: Any, where: str) -> tuple[Any, list[Redaction]]:
        """Return ``value`` with every secret replaced, and what was replaced."""
        known = self._known()
        # Longest first, so a key that contains another is replaced whole.
        ordered = sorted(known, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        found: list[Redaction] = []

        def scrub(text: str, at: str) -> str:
            if pattern is not None and pattern.search(text):

                def by_value(match: re.Match[str]) -> str:
                    label = known[match.group(0)]
                    found.append(Redaction(label, at))
                    return f"[redacted:{label}]"

                text = pattern.sub(by_value, text)
            for label, shape in _SHAPES:
                if shape.search(text):

                    def by_shape(match: re.Match[str], label: str = label) -> str:
                        found.append(Redaction(label, at))
                        return f"[redacted:{label}]"

                    text = shape.sub(by_shape, text)
            return text

        def walk(item: Any, at: str) -> Any:
            if isinstance(item, str):
                return scrub(item, at)
            if isinstance(item, Mapping):
                return {scrub(str(k), at): walk(v, at) for k, v in item.items()}
            if isinstance(item, (list, tuple)):
                return [walk(v, at) for v in item]
            return item

        return walk(value, where), found
