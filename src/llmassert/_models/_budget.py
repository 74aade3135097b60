"""Spending guards for live calls: ``--llm-max-cost USD`` and ``--llm-max-calls N``.

Only live calls count: a replayed call never reaches the guard. Once a limit is reached every
further live call raises :class:`~llmassert.BudgetExceededError`, failing the tests that need it
with a clear message. Under pytest-xdist each worker guards its share of the limits
(``limit / workers``), so the run as a whole stays within them.
"""

from __future__ import annotations

import os
import threading

from llmassert._errors import BudgetExceededError

__all__ = ["Budget"]


def _workers() -> int:
    try:
        return max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), 1)
    except ValueError:
        return 1


def _advice(demo: bool) -> str:
    if demo:
        # demo: calls bypass the recording store: replaying cannot make them free.
        return (
            "Demo calls are offline and free of charge but count as live calls (they are never "
            "recorded): raise the limit, or drop it for demo runs."
        )
    return (
        "Replayed calls are free: record once (--llm-record once), then replay "
        "(--llm-record none), or raise the limit."
    )


class Budget:
    """Counts live calls and their cost; refuses calls once a limit is reached. Thread-safe.

    A budget with a ``parent`` (the judge's own caps, ``--llm-judge-max-calls`` /
    ``--llm-judge-max-cost``, inside the run's) refuses a call when either refuses it, and
    counts every call it lets through in both. ``options`` names the two limits in messages.
    """

    def __init__(
        self,
        max_cost_usd: float | None = None,
        max_calls: int | None = None,
        *,
        share: bool = True,
        parent: Budget | None = None,
        options: tuple[str, str] = ("--llm-max-cost", "--llm-max-calls"),
    ) -> None:
        self.parent = parent
        self.options = options
        workers = _workers() if share else 1
        self.max_cost_usd = None if max_cost_usd is None else max_cost_usd / workers
        self.max_calls = (
            None if max_calls is None else (max(max_calls // workers, 1) if max_calls else 0)
        )
        self._given = (max_cost_usd, max_calls, workers)
        self.calls = 0
        self.cost_usd = 0.0
        #: Live calls whose cost is unknown (no price for the model).
        self.unpriced_calls = 0
        #: Live calls refused so far.
        self.refused = 0
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        own = self.max_cost_usd is not None or self.max_calls is not None
        return own or (self.parent is not None and self.parent.active)

    def _share_note(self) -> str:
        workers = self._given[2]
        return f" (this xdist worker's share of {workers})" if workers > 1 else ""

    def before_call(self, label: str, *, demo: bool = False) -> None:
        """Reserve one live call, or raise :class:`BudgetExceededError`. ``demo``: the call
        goes to the offline demo endpoint (which is never recorded), for the advice."""
        cost_option, calls_option = self.options
        with self._lock:
            if self.max_calls is not None and self.calls >= self.max_calls:
                self.refused += 1
                raise BudgetExceededError(
                    f"{label}: live call refused: {calls_option} {self._given[1]} reached "
                    f"({self.calls} live calls made{self._share_note()}). {_advice(demo)}"
                )
            if self.max_cost_usd is not None and self.cost_usd >= self.max_cost_usd:
                self.refused += 1
                raise BudgetExceededError(
                    f"{label}: live call refused: {cost_option} {self._given[0]:g} USD reached "
                    f"(live calls have cost {self.cost_usd:.6f} USD{self._share_note()}). "
                    f"{_advice(demo)}"
                )
            if self.parent is not None:
                self.parent.before_call(label, demo=demo)  # raises when the run's cap is hit
            self.calls += 1

    def limit_text(self) -> str:
        """``--llm-max-calls 2`` / ``--llm-max-cost 0.5 USD``: the guard that refuses calls."""
        cost_option, calls_option = self.options
        if self.max_calls is not None and self.calls >= self.max_calls:
            return f"{calls_option} {self._given[1]}"
        if self.max_cost_usd is None and self.parent is not None:
            return self.parent.limit_text()
        return f"{cost_option} {self._given[0]:g} USD"

    def add_cost(self, cost_usd: float | None) -> None:
        with self._lock:
            if cost_usd is None:
                self.unpriced_calls += 1
            else:
                self.cost_usd += cost_usd
        if self.parent is not None:
            self.parent.add_cost(cost_usd)
