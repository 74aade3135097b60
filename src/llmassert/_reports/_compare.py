"""The comparison of models on the same tests (the report's ``comparisons`` list).

Outcomes are paired across models by the test's ``key`` (its node id without the model
parameter; a case file's ``<file>::<case id>``). For each unordered pair of models — ``a`` the
one listed first (the session's ``--llm-model`` order) — the comparison gives:

* ``shared_tests``: keys both models ran (with an outcome that counts: passed, failed, error);
  ``only_a`` / ``only_b``: keys that ran on one of them only (listed, never paired);
* ``pass_rate``: the paired difference ``a - b`` of pass rates over the shared tests, its
  interval and p-value (:func:`llmassert._reports._stats.compare_pass_rates`), or ``null`` when
  nothing is shared;
* ``latency_median_ratio``: median over shared tests of each test's mean call latency, ``b / a``
  (above 1: ``a`` is faster), with a paired bootstrap interval; ``replayed`` is true when
  recorded latencies took part;
* ``cost_mean_ratio``: the same for the mean cost per call, ``b / a`` (above 1: ``a`` is
  cheaper), over the shared tests whose every call has a known cost;
* ``verdict``: one line saying all that, "no significant difference" when that is the truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmassert._reports._facts import cost_of, latency_of, model_order, replayed_of, score
from llmassert._reports._stats import (
    CONFIDENCE,
    PassRateComparison,
    Ratio,
    compare_pass_rates,
    ratio_interval,
)

__all__ = ["compare_models", "compare_pair", "format_p", "format_ratio", "verdict_line"]

Test = Mapping[str, Any]


def _by_key(tests: Sequence[Test], model: str) -> dict[str, Test]:
    out: dict[str, Test] = {}
    for test in tests:
        if test.get("model") == model and score(test) is not None:
            out.setdefault(str(test.get("key")), test)
    return out


def _ratio(pairs: list[tuple[Test, Test]], value: Any, statistic: str) -> tuple[Ratio | None, bool]:
    xs: list[float] = []
    ys: list[float] = []
    replayed = False
    for ta, tb in pairs:
        va, vb = value(ta), value(tb)
        if va is not None and vb is not None:
            xs.append(va)
            ys.append(vb)
            replayed = replayed or replayed_of(ta) or replayed_of(tb)
    return ratio_interval(xs, ys, statistic), replayed


def compare_pair(tests: Sequence[Test], a: str, b: str) -> dict[str, Any]:
    """The COMPARISON object of models ``a`` and ``b``."""
    tests_a, tests_b = _by_key(tests, a), _by_key(tests, b)
    shared = sorted(tests_a.keys() & tests_b.keys())
    pairs = [(tests_a[k], tests_b[k]) for k in shared]
    rates = compare_pass_rates(
        [score(ta) or (0, 1) for ta, _ in pairs], [score(tb) or (0, 1) for _, tb in pairs]
    )
    latency, latency_replayed = _ratio(pairs, latency_of, "median")
    cost, _ = _ratio(pairs, cost_of, "mean")
    comparison: dict[str, Any] = {
        "a": a,
        "b": b,
        "shared_tests": len(shared),
        "only_a": sorted(tests_a.keys() - tests_b.keys()),
        "only_b": sorted(tests_b.keys() - tests_a.keys()),
        "pass_rate": rates.as_dict() if rates is not None else None,
        "latency_median_ratio": (
            {**latency.as_dict(), "replayed": latency_replayed} if latency is not None else None
        ),
        "cost_mean_ratio": cost.as_dict() if cost is not None else None,
    }
    comparison["verdict"] = verdict_line(comparison, rates, latency, cost, latency_replayed)
    return comparison


def compare_models(tests: Sequence[Test], models: Sequence[str]) -> list[dict[str, Any]]:
    """One COMPARISON per unordered pair of models that have tests, ``a`` before ``b`` in the
    display order (:func:`~llmassert._reports._facts.model_order`)."""
    order = model_order(tests, models)
    return [compare_pair(tests, a, b) for i, a in enumerate(order) for b in order[i + 1 :]]


# -- the verdict line ---------------------------------------------------------------------


def format_p(p: float) -> str:
    """``p=0.004``, ``p=0.03``, ``p<0.001``."""
    if p < 0.001:
        return "p<0.001"
    if p < 0.01:
        return f"p={p:.3f}"
    return f"p={p:.2f}"


def _pts(x: float) -> str:
    return f"{round(x * 100):+d}"


def format_ratio(x: float) -> str:
    """``2.3×``, ``12×``, ``1.04×``."""
    if x >= 10:
        return f"{x:.0f}×"
    if x < 1.1:
        return f"{x:.2f}×"
    return f"{x:.1f}×"


def _ratio_phrase(what: str, ratio: Ratio | None, *, lower_is: str = "lower") -> str | None:
    if ratio is None:
        return None
    clear = ratio.ci_low is not None and ratio.ci_high is not None
    clear = clear and (ratio.ci_low > 1 or ratio.ci_high < 1)  # type: ignore[operator]
    if not clear:
        return f"{what} not significantly different"
    if ratio.ratio >= 1:
        return f"{what} {format_ratio(ratio.ratio)} lower"
    return f"{what} {format_ratio(1 / ratio.ratio)} higher"


def verdict_line(
    comparison: Mapping[str, Any],
    rates: PassRateComparison | None,
    latency: Ratio | None,
    cost: Ratio | None,
    latency_replayed: bool = False,
) -> str:
    """The one-line verdict, e.g. ``x vs y: +11 pts pass rate on 40 tests (95% CI +4..+18,
    p=0.004); median latency 2.3× lower; mean cost 5.0× lower``."""
    a, b = comparison["a"], comparison["b"]
    head = f"{a} vs {b}: "
    only = len(comparison["only_a"]) + len(comparison["only_b"])
    if rates is None:
        return head + (
            f"no shared tests to compare ({len(comparison['only_a'])} ran on {a} only, "
            f"{len(comparison['only_b'])} on {b} only)"
        )
    level = f"{round((rates.confidence or CONFIDENCE) * 100)}%"
    interval = f"{level} CI {_pts(rates.ci_low)}..{_pts(rates.ci_high)}, {format_p(rates.p_value)}"
    tests = f"{rates.tests} test{'s' if rates.tests != 1 else ''}"
    if rates.significant:
        parts = [f"{_pts(rates.diff)} pts pass rate on {tests} ({interval})"]
    else:
        parts = [
            f"no significant difference in pass rate on {tests} "
            f"({_pts(rates.diff)} pts, {interval})"
        ]
    latency_what = "median latency (recorded)" if latency_replayed else "median latency"
    for phrase in (_ratio_phrase(latency_what, latency), _ratio_phrase("mean cost", cost)):
        if phrase:
            parts.append(phrase)
    if only:
        parts.append(f"{only} test{'s' if only != 1 else ''} ran on one model only")
    return head + "; ".join(parts)
