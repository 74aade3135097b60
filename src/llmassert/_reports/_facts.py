"""What one test entry of a report says, read the same way by the summary, the comparison and
the baseline diff: its per-test score, its model calls, its latency and cost."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from llmassert._reports._kinds import KINDS, check_kind

__all__ = [
    "COUNTED",
    "check_results",
    "cost_of",
    "latency_of",
    "model_calls",
    "model_order",
    "replayed_of",
    "score",
    "unattributed_calls",
]

#: Outcomes that count in a pass rate: the test ran and passed, failed or broke. ``skipped``,
#: ``xfailed`` and ``xpassed`` do not count (they are reported, not rated).
COUNTED = frozenset({"passed", "failed", "error"})

Test = Mapping[str, Any]


def score(test: Test) -> tuple[int, int] | None:
    """``(passed, total)`` of a test: its verdict's sample counts for a repeated test, ``(1, 1)``
    / ``(0, 1)`` for a single run; ``None`` when the test does not count (skipped, xfail, or a
    repeated test none of whose samples counted)."""
    if test.get("outcome") not in COUNTED:
        return None
    verdict = test.get("verdict")
    if isinstance(verdict, Mapping):
        total = verdict.get("total")
        passed = verdict.get("passed")
        if isinstance(total, int) and isinstance(passed, int) and total > 0:
            return passed, total
        if test.get("outcome") != "error":
            return None
    return (1 if test.get("outcome") == "passed" else 0), 1


def _samples(test: Test) -> Iterator[Mapping[str, Any]]:
    for sample in test.get("samples") or ():
        if isinstance(sample, Mapping):
            yield sample


def model_calls(test: Test, purpose: str = "model") -> Iterator[Mapping[str, Any]]:
    """The calls of ``purpose`` (``model``, ``judge``, ``embedding``) made by the test."""
    for sample in _samples(test):
        for call in sample.get("calls") or ():
            if isinstance(call, Mapping) and call.get("purpose", "model") == purpose:
                yield call


def unattributed_calls(groups: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Every call of the report's ``unattributed`` groups (the calls of wider-scoped
    fixtures, made for no single test), in order."""
    for group in groups:
        if isinstance(group, Mapping):
            for call in group.get("calls") or ():
                if isinstance(call, Mapping):
                    yield call


def check_results(test: Test) -> Iterator[tuple[str, bool]]:
    """``(kind, passed)`` of every check noted in the test's counted samples."""
    for sample in _samples(test):
        if sample.get("outcome") == "not counted":
            continue
        for check in sample.get("checks") or ():
            if not isinstance(check, Mapping):
                continue
            kind = check.get("kind")
            if kind not in KINDS:
                kind = check_kind(str(check.get("name", "")))
            yield str(kind), bool(check.get("passed"))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def latency_of(test: Test) -> float | None:
    """The mean latency of the test's model calls (``None`` when none reported one)."""
    values = [v for v in (_number(c.get("latency_s")) for c in model_calls(test)) if v is not None]
    return math.fsum(values) / len(values) if values else None


def cost_of(test: Test) -> float | None:
    """The mean cost of the test's model calls; ``None`` when it made none or any one of them
    has no known cost (a partial sum would make the model look cheaper than it is)."""
    values = [_number(c.get("cost_usd")) for c in model_calls(test)]
    if not values or any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None) / len(values)


def replayed_of(test: Test) -> bool:
    """Whether any of the test's model calls was replayed from a recording."""
    return any(bool(c.get("replayed")) for c in model_calls(test))


def model_order(tests: Sequence[Test], models: Sequence[str]) -> list[str]:
    """The models of a report in display order: the configured ``models`` that have tests, in
    their order, then any other model the tests name (a case file's own ``models:``), sorted.
    Tests without a model (``""``) belong to none."""
    seen = {str(t.get("model")) for t in tests if t.get("model")}
    ordered = [m for m in dict.fromkeys(models) if m in seen]
    return ordered + sorted(seen.difference(ordered))
