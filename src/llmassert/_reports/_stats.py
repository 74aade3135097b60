"""Paired statistics for comparing two models on the same tests (pure Python, no numpy).

Two models ran the same tests; each test gives each model a *score*: 1 or 0 for a test that
ran once (passed or not), the pass rate ``passed / total`` of its samples for a repeated test.
The tests are the unit of the comparison (a test is a draw from "the kind of inputs this suite
exercises"), and the two scores of one test are paired: a hard test is hard for both models, so
comparing the models test by test removes that shared difficulty from the noise.

Pass rates — :func:`compare_pass_rates`
    *The test.* The paired sign-flip permutation test on the per-test differences
    ``d_i = score_a_i - score_b_i``: if the two models were interchangeable, each ``d_i`` would
    be as likely to have the opposite sign, so the p-value is the share of the ``2^k`` sign
    assignments of the ``k`` non-zero differences whose sum is at least as far from zero as the
    observed one (two-sided). It needs no normality and no large sample. For single-run tests the
    differences are -1, 0 or +1 and the test *is* the exact McNemar test (the two-sided exact
    binomial test on the discordant pairs: the count of tests only model A passed is
    ``Binomial(discordant, 1/2)`` under the null), reported under that name. With repeated tests
    the rates are fractions ``k/n``; scaled to a common denominator the differences are
    integers and the null distribution of their sum is computed exactly by convolution. Only
    when that would take too long (many tests whose repeat counts have a large least common
    multiple) is it estimated from 20,000 Monte Carlo sign flips seeded from the data, with the
    ``(1 + hits) / (1 + resamples)`` estimate, which never reports p = 0.

    *The interval.* Newcombe's hybrid score interval for the difference of paired proportions
    (Newcombe 1998, Statistics in Medicine 17:2635, method 10; recommended by Fagerland,
    Lydersen & Laake 2014, Statistics in Medicine 33:2850): the Wilson score intervals of the two
    models' pass rates, combined "square-and-add" with the estimated correlation of the pairs
    (with Newcombe's continuity adjustment of that correlation). It keeps close to its nominal
    coverage for small samples and for rates near 0 or 1, where the Wald interval does not, and
    stays inside ``[-1, 1]``. With repeated tests a model's pass rate is the mean of per-test
    rates, i.e. a proportion from clustered samples; the same square-and-add construction (the
    MOVER of Zou & Donner 2008) then takes each Wilson interval at the *effective sample size*
    (Kish's design effect: ``n_eff = p (1 - p) / Var(mean of the per-test rates)``, the
    variance estimated across tests, kept between the number of tests and the number of
    samples, and equal to the number of tests when the rates do not vary, which tells nothing
    about the clustering), and the correlation is the Pearson correlation of the per-test rates
    with the same continuity adjustment. For single-run tests ``n_eff`` is the number of tests
    and the correlation is Newcombe's phi, so both cases are one formula.

    Significance is decided by the test (``p < 1 - confidence``); the interval describes the
    size of the difference. Near the threshold the two can disagree by a hair (one is exact,
    the other approximate); the report shows both.

Latency and cost — :func:`ratio_interval`
    The ratio of the medians (latency) or of the means (cost) of per-test values, model B over
    model A, with a paired percentile bootstrap over tests: resample the tests with
    replacement (both models' values of a test move together) 2,000 times (fewer for
    suites of more than 250 tests: see :func:`bootstrap_resamples`). The random generator
    is seeded with a hash of the sorted value pairs, so the same values always give the same
    interval, whatever the order of the tests. Percentile intervals of a ratio are invariant
    under the log transform, so ``b/a`` and ``a/b`` get reciprocal intervals.
"""

from __future__ import annotations

import hashlib
import math
import operator
import random
import statistics
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Any

from llmassert._checks._intervals import wilson_interval

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE",
    "MONTE_CARLO_RESAMPLES",
    "PassRateComparison",
    "Ratio",
    "bootstrap_resamples",
    "compare_pass_rates",
    "data_seed",
    "exact_mcnemar_p",
    "newcombe_paired_interval",
    "paired_rate_interval",
    "percentile",
    "ratio_interval",
    "sign_flip_p_value",
    "wilson_interval",
]

