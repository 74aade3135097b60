"""Baseline diffs on crafted pairs of reports."""

from __future__ import annotations

from typing import Any

import pytest

from llmassert._reports import finalize
from llmassert._reports._baseline import diff_reports
from reports_data import A, B, clear_win, entry, repeated_entry


def report(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return finalize(tests, {"run": {"models": [A, B]}})


def findings(diff: Any, kind: str) -> list[tuple[str | None, str, str]]:
    found = diff.regressions if kind == "regression" else diff.improvements
    return [(f.key, f.model, f.what) for f in found]


def test_the_same_report_has_no_regression() -> None:
    base = report(clear_win())
    diff = diff_reports(base, base, latency_margin=0.2, cost_margin=0.2)
    assert (diff.regressions, diff.improvements, diff.compared) == ([], [], 60)
    assert diff.lines() == [
        "llmassert baseline: 0 regressions, 0 improvements over 60 tests "
        "(latency margin 20%, cost margin 20%)"
    ]


def test_a_single_run_test_that_went_from_pass_to_fail() -> None:
    base = report([entry("t.py::a", A), entry("t.py::b", A, "failed")])
    new = report([entry("t.py::a", A, "failed"), entry("t.py::b", A)])
    diff = diff_reports(base, new, latency_margin=0.2, cost_margin=0.2)
    assert findings(diff, "regression") == [("t.py::a", A, "outcome")]
    assert findings(diff, "improvement") == [("t.py::b", A, "outcome")]
    assert diff.lines()[1:] == [
        "REGRESSION t.py::a [demo:finetuned]: passed, now failed",
        "IMPROVEMENT t.py::b [demo:finetuned]: failed, now passed",
    ]


def test_a_repeated_test_is_judged_against_the_baselines_interval() -> None:
    base = report(
        [
            repeated_entry("t.py::r1", A, 8, 10, ci=(0.49, 0.94)),
            repeated_entry("t.py::r2", A, 8, 10, ci=(0.49, 0.94)),
            repeated_entry("t.py::r3", A, 5, 10, ci=(0.24, 0.76)),
        ]
    )
    new = report(
        [
            repeated_entry("t.py::r1", A, 6, 10),  # lower, but inside the interval: noise
            repeated_entry("t.py::r2", A, 4, 10),  # below it: a regression
            repeated_entry("t.py::r3", A, 10, 10),  # above it: an improvement
        ]
    )
    diff = diff_reports(base, new, latency_margin=0.2, cost_margin=0.2)
    assert findings(diff, "regression") == [("t.py::r2", A, "pass rate")]
    assert findings(diff, "improvement") == [("t.py::r3", A, "pass rate")]
    assert diff.regressions[0].text == (
        "pass rate 4/10 (40%) below the baseline's interval 49%..94% (was 8/10)"
    )


def test_latency_and_cost_beyond_the_margin() -> None:
    base = report([entry(f"t.py::t{i}", A, latency=0.5, cost=1e-4) for i in range(10)])
    slower = [entry(f"t.py::t{i}", A, latency=0.5, cost=1e-4) for i in range(10)]
    slower[0] = entry("t.py::t0", A, latency=0.7, cost=1e-4)  # +40%, +0.2 s
    slower[1] = entry("t.py::t1", A, latency=0.55, cost=2e-4)  # +10%: within; cost doubled
    slower[2] = entry("t.py::t2", A, latency=0.3, cost=1e-4)  # faster by 0.2 s
    diff = diff_reports(base, report(slower), latency_margin=0.2, cost_margin=0.2)
    assert findings(diff, "regression") == [("t.py::t0", A, "latency"), ("t.py::t1", A, "cost")]
    assert findings(diff, "improvement") == [("t.py::t2", A, "latency")]
    assert diff.regressions[0].text == "latency 700 ms, was 500 ms (+40%, margin 20%)"
    # A wider margin: nothing.
    wide = diff_reports(base, report(slower), latency_margin=0.5, cost_margin=1.5)
    assert wide.regressions == []


def test_small_latency_jitter_of_one_test_is_not_a_regression() -> None:
    base = report([entry("t.py::a", A, latency=0.02)])
    new = report([entry("t.py::a", A, latency=0.06)])  # 3x, but 40 ms
    assert diff_reports(base, new, latency_margin=0.2, cost_margin=0.2).regressions == []


def test_per_model_pass_rate_latency_and_cost() -> None:
    base = [entry(f"t.py::t{i}", A, latency=0.2, cost=1e-5) for i in range(30)]
    new = [
        entry(f"t.py::t{i}", A, "passed" if i < 18 else "failed", latency=0.36, cost=1e-5)
        for i in range(30)
    ]
    diff = diff_reports(report(base), report(new), latency_margin=0.2, cost_margin=0.2)
    model_findings = [f for f in diff.regressions if f.scope == "model"]
    assert [(f.model, f.what) for f in model_findings] == [(A, "pass rate"), (A, "latency")]
    assert model_findings[0].text == (
        "pass rate 60%, was 100% on 30 tests (-40 pts, 95% CI -58..-21, p<0.001)"
    )
    assert model_findings[1].text == "median latency 1.8× the baseline's on 30 tests"
    assert "REGRESSION demo:finetuned: pass rate 60%, was 100%" in "\n".join(diff.lines())


def test_new_and_gone_tests_are_listed_not_regressions() -> None:
    base = report([entry("t.py::a", A), entry("t.py::gone", A)])
    new = report([entry("t.py::a", A), entry("t.py::new", A, "failed"), entry("t.py::new", B)])
    diff = diff_reports(base, new, latency_margin=0.2, cost_margin=0.2)
    assert diff.regressions == []
    assert diff.new_tests == [("t.py::new", A), ("t.py::new", B)]
    assert diff.gone_tests == [("t.py::gone", A)]
    assert diff.lines()[0].endswith("; 2 tests not in the baseline, 1 baseline test not run now")


def test_negative_margins_are_refused() -> None:
    with pytest.raises(ValueError, match="margins"):
        diff_reports(report([]), report([]), latency_margin=-0.1, cost_margin=0.2)
