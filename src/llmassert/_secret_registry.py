"""The process-wide registry of secret values, shared by every layer.

The model layer registers what it sends (API keys, endpoint header values) and masks messages
with :func:`mask_secrets`; the recording layer redacts the same values (and more: key *shapes*)
before anything is written. Both import this module, which imports nothing of llmassert's, so
the model layer never needs the recording layer.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping

__all__ = [
    "MIN_SECRET_LEN",
    "PLACEHOLDERS",
    "env_secrets",
    "is_secret_env_name",
    "known_secrets",
    "mask_secrets",
    "register_secret",
    "registered_secrets",
]

#: Values shorter than this are not treated as secrets (too many false hits).
MIN_SECRET_LEN = 8
#: Placeholder keys llmassert itself sends (replay, key-less endpoints): not secrets.
PLACEHOLDERS = frozenset({"llmassert-replay-placeholder", "llmassert-no-key"})

#: Environment variable names whose values are secrets.
_SECRET_ENV = re.compile(
    r"(API_KEY|APIKEY|_TOKEN|_SECRET|SECRET_KEY|_PASSWORD|ACCESS_KEY)$", re.IGNORECASE
)

_registered: dict[str, str] = {}
_lock = threading.Lock()


def _is_candidate(value: str | None) -> bool:
    return bool(value) and len(value or "") >= MIN_SECRET_LEN and value not in PLACEHOLDERS


def is_secret_env_name(name: str) -> bool:
    """Whether an environment variable of this name holds a secret (``*_API_KEY``, ...)."""
    return _SECRET_ENV.search(name) is not None


def register_secret(value: str | None, label: str = "registered key") -> None:
    """Treat ``value`` as a secret from now on: masked in messages, redacted before writing.
    ``label`` says what it is (``$OPENAI_API_KEY``), never the value."""
    if _is_candidate(value):
        assert value is not None
        with _lock:
            _registered.setdefault(value, label)


def registered_secrets() -> dict[str, str]:
    """Every registered secret value and its label."""
    with _lock:
        return dict(_registered)


def _snapshot(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The environment's items; another thread (a test's monkeypatch) may change it meanwhile."""
    for _ in range(5):
        try:
            return list(env.items())
        except (RuntimeError, KeyError):  # pragma: no cover - a concurrent change
            continue
    return list(env.items())  # pragma: no cover


def env_secrets(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values of secret-named environment variables, labelled by the variable's name."""
    found: dict[str, str] = {}
    for name, value in _snapshot(os.environ if env is None else env):
        if is_secret_env_name(name) and _is_candidate(value):
            found.setdefault(value, name)
    return found


def known_secrets(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Secret-named environment variables' values and every registered value, with labels."""
    known = env_secrets(env)
    for value, label in registered_secrets().items():
        known.setdefault(value, label)
    return known


def mask_secrets(text: str) -> str:
    """``text`` with every known secret value replaced by ``***`` (longest first, so a key that
    contains another is replaced whole)."""
    if not text:
        return text
    for value in sorted(known_secrets(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text
