"""Occurrence numbering: the n-th identical request within one test (or sample) is occurrence n.

Shared by record & replay (which stored answer a call replays) and the demo models (which
variant a call gets), so both number calls the same way: by the test context a call belongs
to, never by arrival order across tests. A context is a test's node id, or
``<node id>#sample=<n>`` for one sample of a repeated test (:data:`SAMPLE_MARK`).

Importable at start-up: standard library only.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

__all__ = [
    "OUTSIDE_A_TEST",
    "SAMPLE_MARK",
    "Occurrences",
    "default_context",
    "sample_of",
    "set_default_context",
    "test_of",
]

#: A context ``<test id>#sample=<n>`` names one sample of a repeated test.
SAMPLE_MARK = "#sample="
#: The context of a call made outside any test (plain library use).
OUTSIDE_A_TEST = "<outside a test>"


def test_of(context: str) -> str:
    """The test a context belongs to (the sample suffix removed)."""
    return context.split(SAMPLE_MARK, 1)[0]


def sample_of(context: str) -> int | None:
    """The sample number of a ``<test>#sample=<n>`` context, else ``None``."""
    _, mark, number = context.partition(SAMPLE_MARK)
    if not mark:
        return None
    try:
        return int(number)
    except ValueError:
        return None


#: Says which test is running, for calls of models built without ``context=`` (the pytest
#: plugin installs it for the length of a run).
_default_context: Callable[[], str | None] | None = None


def set_default_context(
    provider: Callable[[], str | None] | None,
) -> Callable[[], str | None] | None:
    """Set what :func:`default_context` asks; returns the previous provider, to restore it."""
    global _default_context
    previous, _default_context = _default_context, provider
    return previous


def default_context() -> str | None:
    """The context of the moment (the running test) for a call that names none."""
    provider = _default_context
    return provider() if provider is not None else None


class Occurrences:
    """Thread-safe counters of identical requests per scope (a test, or one of its samples).

    ``take(scope, key)`` returns how many times ``key`` was taken in ``scope`` before (0 for the
    first); ``give_back`` returns a number a failed call did not use; ``forget(test)`` drops a
    finished test's counters, its samples' included (keeps memory flat in long runs, and a test
    run again in the same process starts from 0).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def take(self, scope: str, key: str) -> int:
        with self._lock:
            occurrence = self._counts[(scope, key)]
            self._counts[(scope, key)] = occurrence + 1
            return occurrence

    def give_back(self, scope: str, key: str, occurrence: int) -> None:
        """Undo :meth:`take` of ``occurrence`` if it was the last one taken for ``key``."""
        with self._lock:
            if self._counts[(scope, key)] == occurrence + 1:
                self._counts[(scope, key)] = occurrence

    def forget(self, test: str) -> None:
        with self._lock:
            for pair in [p for p in self._counts if test_of(p[0]) == test]:
                del self._counts[pair]

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)
