"""Calibration of the verdict modes: with a simulated model whose true pass probability is
known, many seeded verdicts show that the strict mode's false-pass rate (true rate at or below
the threshold) stays within what its confidence states; the observed-rate mode's does not."""

from __future__ import annotations

import pytest

from llmassert._checks._passrate import simulated_pass_probability


@pytest.mark.parametrize(("true_rate", "repeat"), [(0.8, 40), (0.75, 60), (0.7, 17), (0.79, 100)])
def test_strict_false_pass_rate_stays_within_its_confidence(true_rate: float, repeat: int) -> None:
    # 95% two-sided: at most 2.5% false passes promised; a wide margin for 3000 trials
    rate = simulated_pass_probability(
        true_rate, repeat, 0.8, verdict="strict", trials=3000, seed=11
    )
    assert rate <= 0.04


def test_the_observed_rate_mode_passes_models_below_the_threshold_often() -> None:
    # what "rate" does not promise: at a true rate of 78%, 40 samples pass 80% about 40% of runs
    rate = simulated_pass_probability(0.78, 40, 0.8, trials=3000, seed=11)
    assert 0.25 <= rate <= 0.6


def test_pass_k_modes_match_their_formulas() -> None:
    p, k = 0.9, 5
    got_all = simulated_pass_probability(p, k, verdict="pass^k", trials=4000, seed=3)
    got_any = simulated_pass_probability(0.3, k, verdict="pass@k", trials=4000, seed=3)
    assert got_all == pytest.approx(p**k, abs=0.03)
    assert got_any == pytest.approx(1 - 0.7**k, abs=0.03)
