"""Confidence intervals of a pass rate, and the verdict modes built on them.

* :func:`wilson_interval`: the Wilson score interval (normal approximation; its coverage is
  close to the nominal level on average but can fall below it for some true rates).
* :func:`clopper_pearson_interval`: the exact (Clopper-Pearson) interval. Its bounds are beta
  quantiles; with whole-number counts the beta CDF equals a binomial tail,
  ``I_p(x, n - x + 1) = P(Binomial(n, p) >= x)``, so each bound is found by bisection on the
  binomial tail (no scipy). Its coverage is at least the nominal level for every true rate.

:func:`strict_min_samples` is the smallest number of samples for which the strict verdict (the
exact lower bound must reach the threshold) can pass at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from statistics import NormalDist

__all__ = [
    "VERDICTS",
    "binomial_tail",
    "clopper_pearson_interval",
    "strict_min_samples",
    "wilson_interval",
]

#: The verdict modes: the observed rate (the default), the exact interval's lower bound, every
#: sample passes (pass^k), at least one sample passes (pass@k).
VERDICTS = ("rate", "strict", "pass^k", "pass@k")

_BISECTIONS = 200


def wilson_interval(passed: float, total: float, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a pass rate ``passed/total`` at ``confidence``. ``passed``
    and ``total`` may be fractional (run reports use the sum of per-test rates and an effective
    sample size); ``(0, 1)`` when ``total`` is 0."""
    if total <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    margin = z * math.sqrt(max(0.0, p * (1 - p)) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - margin), min(1.0, centre + margin)


def _log_term(n: int, i: int, log_p: float, log_q: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * log_p
        + (n - i) * log_q
    )


def binomial_tail(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, summed term by term (no ``1 - cdf``
    cancellation, so small tails are accurate)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [_log_term(n, i, log_p, log_q) for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def _solve_increasing(f: Callable[[float], float], target: float) -> float:
    """The ``p`` in [0, 1] where the increasing function ``f`` crosses ``target``."""
    lo, hi = 0.0, 1.0
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@lru_cache(maxsize=4096)
def clopper_pearson_interval(
    passed: int, total: int, confidence: float = 0.95
) -> tuple[float, float]:
    """The exact two-sided Clopper-Pearson interval of ``passed/total`` at ``confidence``.

    The lower bound is the ``(1 - confidence) / 2`` quantile of ``Beta(passed, total - passed +
    1)`` (0 when nothing passed), the upper bound the ``(1 + confidence) / 2`` quantile of
    ``Beta(passed + 1, total - passed)`` (1 when everything passed).
    """
    if total <= 0:
        return 0.0, 1.0
    alpha = (1.0 - confidence) / 2
    if passed <= 0:
        low = 0.0
    elif passed >= total:
        low = alpha ** (1.0 / total)  # closed form: P(all pass) = p^n = alpha
    else:
        low = _solve_increasing(lambda p: binomial_tail(passed, total, p), alpha)
    if passed >= total:
        high = 1.0
    elif passed <= 0:
        high = 1.0 - alpha ** (1.0 / total)
    else:
        # P(X <= passed) = 1 - P(X >= passed + 1) falls as p grows: solve the tail = 1 - alpha
        high = _solve_increasing(lambda p: binomial_tail(passed + 1, total, p), 1.0 - alpha)
    return low, high


def strict_min_samples(pass_rate: float, confidence: float) -> int | None:
    """The smallest ``n`` with which the strict verdict can pass at all (``n/n`` passing gives
    an exact lower bound ``((1 - confidence) / 2) ** (1 / n)`` >= ``pass_rate``); ``None`` when no
    ``n`` can (``pass_rate`` 1: a lower bound never reaches 100%)."""
    if pass_rate >= 1.0:
        return None
    if pass_rate <= 0.0:
        return 1
    alpha = (1.0 - confidence) / 2
    n = max(1, math.ceil(math.log(alpha) / math.log(pass_rate)) - 1)
    while clopper_pearson_interval(n, n, confidence)[0] < pass_rate:
        n += 1
    return n
