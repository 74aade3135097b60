"""The ONE retry layer (tenacity). SDK clients are built with ``max_retries=0``.

Transient failures are retried: 408, 409, 429 (not ``insufficient_quota``), 5xx, Anthropic's 529,
timeouts and dropped connections; ``x-should-retry: true|false`` overrides that. Some failures
are retried at most once: a refused connection (after a quick retry the endpoint counts as
unreachable, see :mod:`llmassert._models._health`) and a 2xx body that is not valid JSON. The
wait is the server's ``retry-after-ms``, else its ``retry-after``, else exponential backoff with
jitter (``retry_initial_s * 2**n``, between half and all of it); every wait is capped at
``retry_max_wait_s`` and the waits of one call at ``retry_total_wait_s`` in total.

The whole call, every attempt and wait included, has one deadline (``deadline_s``: the call's
timeout): each attempt may take only the time left, and no retry starts that could not finish
in time. Each retry is logged on the ``llmassert`` logger and counted on the result
(``Response.retries``); a call that gives up says how many attempts it made in how long.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from llmassert._errors import ProviderError
from llmassert._models._error_map import retry_hint, with_attempts

__all__ = ["RetryPolicy", "acall_with_retries", "call_with_retries"]

T = TypeVar("T")
log = logging.getLogger("llmassert")

#: The longest wait before a failure's "quick" retry (a refused connection).
QUICK_WAIT_S = 0.25


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    initial_s: float = 0.5
    max_wait_s: float = 30.0
    total_wait_s: float = 120.0
    label: str = ""
    #: Seconds for the whole call, retries and waits included (``None``: no deadline).
    deadline_s: float | None = None

    def single_attempt(self) -> RetryPolicy:
        return replace(self, max_retries=0)

    def min_attempt_s(self) -> float:
        """The least time worth starting an attempt with."""
        return min(1.0, 0.1 * self.deadline_s) if self.deadline_s else 0.0


def _wait_for(policy: RetryPolicy, attempt: int, exc: BaseException | None) -> float:
    hint = retry_hint(exc) if exc is not None else None
    if hint is not None and hint.retry_after_s is not None:
        return min(hint.retry_after_s, policy.max_wait_s)
    base = policy.initial_s * (2 ** (attempt - 1))
    wait = min(random.uniform(base / 2, base), policy.max_wait_s)
    if hint is not None and hint.quick:
        wait = min(wait, QUICK_WAIT_S)
    return wait


class _Clock:
    """The call's deadline: each attempt gets the time left."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float | None:
        """Seconds the next attempt may take (``None``: no deadline)."""
        if self.policy.deadline_s is None:
            return None
        return max(self.policy.deadline_s - self.elapsed(), 0.001)


def _kwargs(policy: RetryPolicy, clock: _Clock) -> dict[str, object]:
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
        exc = state.outcome.exception() if state.outcome else None
        cap = policy.max_retries
        hint_cap = retry_hint(exc).max_retries if exc is not None else None
        if hint_cap is not None:
            cap = min(cap, hint_cap)
        if state.attempt_number > cap:
            return True
        upcoming = state.upcoming_sleep or 0.0
        if state.idle_for + upcoming > policy.total_wait_s:
            return True
        deadline = policy.deadline_s
        return deadline is not None and (
            clock.elapsed() + upcoming + policy.min_attempt_s() > deadline
        )

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
        raise with_attempts(exc, state.attempt_number, state.idle_for, clock.elapsed()) from None

    return {
        "retry": should_retry,
        "wait": wait,
        "stop": stop,
        "before_sleep": before_sleep,
        "retry_error_callback": give_up,
        "reraise": True,
    }


def call_with_retries(policy: RetryPolicy, fn: Callable[[float | None], T]) -> tuple[T, int]:
    """Run ``fn(time_left)`` with retries; return its result and how many retries it took.
    ``time_left`` is what remains of the call's deadline (``None``: no deadline)."""
    from tenacity import Retrying

    clock = _Clock(policy)
    retrying = Retrying(**_kwargs(policy, clock))  # type: ignore[arg-type]
    try:
        result = retrying(lambda: fn(clock.left()))
    except ProviderError as exc:
        raise _counted(exc, retrying.statistics) from None
    return result, retrying.statistics.get("attempt_number", 1) - 1


async def acall_with_retries(
    policy: RetryPolicy, fn: Callable[[float | None], Awaitable[T]]
) -> tuple[T, int]:
    """The async form of :func:`call_with_retries` (sleeps with ``asyncio.sleep``)."""
    from tenacity import AsyncRetrying

    clock = _Clock(policy)
    retrying = AsyncRetrying(**_kwargs(policy, clock))  # type: ignore[arg-type]

    async def attempt() -> T:
        return await fn(clock.left())

    try:
        result: T = await retrying(attempt)
    except ProviderError as exc:
        raise _counted(exc, retrying.statistics) from None
    return result, retrying.statistics.get("attempt_number", 1) - 1


def _counted(error: ProviderError, statistics: dict[str, Any]) -> ProviderError:
    """``error`` with the attempts made (also when a retried call ended with an error that is
    not retried, e.g. a 500 then a 400), for record & replay's counts."""
    error.attempts = max(error.attempts, int(statistics.get("attempt_number", 1)))
    return error
