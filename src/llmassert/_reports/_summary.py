"""The per-model summary of a run report (the report's ``models`` object).

For each model: how many tests ran and how they ended, the pass rate over the tests that count
(passed, failed, error: see :data:`~llmassert._reports._facts.COUNTED`), compliance by kind of
check (:mod:`llmassert._reports._kinds`), latency and time-to-first-token percentiles over the
model calls, tokens, cost, retries, and how many calls were replayed. A replayed call's latency
is the one recorded when it was stored; ``latency_source`` says whether the percentiles are
``"live"``, ``"recorded"`` or ``"mixed"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from llmassert._reports._facts import (
    check_results,
    model_calls,
    model_order,
    unattributed_calls,
)
from llmassert._reports._kinds import KINDS
from llmassert._reports._stats import percentile

__all__ = ["summarize_model", "summarize_models"]

_OUTCOME_FIELDS = {
    "passed": "passed",
    "failed": "failed",
    "skipped": "skipped",
    "error": "errors",
    "xfailed": "xfailed",
    "xpassed": "xpassed",
}


def _numbers(calls: Sequence[Mapping[str, Any]], field: str) -> list[float]:
    out = []
    for call in calls:
        value = call.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out.append(float(value))
    return out


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return percentile(values, 50), percentile(values, 95)


def summarize_model(
    tests: Sequence[Mapping[str, Any]], unattributed: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The SUMMARY object of the report for the test entries of one model; ``unattributed``:
    the model's calls made by wider-scoped fixtures (for no single test), counted in the call
    figures (latency, tokens, cost, retries, calls) and in ``unattributed_calls``."""
    counts = dict.fromkeys(_OUTCOME_FIELDS.values(), 0)
    compliance: dict[str, list[int]] = {}
    calls: list[Mapping[str, Any]] = []
    for test in tests:
        field = _OUTCOME_FIELDS.get(str(test.get("outcome")))
        if field is not None:
            counts[field] += 1
        for kind, passed in check_results(test):
            tally = compliance.setdefault(kind, [0, 0])
            tally[0] += int(passed)
            tally[1] += 1
        calls.extend(model_calls(test))
    calls.extend(unattributed)
    rated = counts["passed"] + counts["failed"] + counts["errors"]
    latency = _numbers(calls, "latency_s")
    ttft = _numbers(calls, "ttft_s")
    p50, p95 = _percentiles(latency)
    t50, t95 = _percentiles(ttft)
    timed = [c for c in calls if isinstance(c.get("latency_s"), int | float)]
    replayed_timed = sum(1 for c in timed if c.get("replayed"))
    if not timed:
        source = None
    elif replayed_timed == len(timed):
        source = "recorded"
    elif replayed_timed == 0:
        source = "live"
    else:
        source = "mixed"
    costs = [c.get("cost_usd") for c in calls]
    known_costs = _numbers(calls, "cost_usd")
    input_tokens = _numbers(calls, "input_tokens")
    output_tokens = _numbers(calls, "output_tokens")
    replayed = sum(1 for c in calls if c.get("replayed"))
    return {
        "tests": len(tests),
        **counts,
        "pass_rate": counts["passed"] / rated if rated else None,
        "compliance": {
            kind: {
                "passed": compliance[kind][0],
                "total": compliance[kind][1],
                "rate": compliance[kind][0] / compliance[kind][1],
            }
            for kind in KINDS
            if kind in compliance
        },
        "latency_p50_s": p50,
        "latency_p95_s": p95,
        "ttft_p50_s": t50,
        "ttft_p95_s": t95,
        "latency_source": source,
        "input_tokens": int(sum(input_tokens)) if input_tokens else None,
        "output_tokens": int(sum(output_tokens)) if output_tokens else None,
        "cost_usd": math.fsum(known_costs) if known_costs else None,
        "cost_unknown_calls": len(costs) - len(known_costs),
        "retries": int(sum(_numbers(calls, "retries"))),
        "calls": len(calls),
        "replayed_calls": replayed,
        "live_calls": len(calls) - replayed,
        "unattributed_calls": len(unattributed),
    }


def summarize_models(
    tests: Sequence[Mapping[str, Any]],
    models: Sequence[str],
    unattributed: Sequence[Mapping[str, Any]] = (),
) -> dict[str, dict[str, Any]]:
    """``{model spec: SUMMARY}`` for every model that has tests, in display order (the
    configured ``models`` first, see :func:`~llmassert._reports._facts.model_order`). The
    model calls of the ``unattributed`` groups (wider-scoped fixtures) count in their model's
    call figures; a model that only such calls went to has no summary (they stay listed)."""
    by_model: dict[str, list[Mapping[str, Any]]] = {}
    for test in tests:
        if test.get("model"):
            by_model.setdefault(str(test["model"]), []).append(test)
    extra: dict[str, list[Mapping[str, Any]]] = {}
    for call in unattributed_calls(unattributed):
        if call.get("purpose", "model") == "model":
            extra.setdefault(str(call.get("model", "")), []).append(call)
    return {
        spec: summarize_model(by_model[spec], extra.get(spec, ()))
        for spec in model_order(tests, models)
    }
