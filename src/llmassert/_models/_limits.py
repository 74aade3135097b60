"""Per-endpoint limits shared by every thread and event loop of the process.

* an in-flight limit (``--llm-concurrency`` / the endpoint's ``max_concurrency``);
* optional requests-per-minute (``rpm``) and tokens-per-minute (``tpm``) budgets.

Only threading primitives are used, so nothing is bound to an event loop: async callers poll
with short sleeps instead of awaiting a loop-bound semaphore (pytest-asyncio gives every test its
own loop). Under pytest-xdist each worker takes its share of every limit: ``limit // workers``,
at least 1 (``PYTEST_XDIST_WORKER_COUNT``).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Hashable

__all__ = ["EndpointLimiter", "get_limiter", "worker_share"]

_POLL_MIN_S = 0.0005
_POLL_MAX_S = 0.02


def worker_share(limit: int) -> int:
    """This process's share of a limit under pytest-xdist (the whole limit otherwise)."""
    try:
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    except ValueError:
        workers = 1
    return max(limit // max(workers, 1), 1)


class _Bucket:
    """A token bucket refilled continuously at ``per_minute / 60`` per second, holding at most
    one second's worth (so bursts stay small).

    ``reserve(n)`` takes ``n`` tokens at once (the balance may go negative) and returns how long
    the caller must wait before sending, so concurrent callers queue fairly without a loop.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        #: Burst allowance: one second's worth (at least one unit).
        self.capacity = max(per_minute / 60.0, 1.0)
        self._tokens = self.capacity
        self._stamp = time.monotonic()

    def reserve(self, amount: float) -> float:
        now = time.monotonic()
        rate = self.per_minute / 60.0
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * rate)
        self._stamp = now
        self._tokens -= min(amount, self.capacity)
        return 0.0 if self._tokens >= 0 else -self._tokens / rate


class EndpointLimiter:
    """In-flight limit plus optional rpm / tpm budgets of one endpoint."""

    def __init__(self, max_in_flight: int, rpm: int | None = None, tpm: int | None = None) -> None:
        self._cond = threading.Condition()
        self.max_in_flight = max(max_in_flight, 1)
        self.in_flight = 0
        #: The highest in-flight count seen (for tests and reports).
        self.peak_in_flight = 0
        self._rpm = _Bucket(rpm) if rpm else None
        self._tpm = _Bucket(tpm) if tpm else None

    def configure(self, max_in_flight: int, rpm: int | None, tpm: int | None) -> None:
        with self._cond:
            self.max_in_flight = max(max_in_flight, 1)
            if (self._rpm.per_minute if self._rpm else None) != rpm:
                self._rpm = _Bucket(rpm) if rpm else None
            if (self._tpm.per_minute if self._tpm else None) != tpm:
                self._tpm = _Bucket(tpm) if tpm else None
            self._cond.notify_all()

    def _try_enter(self) -> bool:
        with self._cond:
            if self.in_flight >= self.max_in_flight:
                return False
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return True

    def _budget_wait(self, tokens: int) -> float:
        with self._cond:
            wait = self._rpm.reserve(1) if self._rpm else 0.0
            if self._tpm:
                wait = max(wait, self._tpm.reserve(tokens))
            return wait

    def acquire(self, tokens: int = 0) -> None:
        """Block until a slot is free and the rpm / tpm budgets allow the request."""
        wait = self._budget_wait(tokens)
        if wait > 0:
            time.sleep(wait)
        with self._cond:
            while self.in_flight >= self.max_in_flight:
                self._cond.wait()
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    async def aacquire(self, tokens: int = 0) -> None:
        """The async form of :meth:`acquire`: polls, so it is safe on any event loop."""
        wait = self._budget_wait(tokens)
        if wait > 0:
            await asyncio.sleep(wait)
        delay = _POLL_MIN_S
        while not self._try_enter():
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX_S)

    def release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify()


_limiters: dict[Hashable, EndpointLimiter] = {}
_registry_lock = threading.Lock()


def get_limiter(
    key: Hashable, max_in_flight: int, rpm: int | None = None, tpm: int | None = None
) -> EndpointLimiter:
    """The process-wide limiter of an endpoint (limits already divided among xdist workers)."""
    share = worker_share(max_in_flight)
    rpm_share = worker_share(rpm) if rpm else None
    tpm_share = worker_share(tpm) if tpm else None
    with _registry_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = EndpointLimiter(share, rpm_share, tpm_share)
            return limiter
    if (limiter.max_in_flight, _per(limiter._rpm), _per(limiter._tpm)) != (
        share,
        rpm_share,
        tpm_share,
    ):
        limiter.configure(share, rpm_share, tpm_share)
    return limiter


def _per(bucket: _Bucket | None) -> int | None:
    return bucket.per_minute if bucket else None
