"""The app's own retry and timeout policy around one LLM call.

The SDKs' built-in retries are switched off (``max_retries=0``) wherever the app calls a model,
so this module alone decides how often to try, how long to wait and when to give up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anthropic
import openai

__all__ = ["LLMUnavailable", "RetryPolicy", "call_with_retries", "failure_reason"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the app tries before it falls back.

    ``timeout_s`` bounds each attempt; ``backoff_s`` is the first wait between attempts when
    the provider gives no ``retry-after`` (it doubles each time); no wait exceeds
    ``max_wait_s``. ``sleep`` is injectable so tests can check the waits without waiting.
    """

    attempts: int = 3
    timeout_s: float = 20.0
    backoff_s: float = 0.5
    max_wait_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")
        if self.timeout_s <= 0:
            raise ValueError(f"RetryPolicy.timeout_s must be > 0 seconds, got {self.timeout_s}")


class LLMUnavailable(Exception):
    """Every attempt failed. ``reason`` is one of ``timeout``, ``unreachable``,
    ``rate_limited``, ``server_error``, ``bad_response``."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(f"LLM unavailable after {attempts} attempt(s): {reason}")
        self.reason = reason
        self.attempts = attempts


_TIMEOUTS = (openai.APITimeoutError, anthropic.APITimeoutError)
_CONNECTION = (openai.APIConnectionError, anthropic.APIConnectionError)
_STATUS = (openai.APIStatusError, anthropic.APIStatusError)


def failure_reason(exc: BaseException) -> str | None:
    """Why a call failed, if that failure is worth retrying (``None``: it is not)."""
    if isinstance(exc, _TIMEOUTS):
        return "timeout"
    if isinstance(exc, _CONNECTION):
        return "unreachable"
    if isinstance(exc, json.JSONDecodeError):  # a garbled body from the provider or a proxy
        return "bad_response"
    if isinstance(exc, _STATUS):
        if exc.status_code == 200:  # an error event in the middle of a stream
            kind = getattr(exc, "type", None) or ""
            return "rate_limited" if "rate_limit" in kind else "server_error"
        if exc.status_code == 429:
            return "rate_limited"
        if exc.status_code in (408, 409) or exc.status_code >= 500:
            return "server_error"
    return None  # 400, 401, 404...: a bug or a configuration problem, retrying won't help


def _retry_after(exc: BaseException) -> float | None:
    """The wait the provider asked for, in seconds (``retry-after-ms`` / ``retry-after``)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
    return None


def call_with_retries(call: Callable[[], T], policy: RetryPolicy) -> T:
    """``call()``, retried on transient failures; raises :class:`LLMUnavailable` at the end."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except Exception as exc:
            found = failure_reason(exc)
            if found is None:
                raise
            if attempt == policy.attempts:
                raise LLMUnavailable(found, attempt) from exc
            wait = _retry_after(exc)
            if wait is None:
                wait = policy.backoff_s * 2 ** (attempt - 1)
            policy.sleep(min(wait, policy.max_wait_s))
    raise AssertionError("unreachable: RetryPolicy.attempts >= 1")
