"""What a process has learnt about each endpoint while calling it, shared by every thread and
event loop (like the limiter in :mod:`llmassert._models._limits`):

* **reachability**: once a call finds an endpoint unreachable (connection refused, unknown
  host: after at most one quick retry), later calls to it fail at once with the same message,
  saying since which test, instead of each paying for its own retries. At most one call every
  ``PROBE_INTERVAL_S`` seconds goes through as a probe (one attempt, no retries), so a server
  started later in the session is found again;
* **optional fields it rejects**: a strict server that answers 400 to a field llmassert added
  on its own (``stream_options`` on a streamed Chat Completions call) gets the call retried
  once without it, and never gets it again in this process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Mapping
from typing import Any

from llmassert._errors import EndpointUnreachableError, ProviderError

__all__ = ["OPTIONAL_FIELDS", "PROBE_INTERVAL_S", "EndpointHealth", "get_health", "reset_health"]

#: Seconds between probes of an endpoint found unreachable.
PROBE_INTERVAL_S = 2.0
#: Fields llmassert adds to a body on its own, without which the call still works.
OPTIONAL_FIELDS = ("stream_options",)


class _Down:
    def __init__(self, message: str, test: str | None) -> None:
        self.message = message
        self.test = test
        self.since = time.monotonic()
        self.last_probe = self.since
        self.probing = False


class EndpointHealth:
    """Reachability and rejected optional fields of one endpoint. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: _Down | None = None
        #: Optional fields this endpoint rejected (never sent to it again).
        self.rejected: set[str] = set()

    @property
    def unreachable(self) -> bool:
        return self._down is not None

    def before_call(self, label: str) -> bool:
        """Raise at once while the endpoint is known to be unreachable; return ``True`` when
        this call is the probe (make it a single attempt)."""
        with self._lock:
            down = self._down
            if down is None:
                return False
            now = time.monotonic()
            if not down.probing and now - down.last_probe >= PROBE_INTERVAL_S:
                down.probing = True
                down.last_probe = now
                return True
            since = f"since {down.test}" if down.test else "since an earlier call"
            error = EndpointUnreachableError(
                f"{label}: unreachable {since} ({now - down.since:.1f} s ago): {down.message} "
                f"Calls to it fail at once until a probe connects (at most one every "
                f"{PROBE_INTERVAL_S:g} s).",
                endpoint=label,
            )
            error.attempts = 0  # failed at once: no request was sent
            raise error

    def after_success(self) -> None:
        """Any HTTP answer proves the endpoint reachable."""
        with self._lock:
            self._down = None

    def after_failure(self, error: BaseException, label: str, test: str | None) -> None:
        """Remember an unreachable endpoint (connection failures only); any other failure is an
        answer, so the endpoint is reachable."""
        from llmassert._models._error_map import retry_hint

        with self._lock:
            if not retry_hint(error).unreachable:
                self._down = None
                return
            if self._down is not None:
                self._down.probing = False
                self._down.last_probe = time.monotonic()
                return
            message = str(error)
            message = message.removeprefix(f"{label}: ")
            message = message.split(" Gave up after ", 1)[0]
            self._down = _Down(message, test)

    def rejected_field(self, error: BaseException, sent: Mapping[str, Any]) -> str | None:
        """The optional field a 400 / 422 names, if it is one llmassert added to ``sent``."""
        if not isinstance(error, ProviderError) or error.status not in (400, 422):
            return None
        text = str(error)
        for name in OPTIONAL_FIELDS:
            if name in sent and name not in self.rejected and name in text:
                return name
        return None

    def reject(self, name: str) -> None:
        with self._lock:
            self.rejected.add(name)


_health: dict[Hashable, EndpointHealth] = {}
_registry_lock = threading.Lock()


def get_health(key: Hashable) -> EndpointHealth:
    """The process-wide health record of an endpoint (keyed like its limiter)."""
    with _registry_lock:
        health = _health.get(key)
        if health is None:
            health = _health[key] = EndpointHealth()
        return health


def reset_health() -> None:
    """Forget what was learnt about every endpoint (the pytest plugin does this when a run
    ends: the next run starts afresh)."""
    with _registry_lock:
        _health.clear()
