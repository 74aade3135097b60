"""llmassert: simple, fast, trustworthy tests for LLM behaviour.

Importing ``llmassert`` is cheap: names are loaded on first use (the pytest plugin loads in
every pytest run, so it must never pull in the provider SDKs up front).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from llmassert._version import __version__

if TYPE_CHECKING:  # pragma: no cover - static view of the lazy names below
    # --- core (owner: lead) ---
    from llmassert._errors import (
        AuthenticationError,
        BudgetExceededError,
        ConfigError,
        ContextLengthError,
        CorruptRecordingError,
        EndpointUnreachableError,
        LLMAssertError,
        LLMAssertionError,
        MissingAPIKeyError,
        ModelNotFoundError,
        ModelSpecError,
        ModelTimeoutError,
        ProviderError,
        QuotaExceededError,
        RateLimitError,
        RecordingError,
        RecordingMissingError,
        ServerError,
        UnsupportedParameterError,
        UsageError,
    )
    from llmassert._response import Response, ToolCall, Usage

    # --- checks (owner: checks) ---

    # --- models (owner: models) ---

    # --- recording (owner: recording) ---

# Public name -> module that defines it. Every public name is listed here exactly once.
_LAZY: dict[str, str] = {
    # --- core (owner: lead) ---
    "AuthenticationError": "llmassert._errors",
    "BudgetExceededError": "llmassert._errors",
    "ConfigError": "llmassert._errors",
    "ContextLengthError": "llmassert._errors",
    "CorruptRecordingError": "llmassert._errors",
    "EndpointUnreachableError": "llmassert._errors",
    "LLMAssertError": "llmassert._errors",
    "LLMAssertionError": "llmassert._errors",
    "MissingAPIKeyError": "llmassert._errors",
    "ModelNotFoundError": "llmassert._errors",
    "ModelSpecError": "llmassert._errors",
    "ModelTimeoutError": "llmassert._errors",
    "ProviderError": "llmassert._errors",
    "QuotaExceededError": "llmassert._errors",
    "RateLimitError": "llmassert._errors",
    "RecordingError": "llmassert._errors",
    "RecordingMissingError": "llmassert._errors",
    "ServerError": "llmassert._errors",
    "UnsupportedParameterError": "llmassert._errors",
    "UsageError": "llmassert._errors",
    "Response": "llmassert._response",
    "ToolCall": "llmassert._response",
    "Usage": "llmassert._response",
    # --- checks (owner: checks) ---
    # --- models (owner: models) ---
    # --- recording (owner: recording) ---
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmassert' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