#: The confidence level of every interval in a report (and 1 - the significance threshold).
CONFIDENCE = 0.95
#: Paired bootstrap resamples for the latency and cost ratios.
BOOTSTRAP_RESAMPLES = 2000
_RESAMPLED_VALUES = 500_000
_MIN_RESAMPLES = 400
#: Sign flips of the Monte Carlo permutation test (used only when the exact one is too costly).
MONTE_CARLO_RESAMPLES = 20_000
#: The most (tests x sums) cells the exact convolution may fill before Monte Carlo is used.
_EXACT_WORK_LIMIT = 2_000_000

METHOD_MCNEMAR = "exact McNemar"
METHOD_SIGN_FLIP = "exact paired sign-flip permutation test on per-test pass rates"
METHOD_MONTE_CARLO = (
    f"paired sign-flip permutation test on per-test pass rates "
    f"({MONTE_CARLO_RESAMPLES} seeded Monte Carlo resamples)"
)
CI_NEWCOMBE = "Newcombe hybrid score (paired)"
CI_MOVER = "Newcombe hybrid score (paired) on per-test pass rates, effective sample sizes"


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def newcombe_paired_interval(
    both: int, only_a: int, only_b: int, neither: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for ``p_a - p_b`` from a paired 2x2 table of
    single-run tests: ``both`` passed by both models, ``only_a`` by model A only, ``only_b`` by
    model B only, ``neither`` by neither."""
    pairs = [(1, 1)] * both + [(1, 0)] * only_a + [(0, 1)] * only_b + [(0, 0)] * neither
    return paired_rate_interval([(a, 1) for a, _ in pairs], [(b, 1) for _, b in pairs], confidence)


def _effective_size(rates: Sequence[float], samples: int) -> float:
    """Kish's effective sample size of the mean of per-test rates (see the module docstring)."""
    m = len(rates)
    p = math.fsum(rates) / m
    if m < 2 or not 0 < p < 1:
        return float(m)
    variance_of_mean = math.fsum((r - p) ** 2 for r in rates) / (m * (m - 1))
    if variance_of_mean <= 0:
        return float(m)
    return min(float(samples), max(float(m), p * (1 - p) / variance_of_mean))


def _adjusted_correlation(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The Pearson correlation of the pairs with Newcombe's continuity adjustment of the
    covariance (``1 / 2m``: for 0/1 scores, his ``ad - bc`` reduced by ``n / 2``)."""
    m = len(xs)
    mx, my = math.fsum(xs) / m, math.fsum(ys) / m
    var_x = math.fsum((x - mx) ** 2 for x in xs) / m
    var_y = math.fsum((y - my) ** 2 for y in ys) / m
    if var_x <= 0 or var_y <= 0:
        return 0.0
    cov = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / m
    step = 1 / (2 * m)
    if cov > step:
        cov -= step
    elif cov >= 0:
        cov = 0.0
    return max(-1.0, min(1.0, cov / math.sqrt(var_x * var_y)))


def paired_rate_interval(
    outcomes_a: Sequence[tuple[int, int]],
    outcomes_b: Sequence[tuple[int, int]],
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """The interval of ``mean(rate_a) - mean(rate_b)`` for per-test ``(passed, total)`` pairs
    of two models on the same tests (Newcombe / MOVER with effective sample sizes: see the
    module docstring). ``(-1, 1)`` when there is no test."""
    m = len(outcomes_a)
    if m == 0:
        return -1.0, 1.0
    ra = [k / n for k, n in outcomes_a]
    rb = [k / n for k, n in outcomes_b]
    p1, p2 = math.fsum(ra) / m, math.fsum(rb) / m
    n1 = _effective_size(ra, sum(n for _, n in outcomes_a))
    n2 = _effective_size(rb, sum(n for _, n in outcomes_b))
    l1, u1 = wilson_interval(p1 * n1, n1, confidence)
    l2, u2 = wilson_interval(p2 * n2, n2, confidence)
    r = _adjusted_correlation(ra, rb)
    diff = p1 - p2
    below = (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2)
    above = (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * r * (p2 - l2) * (u1 - p1)
    low = diff - math.sqrt(max(0.0, below))
    high = diff + math.sqrt(max(0.0, above))
    return max(-1.0, low), min(1.0, high)


def exact_mcnemar_p(only_a: int, only_b: int) -> float:
    """The exact McNemar p-value (two-sided): the exact binomial test of ``only_a`` successes in
    ``only_a + only_b`` discordant pairs at probability 1/2."""
    k = only_a + only_b
    if k == 0:
        return 1.0
    low = min(only_a, only_b)
    if 2 * low == k:
        return 1.0
    tail = sum(math.comb(k, x) for x in range(low + 1))
    p: float = 2 * tail / 2**k
    return min(1.0, p)


def _as_fraction(value: float | Fraction) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(value).limit_denominator(1_000_000)


def sign_flip_p_value(
    diffs: Sequence[float | Fraction], *, seed: int | None = None
) -> tuple[float, bool]:
    """The two-sided p-value of the paired sign-flip permutation test of ``sum(diffs) == 0``,
    and whether it is exact (``False``: Monte Carlo, seeded with ``seed`` or from the data).

    Zero differences carry no information on the sign and are left out (as McNemar leaves out
    the concordant pairs)."""
    nonzero = [d for d in (_as_fraction(x) for x in diffs) if d != 0]
    k = len(nonzero)
    if k == 0:
        return 1.0, True
    scale = math.lcm(*(d.denominator for d in nonzero))
    values = [abs(int(d * scale)) for d in nonzero]
    observed = abs(sum(int(d * scale) for d in nonzero))
    if len(set(values)) == 1:
        # Every |d| equal (always so for single-run tests): the count of positive signs is
        # Binomial(k, 1/2) and |sum| = v * |2x - k|.
        v = values[0]
        hits = sum(math.comb(k, x) for x in range(k + 1) if v * abs(2 * x - k) >= observed)
        return min(1.0, hits / 2**k), True
    total = sum(values)
    if k * (2 * total + 1) <= _EXACT_WORK_LIMIT:
        counts = {0: 1}
        for v in values:
            shifted: dict[int, int] = {}
            for s, c in counts.items():
                shifted[s + v] = shifted.get(s + v, 0) + c
                shifted[s - v] = shifted.get(s - v, 0) + c
            counts = shifted
        hits = sum(c for s, c in counts.items() if abs(s) >= observed)
        return min(1.0, hits / 2**k), True
    rng = random.Random(seed if seed is not None else data_seed(values))
    hits = 0
    for _ in range(MONTE_CARLO_RESAMPLES):
        bits = rng.getrandbits(k)
        s = 0
        for i, v in enumerate(values):
            s += v if (bits >> i) & 1 else -v
        if abs(s) >= observed:
            hits += 1
    return (1 + hits) / (1 + MONTE_CARLO_RESAMPLES), False


@dataclass(frozen=True)
class PassRateComparison:
    """The paired comparison of two models' pass rates over their shared tests."""

    tests: int
    a: float
    b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    ci_method: str
    significant: bool
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        """The report's ``pass_rate`` object."""
        return {
            "a": self.a,
            "b": self.b,
            "diff": self.diff,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "p_value": self.p_value,
            "method": self.method,
            "ci_method": self.ci_method,
            "significant": self.significant,
        }


def compare_pass_rates(
    outcomes_a: Sequence[tuple[int, int]],
    outcomes_b: Sequence[tuple[int, int]],
    confidence: float = CONFIDENCE,
) -> PassRateComparison | None:
    """Compare two models on the same tests (in the same order), each test given per model as
    ``(passed, total)``: ``(1, 1)`` / ``(0, 1)`` for a single run, the sample counts of a
    repeated test. ``None`` when there is no test to compare."""
    if len(outcomes_a) != len(outcomes_b):
        raise ValueError("compare_pass_rates: the two outcome lists must pair up test by test")
    m = len(outcomes_a)
    if m == 0:
        return None
    for passed, total in (*outcomes_a, *outcomes_b):
        if total <= 0 or not 0 <= passed <= total:
            raise ValueError(f"compare_pass_rates: bad outcome ({passed}, {total})")
    fa = [Fraction(k, n) for k, n in outcomes_a]
    fb = [Fraction(k, n) for k, n in outcomes_b]
    binary = all(n == 1 for _, n in (*outcomes_a, *outcomes_b))
    low, high = paired_rate_interval(outcomes_a, outcomes_b, confidence)
    if binary:
        only_a = sum(1 for x, y in zip(fa, fb, strict=True) if x > y)
        only_b = sum(1 for x, y in zip(fa, fb, strict=True) if x < y)
        p_value = exact_mcnemar_p(only_a, only_b)
        method = METHOD_MCNEMAR
    else:
        p_value, exact = sign_flip_p_value([x - y for x, y in zip(fa, fb, strict=True)])
        method = METHOD_SIGN_FLIP if exact else METHOD_MONTE_CARLO
    return PassRateComparison(
        tests=m,
        a=float(sum(fa) / m),
        b=float(sum(fb) / m),
        diff=float((sum(fa) - sum(fb)) / m),
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        method=method,
        ci_method=CI_NEWCOMBE if binary else CI_MOVER,
        significant=p_value < 1 - confidence,
        confidence=confidence,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation between order statistics (the
    usual definition: numpy's default, R's type 7). ``values`` need not be sorted."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def data_seed(*parts: object) -> int:
    """A seed derived from the data (SHA-256 of its ``repr``): the same data, the same seed, in
    every process and Python version."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Ratio:
    """``statistic(b) / statistic(a)`` over the shared tests, with a paired bootstrap interval
    (``None`` bounds when no resample had a non-zero denominator)."""

    ratio: float
    ci_low: float | None
    ci_high: float | None
    tests: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ratio": self.ratio,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "tests": self.tests,
        }


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def bootstrap_resamples(tests: int) -> int:
    """How many bootstrap resamples a ratio over ``tests`` tests gets: 2,000, fewer for large
    suites (at most half a million resampled values, at least 400 resamples) so a report stays
    cheap; the interval stays reproducible either way."""
    return max(_MIN_RESAMPLES, min(BOOTSTRAP_RESAMPLES, _RESAMPLED_VALUES // max(1, tests)))


_STATISTICS: dict[str, Callable[[Sequence[float]], float]] = {
    "median": statistics.median,
    "mean": _mean,
}


def ratio_interval(
    values_a: Sequence[float],
    values_b: Sequence[float],
    statistic: str,
    *,
    confidence: float = CONFIDENCE,
    resamples: int | None = None,
) -> Ratio | None:
    """``statistic(values_b) / statistic(values_a)`` (``statistic``: ``"median"`` or
    ``"mean"``) for per-test values paired by position, with a paired percentile bootstrap
    interval seeded from the data. ``None`` when there are no pairs or model A's statistic is 0
    (the ratio is undefined)."""
    if len(values_a) != len(values_b):
        raise ValueError("ratio_interval: the two value lists must pair up test by test")
    stat = _STATISTICS[statistic]
    pairs = sorted(zip((float(v) for v in values_a), (float(v) for v in values_b), strict=True))
    m = len(pairs)
    if m == 0:
        return None
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    base = stat(xs)
    if base <= 0:
        return None
    ratio = stat(ys) / base
    ratios: list[float] = []
    if m > 1:
        rng = random.Random(data_seed(statistic, pairs))
        for _ in range(bootstrap_resamples(m) if resamples is None else resamples):
            # m uniform indices from 32-bit words (little-endian: the same on every platform;
            # the modulo bias is below m / 2^32), picked out by one C-level itemgetter.
            words = struct.unpack(f"<{m}I", rng.getrandbits(32 * m).to_bytes(4 * m, "little"))
            pick = operator.itemgetter(*[w % m for w in words])
            denominator = stat(pick(xs))
            if denominator > 0:
                ratios.append(stat(pick(ys)) / denominator)
    else:
        ratios.append(ratio)
    if not ratios:
        return Ratio(ratio, None, None, m)
    tail = (1 - confidence) / 2 * 100
    return Ratio(ratio, percentile(ratios, tail), percentile(ratios, 100 - tail), m)
