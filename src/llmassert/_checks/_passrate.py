"""``assert_pass_rate``: a pass rate over many results, with a confidence interval and a verdict
mode (see :mod:`llmassert._checks._intervals` for the maths)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llmassert._checks._base import Check
from llmassert._checks._format import quote
from llmassert._checks._intervals import (
    VERDICTS,
    clopper_pearson_interval,
    strict_min_samples,
    wilson_interval,
)
from llmassert._checks._result import CheckResult
from llmassert._errors import LLMAssertionError, UsageError

__all__ = [
    "PassRate",
    "assert_pass_rate",
    "pass_rate",
    "percent",
    "simulated_pass_probability",
    "strict_unreachable",
    "summarize",
    "wilson_interval",
]

#: How many failures a pass-rate failure message lists.
MAX_LISTED = 5


def percent(value: float) -> str:
    """``0.6915`` -> ``'69.2%'``, ``1.0`` -> ``'100%'`` (one decimal at most)."""
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def strict_unreachable(total: int, min_rate: float, confidence: float, *, noun: str) -> str | None:
    """Why ``verdict='strict'`` can never pass with ``total`` samples (``None`` when it can).
    ``noun`` names the count in the advice: ``"repeat"`` or ``"results"``."""
    minimum = strict_min_samples(min_rate, confidence)
    if minimum is None:
        return (
            f"verdict='strict' can never pass with a required rate of {min_rate:g}: an "
            "interval's lower bound never reaches 100%; use verdict='pass^k' to require every "
            "sample to pass"
        )
    if total >= minimum:
        return None
    low = clopper_pearson_interval(total, total, confidence)[0]
    given = f"repeat={total}" if noun == "repeat" else f"{total} results"
    fix = f"repeat >= {minimum}" if noun == "repeat" else f"at least {minimum} results"
    return (
        f"verdict='strict' can never pass with {given}: even {total}/{total} passing give a "
        f"{confidence:.0%} exact lower bound of {percent(low)}, below the required "
        f"{min_rate:g}; use {fix} (or a lower required rate or confidence)"
    )


@dataclass(frozen=True)
class PassRate:
    """How many of ``total`` results passed, and the verdict. Truthy when the verdict passes:

    * ``verdict="rate"``: the observed rate ``passed / total`` is at least ``required``;
    * ``"strict"``: the exact (Clopper-Pearson) interval's lower bound ``low`` is at least
      ``required``;
    * ``"pass^k"``: every result passed; ``"pass@k"``: at least one did.

    ``low`` / ``high`` are the Wilson interval, except in strict mode (the exact interval).
    """

    passed: int
    total: int
    required: float
    confidence: float
    low: float
    high: float
    failures: tuple[tuple[int, str], ...] = ()
    verdict: str = "rate"
    #: The ``k`` of pass^k / pass@k: the planned number of samples (``total`` when ``None``).
    planned: int | None = None

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def __bool__(self) -> bool:
        if self.total <= 0:
            return False
        if self.verdict == "strict":
            return self.low >= self.required
        if self.verdict == "pass^k":
            return self.passed == self.total
        if self.verdict == "pass@k":
            return self.passed >= 1
        return self.rate >= self.required

    @property
    def interval_name(self) -> str:
        """``"exact"`` (Clopper-Pearson) in strict mode, else ``"Wilson"``."""
        return "exact" if self.verdict == "strict" else "Wilson"

    def interval(self) -> str:
        """E.g. ``95% CI 40%-89%`` (Wilson) or ``95% exact CI 69.2%-100%`` (strict)."""
        if self.verdict == "strict":
            return f"{self.confidence:.0%} exact CI {percent(self.low)}-{percent(self.high)}"
        return f"{self.confidence:.0%} CI {self.low:.0%}-{self.high:.0%}"

    def requirement(self) -> str:
        """What the verdict required, in words."""
        if self.verdict == "strict":
            return f"required lower bound >= {self.required:.0%}"
        k = self.planned or self.total
        if self.verdict == "pass^k":
            return f"required all {k} to pass (pass^{k})"
        if self.verdict == "pass@k":
            return f"required at least 1 of {k} to pass (pass@{k})"
        return f"required >= {self.required:.0%}"

    def __str__(self) -> str:
        return (
            f"{self.passed}/{self.total} passed ({self.rate:.0%}, {self.interval()}), "
            f"{self.requirement()}"
        )


def _describe(index: int, item: object) -> str:
    if isinstance(item, CheckResult):
        return f"#{index} {item}"
    return f"#{index} failed"


def _check_verdict(verdict: str, min_rate: float | None) -> float:
    """Validate ``verdict`` with ``min_rate``; the threshold the verdict uses."""
    if verdict not in VERDICTS:
        raise UsageError(
            f"assert_pass_rate: verdict must be one of {', '.join(map(repr, VERDICTS))}, got "
            f"{verdict!r}"
        )
    if verdict in ("pass^k", "pass@k"):
        if min_rate is not None:
            every = "every result must pass" if verdict == "pass^k" else "one passing result"
            raise UsageError(
                f"assert_pass_rate: min_rate has no meaning with verdict={verdict!r} ({every} "
                "decides); leave it out"
            )
        return 1.0 if verdict == "pass^k" else 0.0
    if min_rate is None:
        raise UsageError(
            f"assert_pass_rate: verdict={verdict!r} needs min_rate, the fraction that must pass "
            "(e.g. 0.8)"
        )
    if (
        isinstance(min_rate, bool)
        or not isinstance(min_rate, int | float)
        or not (0.0 <= min_rate <= 1.0)
    ):
        raise UsageError(
            f"assert_pass_rate: min_rate must be a fraction in [0, 1], got "
            f"{min_rate!r} (e.g. 0.8 for 80%)"
        )
    return float(min_rate)


def summarize(
    passed: int,
    total: int,
    required: float,
    *,
    confidence: float = 0.95,
    verdict: str = "rate",
    failures: tuple[tuple[int, str], ...] = (),
    planned: int | None = None,
) -> PassRate:
    """The :class:`PassRate` of ``passed`` out of ``total`` (inputs already validated)."""
    interval = clopper_pearson_interval if verdict == "strict" else wilson_interval
    low, high = interval(passed, total, confidence)
    return PassRate(passed, total, required, confidence, low, high, failures, verdict, planned)


def pass_rate(
    results: Iterable[object],
    min_rate: float | None = None,
    *,
    check: Check | None = None,
    confidence: float = 0.95,
    verdict: str = "rate",
) -> PassRate:
    """Count passes: ``results`` are ``CheckResult``s or bools, or - with ``check`` - outputs
    (e.g. the responses of ``model.sample(...)``) to run the check on."""
    required = _check_verdict(verdict, min_rate)
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
    if verdict == "strict" and total:
        problem = strict_unreachable(total, required, confidence, noun="results")
        if problem is not None:
            raise UsageError(f"assert_pass_rate: {problem}")
    return summarize(
        passed,
        total,
        required,
        confidence=confidence,
        verdict=verdict,
        failures=tuple(failures),
    )


def assert_pass_rate(
    results: Iterable[object],
    min_rate: float | None = None,
    *,
    check: Check | None = None,
    confidence: float = 0.95,
    verdict: str = "rate",
) -> PassRate:
    """Assert that at least ``min_rate`` of ``results`` passed. By default the observed rate
    decides (the Wilson interval is reported so you can judge how much to trust it);
    ``verdict="strict"`` requires the exact interval's lower bound to reach ``min_rate``,
    ``"pass^k"`` every result to pass and ``"pass@k"`` at least one (no ``min_rate`` then)::

        assert_pass_rate(llm.sample(q, n=10), 0.8, check=contains("Paris"))
    """
    __tracebackhide__ = True
    try:
        summary = pass_rate(results, min_rate, check=check, confidence=confidence, verdict=verdict)
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
    if summary.total and width > 0.3 and verdict in ("rate", "strict"):
        lines.append(
            f"note: with {summary.total} samples the {confidence:.0%} CI is "
            f"{width * 100:.0f} points wide; more samples narrow it"
        )
    raise LLMAssertionError("\n".join(lines), result=summary)


def simulated_pass_probability(
    true_rate: float,
    repeat: int,
    min_rate: float | None = None,
    *,
    verdict: str = "rate",
    confidence: float = 0.95,
    trials: int = 2000,
    seed: int = 0,
) -> float:
    """How often a verdict passes for a model whose samples pass with probability
    ``true_rate``: ``trials`` seeded verdicts of ``repeat`` simulated samples each (for the
    calibration test and benchmark: false-pass and false-fail rates of each mode)."""
    import random

    required = _check_verdict(verdict, min_rate)
    rng = random.Random(seed)
    passes = 0
    for _ in range(trials):
        passed = sum(rng.random() < true_rate for _ in range(repeat))
        passes += bool(summarize(passed, repeat, required, confidence=confidence, verdict=verdict))
    return passes / trials
