"""Comparing a run report with a baseline report (an earlier run you trust).

Per test (paired by ``key`` and ``model``):

* a **repeated** test whose pass rate fell below the baseline's interval (``verdict.ci_low``;
  above ``verdict.ci_high`` is an improvement) — the interval already says how much a rate moves
  by chance, so a rate inside it is not news;
* a **single-run** test that went from pass to fail or error (fail → pass: improvement);
* **latency** (the mean of the test's model calls) or **cost** (the mean per call) up by more
  than the margin: ``new > base × (1 + margin)``; down by as much (``new × (1 + margin) <
  base``) is an improvement. A test's latency must also move by more than
  :data:`DEFAULT_LATENCY_FLOOR_S` (0.1 s): single calls jitter by tens of milliseconds.

Per model, over the tests both reports ran on it:

* the **pass rate**, by the same paired test as the comparison of two models
  (:func:`llmassert._reports._stats.compare_pass_rates`, the new run against the baseline):
  a significant drop is a regression, a significant rise an improvement;
* the **median latency** and **mean cost** ratios (new / baseline) beyond the margin (the
  median latency must also move by more than the floor).

Tests in one report only are listed (new, gone), never counted as regressions.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmassert._reports._compare import format_p, format_ratio
from llmassert._reports._facts import cost_of, latency_of, score
from llmassert._reports._render import format_cost, format_seconds
from llmassert._reports._stats import compare_pass_rates, wilson_interval

__all__ = ["DEFAULT_LATENCY_FLOOR_S", "DEFAULT_MARGIN", "BaselineDiff", "Finding", "diff_reports"]

#: The default latency and cost margins (20%).
DEFAULT_MARGIN = 0.2
#: A single test's latency must also change by more than this (seconds) to count: one call's
#: latency jitters by tens of milliseconds from run to run, whatever the model.
DEFAULT_LATENCY_FLOOR_S = 0.1

Test = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """One regression or improvement."""

    kind: str  # "regression" | "improvement"
    scope: str  # "test" | "model"
    model: str
    key: str | None  # the test's key; None for a model finding
    what: str  # "pass rate" | "outcome" | "latency" | "cost"
    text: str

    def line(self) -> str:
        where = f"{self.key} [{self.model}]" if self.key is not None else self.model
        return f"{self.kind.upper()} {where}: {self.text}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scope": self.scope,
            "model": self.model,
            "key": self.key,
            "what": self.what,
            "text": self.text,
        }


@dataclass
class BaselineDiff:
    """The result of :func:`diff_reports`."""

    regressions: list[Finding] = field(default_factory=list)
    improvements: list[Finding] = field(default_factory=list)
    #: ``(key, model)`` of tests in the new report only / in the baseline only.
    new_tests: list[tuple[str, str]] = field(default_factory=list)
    gone_tests: list[tuple[str, str]] = field(default_factory=list)
    compared: int = 0
    latency_margin: float = DEFAULT_MARGIN
    cost_margin: float = DEFAULT_MARGIN
    latency_floor_s: float = DEFAULT_LATENCY_FLOOR_S

    def _add(self, finding: Finding) -> None:
        (self.regressions if finding.kind == "regression" else self.improvements).append(finding)

    def lines(self) -> list[str]:
        """What to print: a headline, then each regression, then each improvement."""

        def count(n: int, word: str) -> str:
            return f"{n} {word}{'s' if n != 1 else ''}"

        head = (
            f"llmassert baseline: {count(len(self.regressions), 'regression')}, "
            f"{count(len(self.improvements), 'improvement')} over {count(self.compared, 'test')}"
            f" (latency margin {self.latency_margin:.0%}, cost margin {self.cost_margin:.0%})"
        )
        extra = []
        if self.new_tests:
            extra.append(f"{count(len(self.new_tests), 'test')} not in the baseline")
        if self.gone_tests:
            extra.append(f"{count(len(self.gone_tests), 'baseline test')} not run now")
        if extra:
            head += "; " + ", ".join(extra)
        return [head, *(f.line() for f in self.regressions), *(f.line() for f in self.improvements)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "regressions": [f.as_dict() for f in self.regressions],
            "improvements": [f.as_dict() for f in self.improvements],
            "new_tests": [list(t) for t in self.new_tests],
            "gone_tests": [list(t) for t in self.gone_tests],
            "compared": self.compared,
        }


def _index(report: Mapping[str, Any]) -> dict[tuple[str, str], Test]:
    out: dict[tuple[str, str], Test] = {}
    for test in report.get("tests") or ():
        out.setdefault((str(test.get("key")), str(test.get("model", ""))), test)
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _interval(verdict: Mapping[str, Any]) -> tuple[float, float]:
    low, high = verdict.get("ci_low"), verdict.get("ci_high")
    if isinstance(low, int | float) and isinstance(high, int | float):
        return float(low), float(high)
    return wilson_interval(int(verdict["passed"]), int(verdict["total"]))


def _repeated(test: Test) -> Mapping[str, Any] | None:
    verdict = test.get("verdict")
    if isinstance(verdict, Mapping) and score(test) is not None and (verdict.get("total") or 0):
        return verdict
    return None


def _test_outcome(diff: BaselineDiff, key: str, model: str, base: Test, new: Test) -> None:
    base_verdict, new_verdict = _repeated(base), _repeated(new)
    if base_verdict is not None and new_verdict is not None:
        low, high = _interval(base_verdict)
        rate = new_verdict["passed"] / new_verdict["total"]
        was = f"{base_verdict['passed']}/{base_verdict['total']}"
        now = f"{new_verdict['passed']}/{new_verdict['total']}"
        band = f"{_pct(low)}..{_pct(high)}"
        if rate < low:
            text = (
                f"pass rate {now} ({_pct(rate)}) below the baseline's interval {band} (was {was})"
            )
            diff._add(Finding("regression", "test", model, key, "pass rate", text))
        elif rate > high:
            text = (
                f"pass rate {now} ({_pct(rate)}) above the baseline's interval {band} (was {was})"
            )
            diff._add(Finding("improvement", "test", model, key, "pass rate", text))
        return
    b, n = score(base), score(new)
    if b is None or n is None or b[1] != 1 or n[1] != 1:
        return
    if b[0] == 1 and n[0] == 0:
        diff._add(
            Finding("regression", "test", model, key, "outcome", f"passed, now {new['outcome']}")
        )
    elif b[0] == 0 and n[0] == 1:
        diff._add(
            Finding("improvement", "test", model, key, "outcome", f"{base['outcome']}, now passed")
        )


def _change(
    diff: BaselineDiff,
    what: str,
    base: float | None,
    new: float | None,
    margin: float,
    *,
    scope: str,
    model: str,
    key: str | None,
    show: Any,
    floor: float = 0.0,
) -> None:
    if base is None or new is None or base <= 0 or abs(new - base) <= floor:
        return
    change = f"{show(new)}, was {show(base)} ({(new / base - 1) * 100:+.0f}%, margin {margin:.0%})"
    if new > base * (1 + margin):
        diff._add(Finding("regression", scope, model, key, what, f"{what} {change}"))
    elif new * (1 + margin) < base:
        diff._add(Finding("improvement", scope, model, key, what, f"{what} {change}"))


def _model_changes(diff: BaselineDiff, model: str, pairs: Sequence[tuple[Test, Test]]) -> None:
    counted = [(b, n) for b, n in pairs if score(b) is not None and score(n) is not None]
    rates = compare_pass_rates(
        [score(n) or (0, 1) for _, n in counted], [score(b) or (0, 1) for b, _ in counted]
    )
    if rates is not None and rates.significant:
        kind = "regression" if rates.diff < 0 else "improvement"
        text = (
            f"pass rate {_pct(rates.a)}, was {_pct(rates.b)} on {rates.tests} tests "
            f"({rates.diff * 100:+.0f} pts, 95% CI {rates.ci_low * 100:+.0f}.."
            f"{rates.ci_high * 100:+.0f}, {format_p(rates.p_value)})"
        )
        diff._add(Finding(kind, "model", model, None, "pass rate", text))
    for what, value, statistic, margin, floor in (
        (
            "median latency",
            latency_of,
            statistics.median,
            diff.latency_margin,
            diff.latency_floor_s,
        ),
        ("mean cost", cost_of, _mean, diff.cost_margin, 0.0),
    ):
        xs, ys = [], []
        for b, n in pairs:
            vb, vn = value(b), value(n)
            if vb is not None and vn is not None:
                xs.append(vb)
                ys.append(vn)
        if not xs:
            continue
        old, now = statistic(xs), statistic(ys)
        if old <= 0 or abs(now - old) <= floor:
            continue
        ratio = now / old
        tests = f"{len(xs)} test{'s' if len(xs) != 1 else ''}"
        text = f"{what} {format_ratio(ratio)} the baseline's on {tests}"
        if ratio > 1 + margin:
            diff._add(Finding("regression", "model", model, None, what.split()[-1], text))
        elif ratio * (1 + margin) < 1:
            diff._add(Finding("improvement", "model", model, None, what.split()[-1], text))


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def diff_reports(
    base: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    latency_margin: float = DEFAULT_MARGIN,
    cost_margin: float = DEFAULT_MARGIN,
    latency_floor_s: float = DEFAULT_LATENCY_FLOOR_S,
) -> BaselineDiff:
    """Regressions and improvements of ``new`` against the baseline ``base`` (module docstring).
    Margins are fractions (``0.2``: 20% slower or dearer before it counts); a single test's
    latency change must also exceed ``latency_floor_s`` in absolute terms."""
    if latency_margin < 0 or cost_margin < 0:
        raise ValueError("diff_reports: margins are fractions >= 0 (0.2 means 20%)")
    diff = BaselineDiff(
        latency_margin=latency_margin, cost_margin=cost_margin, latency_floor_s=latency_floor_s
    )
    old_tests, new_tests = _index(base), _index(new)
    diff.new_tests = sorted(new_tests.keys() - old_tests.keys())
    diff.gone_tests = sorted(old_tests.keys() - new_tests.keys())
    shared = sorted(old_tests.keys() & new_tests.keys())
    diff.compared = len(shared)
    by_model: dict[str, list[tuple[Test, Test]]] = {}
    for key, model in shared:
        b, n = old_tests[(key, model)], new_tests[(key, model)]
        _test_outcome(diff, key, model, b, n)
        for what, value, margin, show, floor in (
            ("latency", latency_of, latency_margin, format_seconds, latency_floor_s),
            ("cost", cost_of, cost_margin, format_cost, 0.0),
        ):
            _change(
                diff,
                what,
                value(b),
                value(n),
                margin,
                scope="test",
                model=model,
                key=key,
                show=show,
                floor=floor,
            )
        if model:
            by_model.setdefault(model, []).append((b, n))
    for model, pairs in by_model.items():
        _model_changes(diff, model, pairs)
    return diff
