"""The paired statistics of the model comparison, against published and independently computed
values (each reference value names its source)."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

from llmassert._reports._stats import (
    METHOD_MCNEMAR,
    METHOD_MONTE_CARLO,
    METHOD_SIGN_FLIP,
    bootstrap_resamples,
    compare_pass_rates,
    exact_mcnemar_p,
    newcombe_paired_interval,
    paired_rate_interval,
    percentile,
    ratio_interval,
    sign_flip_p_value,
    wilson_interval,
)


def binary(passed: list[int]) -> list[tuple[int, int]]:
    return [(p, 1) for p in passed]


# -- exact McNemar ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("only_a", "only_b", "expected"),
    [
        (2, 8, 0.109375),  # scipy.stats.binomtest(2, 10).pvalue
        (0, 8, 0.0078125),  # scipy.stats.binomtest(0, 8).pvalue
        (1, 11, 0.00634765625),  # scipy.stats.binomtest(1, 12).pvalue
        (4, 5, 1.0),  # scipy.stats.binomtest(4, 9).pvalue
        (5, 5, 1.0),  # scipy.stats.binomtest(5, 10).pvalue
        (12, 28, 0.01658900337497471),  # scipy.stats.binomtest(12, 40).pvalue
        (0, 0, 1.0),  # no discordant pair: no evidence either way
    ],
)
def test_exact_mcnemar_matches_the_exact_binomial_test(
    only_a: int, only_b: int, expected: float
) -> None:
    assert exact_mcnemar_p(only_a, only_b) == pytest.approx(expected, rel=1e-12)
    assert exact_mcnemar_p(only_b, only_a) == pytest.approx(expected, rel=1e-12)


# -- Newcombe's interval --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "low", "high"),
    [
        # Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency Tables" (2017),
        # ch. 8, complete response before/after consolidation therapy (Cavo et al. 2012),
        # Newcombe square-and-add: -0.0621 (95% CI -0.1186 to -0.0046), as asserted in the
        # book's R package (contingencytables, tests/testthat/test-ch8.R).
        ((59, 6, 16, 80), -0.1186, -0.0046),
        # The same book's airway hyper-responsiveness example (Bentur et al. 2009), table
        # rbind(c(1, 1), c(7, 12)): -0.2857 (95% CI -0.5069 to -0.0256).
        ((1, 1, 7, 12), -0.5069, -0.0256),
    ],
)
def test_newcombe_interval_matches_published_values(
    table: tuple[int, int, int, int], low: float, high: float
) -> None:
    got = newcombe_paired_interval(*table)
    assert got == pytest.approx((low, high), abs=6e-5)


def test_newcombe_interval_of_all_ties_is_symmetric_and_not_degenerate() -> None:
    low, high = newcombe_paired_interval(10, 0, 0, 0)
    # The Wilson lower bound of 10/10 is 1 / (1 + z^2 / n), z = scipy.stats.norm.ppf(0.975):
    # 0.7224672001371107, so the difference may be up to ~0.28 either way.
    assert low == pytest.approx(-(1 - wilson_interval(10, 10)[0]))
    assert high == pytest.approx(-low)
    assert wilson_interval(10, 10)[0] == pytest.approx(0.7224672001371107, abs=1e-12)


def test_the_general_interval_is_newcombes_for_single_run_tests() -> None:
    rng = random.Random(7)
    for _ in range(200):
        table = [rng.randrange(0, 12) for _ in range(4)]
        if sum(table) == 0:
            continue
        both, only_a, only_b, neither = table
        pairs = [(1, 1)] * both + [(1, 0)] * only_a + [(0, 1)] * only_b + [(0, 0)] * neither
        got = paired_rate_interval([(x, 1) for x, _ in pairs], [(y, 1) for _, y in pairs])
        assert got == pytest.approx(newcombe_paired_interval(*table))
        assert -1 <= got[0] <= (only_a - only_b) / sum(table) <= got[1] <= 1


def test_repeated_tests_get_a_narrower_interval_than_one_sample_each() -> None:
    # Ten tests, each sampled 10 times, both models always pass: the rates do not vary, so
    # the effective sample size is the number of tests (nothing is known about clustering).
    repeated = paired_rate_interval([(10, 10)] * 10, [(10, 10)] * 10)
    single = paired_rate_interval([(1, 1)] * 10, [(1, 1)] * 10)
    assert repeated == pytest.approx(single)
    # Rates that vary little across tests carry more information than single runs.
    a = [(9, 10), (8, 10), (9, 10), (8, 10), (9, 10), (8, 10), (9, 10), (8, 10)]
    b = [(6, 10), (5, 10), (6, 10), (5, 10), (6, 10), (5, 10), (6, 10), (5, 10)]
    low, high = paired_rate_interval(a, b)
    assert 0 < low < 0.3 < high < 0.6
    assert high - low < 0.5


# -- the sign-flip permutation test -----------------------------------------------------------


def brute_force_sign_flip(diffs: list[Fraction]) -> float:
    scale = 105  # a common denominator of 3, 5 and 7: exact integer sums
    values = [int(d * scale) for d in diffs]
    observed = abs(sum(values))
    hits = sum(
        1
        for signs in itertools.product((1, -1), repeat=len(values))
        if abs(sum(s * v for s, v in zip(signs, values, strict=True))) >= observed
    )
    return hits / 2 ** len(values)


def test_sign_flip_on_rates_matches_scipy() -> None:
    a = [9, 10, 7, 8, 6, 10, 5, 9]
    b = [6, 8, 7, 5, 7, 9, 2, 8]
    diffs = [Fraction(x - y, 10) for x, y in zip(a, b, strict=True)]
    p, exact = sign_flip_p_value(diffs)
    # scipy.stats.permutation_test((a/10, b/10), lambda x, y, axis: np.mean(x - y, axis=axis),
    #     permutation_type="samples", n_resamples=np.inf, vectorized=True).pvalue == 0.0625
    assert exact
    assert p == pytest.approx(0.0625)
    a2 = [2, 3, 4, 1, 5, 3]
    b2 = [3, 2, 4, 2, 4, 4]
    p2, _ = sign_flip_p_value([Fraction(x - y, 5) for x, y in zip(a2, b2, strict=True)])
    assert p2 == pytest.approx(1.0)  # the same scipy call on these rates: 1.0


def test_sign_flip_equals_brute_force_enumeration_for_mixed_denominators() -> None:
    rng = random.Random(3)
    for _ in range(12):
        diffs = [Fraction(rng.randrange(-7, 8), rng.choice((3, 5, 7))) for _ in range(9)]
        p, exact = sign_flip_p_value(diffs)
        assert exact
        assert p == pytest.approx(brute_force_sign_flip(diffs))


def test_sign_flip_on_binary_differences_is_exact_mcnemar() -> None:
    for only_a, only_b, ties in [(9, 1, 5), (3, 3, 0), (0, 7, 2), (20, 12, 30)]:
        diffs = [Fraction(1)] * only_a + [Fraction(-1)] * only_b + [Fraction(0)] * ties
        assert sign_flip_p_value(diffs) == (pytest.approx(exact_mcnemar_p(only_a, only_b)), True)


def test_sign_flip_falls_back_to_seeded_monte_carlo_when_exact_is_too_costly() -> None:
    rng = random.Random(11)
    diffs = [Fraction(rng.randrange(1, 997), 997) * rng.choice((1, -1)) for _ in range(60)]
    diffs += [Fraction(rng.randrange(1, 991), 991) for _ in range(60)]
    p, exact = sign_flip_p_value(diffs)
    assert not exact
    assert 0 < p < 1  # Monte Carlo never reports 0
    result = compare_pass_rates(
        [(d.numerator if d > 0 else 0, d.denominator) for d in diffs],
        [(-d.numerator if d < 0 else 0, d.denominator) for d in diffs],
    )
    assert result is not None
    assert result.method == METHOD_MONTE_CARLO
    assert result.p_value == p  # seeded from the data: the same differences, the same p


# -- compare_pass_rates on crafted outcome tables ----------------------------------------------


def test_a_clear_win() -> None:
    # 30 tests: A passes 28, B passes 18; A wins every discordant pair (10 of them).
    a = binary([1] * 28 + [0] * 2)
    b = binary([1] * 18 + [0] * 12)
    result = compare_pass_rates(a, b)
    assert result is not None
    assert result.method == METHOD_MCNEMAR
    assert result.diff == pytest.approx(10 / 30)
    assert result.p_value == pytest.approx(0.001953125)  # scipy.stats.binomtest(0, 10).pvalue
    assert result.significant
    assert 0 < result.ci_low < result.diff < result.ci_high < 1


def test_a_difference_that_is_not_significant() -> None:
    # 20 tests: 5 discordant pairs, 4 for A and 1 for B.
    a = binary([1] * 10 + [1, 1, 1, 1, 0] + [0] * 5)
    b = binary([1] * 10 + [0, 0, 0, 0, 1] + [0] * 5)
    result = compare_pass_rates(a, b)
    assert result is not None
    assert result.diff == pytest.approx(3 / 20)
    assert result.p_value == pytest.approx(0.375)  # scipy.stats.binomtest(1, 5).pvalue
    assert not result.significant
    assert result.ci_low < 0 < result.ci_high


def test_all_ties() -> None:
    result = compare_pass_rates(binary([1, 1, 0, 1, 0]), binary([1, 1, 0, 1, 0]))
    assert result is not None
    assert (result.diff, result.p_value, result.significant) == (0.0, 1.0, False)
    assert result.ci_low < 0 < result.ci_high


def test_zero_shared_tests() -> None:
    assert compare_pass_rates([], []) is None


def test_repeated_tests_use_the_permutation_test_on_rates() -> None:
    a = [(9, 10), (10, 10), (7, 10), (8, 10), (6, 10), (10, 10), (5, 10), (9, 10)]
    b = [(6, 10), (8, 10), (7, 10), (5, 10), (7, 10), (9, 10), (2, 10), (8, 10)]
    result = compare_pass_rates(a, b)
    assert result is not None
    assert result.method == METHOD_SIGN_FLIP
    assert result.p_value == pytest.approx(0.0625)  # the scipy value above
    assert (result.a, result.b) == (pytest.approx(0.8), pytest.approx(0.65))
    assert not result.significant
    assert result.ci_low < 0 < result.ci_high  # consistent with the test here


def test_bad_outcomes_are_refused() -> None:
    with pytest.raises(ValueError, match="pair up"):
        compare_pass_rates([(1, 1)], [])
    with pytest.raises(ValueError, match="bad outcome"):
        compare_pass_rates([(3, 2)], [(1, 1)])


# -- percentiles and the bootstrap -------------------------------------------------------------


def test_percentile_is_linear_interpolation() -> None:
    # numpy.percentile([0.3, 0.1, 0.5, 0.2, 0.9], [50, 95]) == [0.3, 0.82]
    assert percentile([0.3, 0.1, 0.5, 0.2, 0.9], 50) == pytest.approx(0.3)
    assert percentile([0.3, 0.1, 0.5, 0.2, 0.9], 95) == pytest.approx(0.82)
    # numpy.percentile([1, 2, 3, 4], [50, 95]) == [2.5, 3.85]
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0


def test_ratio_interval_is_reproducible_and_order_free() -> None:
    rng = random.Random(5)
    a = [0.1 + rng.random() * 0.05 for _ in range(40)]
    b = [x * 2.3 + rng.random() * 0.02 for x in a]
    first = ratio_interval(a, b, "median")
    assert first is not None
    assert first.ci_low is not None
    assert first.ci_high is not None
    assert first.ci_low < first.ratio < first.ci_high
    assert first.ci_low > 2.2
    assert first.ci_high < 2.7
    assert ratio_interval(list(reversed(a)), list(reversed(b)), "median") == first
    swapped = ratio_interval(b, a, "median")
    assert swapped is not None
    assert swapped.ratio == pytest.approx(1 / first.ratio)
    mean = ratio_interval(a, b, "mean")
    assert mean is not None
    assert mean.ratio == pytest.approx(sum(b) / sum(a))


def test_ratio_interval_edge_cases() -> None:
    assert ratio_interval([], [], "mean") is None
    assert ratio_interval([0.0, 0.0], [1.0, 2.0], "mean") is None  # a's mean is 0: undefined
    one = ratio_interval([2.0], [5.0], "median")
    assert one is not None
    assert (one.ratio, one.ci_low, one.ci_high) == (2.5, 2.5, 2.5)


def test_large_suites_get_fewer_resamples_but_never_too_few() -> None:
    assert bootstrap_resamples(30) == 2000
    assert bootstrap_resamples(1000) == 500
    assert bootstrap_resamples(100_000) == 400
