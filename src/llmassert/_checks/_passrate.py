"""``assert_pass_rate``: a pass rate over many results, with a Wilson score interval."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

from llmassert._checks._base import Check
from llmassert._checks._format import quote
from llmassert._checks._result import CheckResult
from llmassert._errors import LLMAssertionError, UsageError

__all__ = ["PassRate", "assert_pass_rate", "pass_rate", "wilson_interval"]

#: How many failures a pass-rate failure message lists.
MAX_LISTED = 5


def wilson_interval(passed: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a pass rate ``passed/total`` at ``confidence``."""
    if total <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - margin), min(1.0, centre + margin)


@dataclass(frozen=True)
class PassRate:
    """How many of ``total`` results passed. Truthy when ``rate >= required``."""

    passed: int
    total: int
    required: float
    confidence: float
    low: float
    high: float
    failures: tuple[tuple[int, str], ...] = ()

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def __bool__(self) -> bool:
        return self.total > 0 and self.rate >= self.required

    def __str__(self) -> str:
        return (
            f"{self.passed}/{self.total} passed ({self.rate:.0%}, {self.confidence:.0%} CI "
            f"{self.low:.0%}-{self.high:.0%}), required >= {self.required:.0%}"
        )


def _describe(index: int, item: object) -> str:
    if isinstance(item, CheckResult):
        return f"#{index} {item}"
    return f"#{index} failed"


def pass_rate(
    results: Iterable[object],
    min_rate: float,
    *,
    check: Check | None = None,
    confidence: float = 0.95,
) -> PassRate:
    """Count passes: ``results`` are ``CheckResult``s or bools, or - with ``check`` - outputs
    to run the check on."""
    if (
        isinstance(min_rate, bool)
        or not isinstance(min_rate, int | float)
        or not (0.0 <= min_rate <= 1.0)
    ):
        raise UsageError(
            f"assert_pass_rate: min_rate must be a fraction in [0, 1], got "
            f"{min_rate!r} (e.g. 0.8 for 80%)"
        )
    if not (isinstance(confidence, float) and 0.0 < confidence < 1.0):
        raise UsageError(f"assert_pass_rate: confidence must be in (0, 1), got {confidence!r}")
    if check is not None and not isinstance(check, Check):
        raise UsageError(
            f"assert_pass_rate: check must be a Check such as contains('x'), got {check!r}"
        )
    passed = total = 0
    failures: list[tuple[int, str]] = []
    for i, item in enumerate(results, start=1):
        if check is not None:
            item = check(item)
        if isinstance(item, CheckResult | bool):
            ok = bool(item)
        else:
            raise UsageError(
                f"assert_pass_rate: item #{i} is {type(item).__name__}, not a CheckResult or "
                "bool; pass check=... to check raw outputs"
            )
        total += 1
        if ok:
            passed += 1
        else:
            failures.append((i, _describe(i, item)))
    low, high = wilson_interval(passed, total, confidence)
    return PassRate(passed, total, float(min_rate), confidence, low, high, tuple(failures))


def assert_pass_rate(
    results: Iterable[object],
    min_rate: float,
    *,
    check: Check | None = None,
    confidence: float = 0.95,
) -> PassRate:
    """Assert that at least ``min_rate`` of ``results`` passed (the observed rate decides; the
    Wilson interval is reported so you can judge how much to trust it)::

        assert_pass_rate([contains("Paris")(llm.complete(q)) for _ in range(10)], 0.8)
    """
    __tracebackhide__ = True
    try:
        summary = pass_rate(results, min_rate, check=check, confidence=confidence)
    except UsageError as exc:
        raise exc.with_traceback(None) from None
    if summary:
        return summary
    lines = [f"assert_pass_rate failed: {summary}"]
    if summary.total == 0:
        lines.append("reason: no results were given")
    if summary.failures:
        lines.append(f"failures ({len(summary.failures)}):")
        lines += [f"  - {quote(text, 200)[1:-1]}" for _, text in summary.failures[:MAX_LISTED]]
        if len(summary.failures) > MAX_LISTED:
            lines.append(f"  ... and {len(summary.failures) - MAX_LISTED} more")
    width = summary.high - summary.low
    if summary.total and width > 0.3:
        lines.append(
            f"note: with {summary.total} samples the {confidence:.0%} CI is "
            f"{width * 100:.0f} points wide; more samples narrow it"
        )
    raise LLMAssertionError("\n".join(lines), result=summary)
