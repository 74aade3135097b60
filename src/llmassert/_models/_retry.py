"""The ONE retry layer (tenacity). SDK clients are built with ``max_retries=0``.

Transient failures are retried: 408, 409, 429 (not ``insufficient_quota``), 5xx, Anthropic's 529,
timeouts and dropped connections; ``x-should-retry: true|false`` overrides that. The wait is the
server's ``retry-after-ms``, else its ``retry-after``, else exponential backoff with jitter
(``retry_initial_s * 2**n``, between half and all of it); every wait is capped at
``retry_max_wait_s`` and the waits of one call at ``retry_total_wait_s`` in total. Each retry is
logged on the ``llmassert`` logger and counted on the result (``Response.retries``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from llmassert._errors import ProviderError
from llmassert._models._error_map import retry_hint, with_attempts

__all__ = ["RetryPolicy", "acall_with_retries", "call_with_retries"]

T = TypeVar("T")
log = logging.getLogger("llmassert")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    initial_s: float = 0.5
    max_wait_s: float = 30.0
    total_wait_s: float = 120.0
    label: str = ""


def _wait_for(policy: RetryPolicy, attempt: int, exc: BaseException | None) -> float:
    hint = retry_hint(exc) if exc is not None else None
    if hint is not None and hint.retry_after_s is not None:
        return min(hint.retry_after_s, policy.max_wait_s)
    base = policy.initial_s * (2 ** (attempt - 1))
    return min(random.uniform(base / 2, base), policy.max_wait_s)


def _kwargs(policy: RetryPolicy) -> dict[str, object]:
    from tenacity import RetryCallState

    def should_retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or not outcome.failed:
            return False
        exc = outcome.exception()
        return exc is not None and retry_hint(exc).retryable

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return _wait_for(policy, state.attempt_number, exc)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number > policy.max_retries:
            return True
        return state.idle_for + (state.upcoming_sleep or 0.0) > policy.total_wait_s

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "llmassert: retry %d/%d of %s in %.3f s after: %s",
            state.attempt_number,
            policy.max_retries,
            policy.label,
            state.upcoming_sleep,
            exc,
        )

    def give_up(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        assert exc is not None
        raise with_attempts(exc, state.attempt_number, state.idle_for) from None

    return {
        "retry": should_retry,
        "wait": wait,
        "stop": stop,
        "before_sleep": before_sleep,
        "retry_error_callback": give_up,
        "reraise": True,
    }


def call_with_retries(policy: RetryPolicy, fn: Callable[[], T]) -> tuple[T, int]:
    """Run ``fn`` with retries; return its result and how many retries it took."""
    from tenacity import Retrying

    retrying = Retrying(**_kwargs(policy))  # type: ignore[arg-type]
    try:
        result = retrying(fn)
    except ProviderError as exc:
        raise _counted(exc, retrying.statistics) from None
    return result, retrying.statistics.get("attempt_number", 1) - 1


async def acall_with_retries(policy: RetryPolicy, fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """The async form of :func:`call_with_retries` (sleeps with ``asyncio.sleep``)."""
    from tenacity import AsyncRetrying

    retrying = AsyncRetrying(**_kwargs(policy))  # type: ignore[arg-type]
    try:
        result: T = await retrying(fn)
    except ProviderError as exc:
        raise _counted(exc, retrying.statistics) from None
    return result, retrying.statistics.get("attempt_number", 1) - 1


def _counted(error: ProviderError, statistics: dict[str, Any]) -> ProviderError:
    """``error`` with the attempts made (also when a retried call ended with an error that is
    not retried, e.g. a 500 then a 400), for record & replay's counts."""
    error.attempts = max(error.attempts, int(statistics.get("attempt_number", 1)))
    return error
