"""What judge and embeddings calls cost, counted apart from the model under test.

Every response of a judge or embeddings call is noted here (:func:`note`); the pytest plugin
prints the totals at the end of the run (workers' totals merged under xdist). Replayed calls
are free: their cost is not added (they keep the original call's latency).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PurposeStats", "count", "note", "reset", "restore", "snapshot"]


@dataclass
class PurposeStats:
    """Totals of the calls of one purpose (``judge`` or ``embedding``)."""

    calls: int = 0
    live: int = 0
    replayed: int = 0
    cost_usd: float = 0.0
    #: Live calls whose cost is unknown (no price for the model).
    unpriced: int = 0
    latency_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    #: Verdicts given (judge) / texts embedded (embedding).
    items: int = 0
    #: Judge errors (no readable verdict after retries).
    errors: int = 0

    def merge(self, other: dict[str, Any]) -> None:
        for name, value in other.items():
            if hasattr(self, name):
                setattr(self, name, getattr(self, name) + value)


_lock = threading.Lock()
_stats: dict[str, PurposeStats] = {}


def _of(purpose: str) -> PurposeStats:
    return _stats.setdefault(purpose, PurposeStats())


def note(response: Any) -> None:
    """Count one response (its ``purpose`` says which totals)."""
    purpose = getattr(response, "purpose", "model")
    with _lock:
        stats = _of(purpose)
        stats.calls += 1
        if getattr(response, "replayed", False):
            stats.replayed += 1
        else:
            stats.live += 1
            cost = getattr(response, "cost_usd", None)
            if cost is None:
                stats.unpriced += 1
            else:
                stats.cost_usd += float(cost)
        stats.latency_s += float(getattr(response, "latency_s", None) or 0.0)
        usage = getattr(response, "usage", None)
        stats.input_tokens += int(getattr(usage, "input_tokens", None) or 0)
        stats.output_tokens += int(getattr(usage, "output_tokens", None) or 0)


def count(purpose: str, *, items: int = 0, errors: int = 0) -> None:
    with _lock:
        stats = _of(purpose)
        stats.items += items
        stats.errors += errors


def snapshot() -> dict[str, dict[str, Any]]:
    """The totals so far, JSON-ready: ``{"judge": {...}, "embedding": {...}}``."""
    with _lock:
        return {purpose: asdict(stats) for purpose, stats in _stats.items()}


def reset() -> dict[str, dict[str, Any]]:
    """Clear the totals (a new run starts); returns what they were."""
    with _lock:
        before = {purpose: asdict(stats) for purpose, stats in _stats.items()}
        _stats.clear()
    return before


def restore(totals: dict[str, dict[str, Any]]) -> None:
    """Put back totals :func:`reset` returned (a nested run ends: the outer run's are back)."""
    with _lock:
        _stats.clear()
        for purpose, values in totals.items():
            _of(purpose).merge(values)
