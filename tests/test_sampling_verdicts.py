"""Verdict modes: the exact (Clopper-Pearson) interval against known values, strict / pass^k /
pass@k verdicts in ``assert_pass_rate`` and in ``@pytest.mark.llm``, the strict-mode usage
error naming the minimum ``repeat``, and verdicts over a seeded, scripted test server."""

from __future__ import annotations

import random

import pytest

# Imported once here rather than by every in-process inner run (see tests/test_marker.py).
import llmassert._models._clients  # noqa: F401
from llmassert import Endpoint, Model, UsageError, assert_pass_rate, contains
from llmassert._checks._intervals import (
    binomial_tail,
    clopper_pearson_interval,
    strict_min_samples,
    wilson_interval,
)
from llmassert.testing import LLMServer, ServerRequest

_LEAN = ("-p", "no:cacheprovider")

# Reference values: scipy.stats.beta.ppf((1 - c) / 2, x, n - x + 1) and
# beta.ppf((1 + c) / 2, x + 1, n - x), computed once outside the project (scipy 1.17).
KNOWN_EXACT = [
    (0, 10, 0.95, 0.0, 0.3084971078),
    (1, 10, 0.95, 0.0025285785, 0.4450161170),
    (7, 10, 0.95, 0.3475471499, 0.9332604888),
    (10, 10, 0.95, 0.6915028922, 1.0),
    (50, 100, 0.95, 0.3983211295, 0.6016788705),
    (95, 100, 0.95, 0.8871650889, 0.9835681208),
    (3, 7, 0.95, 0.0989882784, 0.8159484324),
    (7, 10, 0.99, 0.2648860147, 0.9629927789),
    (7, 10, 0.90, 0.3933757839, 0.9127355661),
    (1, 1, 0.95, 0.025, 1.0),
    (999, 1000, 0.95, 0.9944410757, 0.9999746825),
    (1, 1000, 0.95, 0.0000253175, 0.0055589243),
    (36, 36, 0.95, 0.9026062441, 1.0),
    (35, 35, 0.95, 0.8999675644, 1.0),
]


@pytest.mark.parametrize(("passed", "total", "confidence", "low", "high"), KNOWN_EXACT)
def test_clopper_pearson_matches_beta_quantiles(
    passed: int, total: int, confidence: float, low: float, high: float
) -> None:
    got_low, got_high = clopper_pearson_interval(passed, total, confidence)
    assert got_low == pytest.approx(low, abs=1e-9)
    assert got_high == pytest.approx(high, abs=1e-9)


def test_binomial_tail_and_interval_definition() -> None:
    assert binomial_tail(0, 5, 0.3) == 1.0
    assert binomial_tail(6, 5, 0.3) == 0.0
    assert binomial_tail(5, 5, 0.5) == pytest.approx(1 / 32)
    assert binomial_tail(1, 2, 0.5) == pytest.approx(0.75)
    # the bounds are where the binomial tails equal (1 - confidence) / 2
    low, high = clopper_pearson_interval(7, 20, 0.9)
    assert binomial_tail(7, 20, low) == pytest.approx(0.05, abs=1e-12)
    assert 1 - binomial_tail(8, 20, high) == pytest.approx(0.05, abs=1e-12)
    # the exact interval is wider than Wilson's here (Wilson's coverage is approximate)
    wl, wh = wilson_interval(7, 20, 0.9)
    assert low < wl
    assert high > wh


def test_strict_minimum_samples() -> None:
    assert strict_min_samples(0.8, 0.95) == 17
    assert strict_min_samples(0.9, 0.95) == 36
    assert strict_min_samples(0.9, 0.90) == 29
    assert strict_min_samples(1.0, 0.95) is None
    for rate, confidence in ((0.8, 0.95), (0.9, 0.95), (0.5, 0.99)):
        n = strict_min_samples(rate, confidence)
        assert n is not None
        assert clopper_pearson_interval(n, n, confidence)[0] >= rate
        assert clopper_pearson_interval(n - 1, n - 1, confidence)[0] < rate


def test_assert_pass_rate_modes() -> None:
    results = [True] * 38 + [False] * 2  # 95%: exact 95% CI 83.1%-99.4%
    assert assert_pass_rate(results, 0.9)  # the observed rate reaches 90%
    with pytest.raises(AssertionError) as failed:
        assert_pass_rate(results, 0.9, verdict="strict")
    message = str(failed.value)
    assert message.splitlines()[0] == (
        "assert_pass_rate failed: 38/40 passed (95%, 95% exact CI 83.1%-99.4%), "
        "required lower bound >= 90%"
    )
    assert assert_pass_rate(results, 0.8, verdict="strict")
    with pytest.raises(AssertionError, match=r"required all 40 to pass \(pass\^40\)"):
        assert_pass_rate(results, verdict="pass^k")
    assert assert_pass_rate([True] * 5, verdict="pass^k")
    assert assert_pass_rate([False] * 4 + [True], verdict="pass@k")
    with pytest.raises(AssertionError, match=r"required at least 1 of 3 to pass \(pass@3\)"):
        assert_pass_rate([False] * 3, verdict="pass@k")


def test_assert_pass_rate_takes_samples_with_a_check() -> None:
    with LLMServer() as server:
        server.add_rule("The capital of France is Paris.")
        endpoint = Endpoint(name="srv", provider="openai", base_url=server.openai_base_url)
        llm = Model("srv:m", endpoints={"srv": endpoint}, interceptors=[])
        summary = assert_pass_rate(
            llm.sample("Capital of France?", n=6), 0.9, check=contains("Paris")
        )
    assert (summary.passed, summary.total) == (6, 6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: assert_pass_rate([True] * 10, 0.8, verdict="strict"),
            "assert_pass_rate: verdict='strict' can never pass with 10 results: even 10/10 "
            "passing give a 95% exact lower bound of 69.2%, below the required 0.8; use at least "
            "17 results (or a lower required rate or confidence)",
        ),
        (
            lambda: assert_pass_rate([True] * 50, 1.0, verdict="strict"),
            "*can never pass with a required rate of 1*use verdict='pass^k'*",
        ),
        (lambda: assert_pass_rate([True], 0.5, verdict="pass^k"), "*min_rate has no meaning*"),
        (lambda: assert_pass_rate([True], verdict="rate"), "*needs min_rate*"),
        (lambda: assert_pass_rate([True], 0.5, verdict="wilson"), "*verdict must be one of*"),
    ],
)
def test_assert_pass_rate_usage_errors(call: object, message: str) -> None:
    import fnmatch

    assert callable(call)
    with pytest.raises(UsageError) as raised:
        call()
    assert fnmatch.fnmatchcase(str(raised.value), message), str(raised.value)


def test_marker_strict_mode_that_can_never_pass_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llm(repeat=10, pass_rate=0.8, verdict="strict")
        def test_strict():
            pass

        @pytest.mark.llm(repeat=5, verdict="strict")
        def test_strict_all():
            pass

        @pytest.mark.llm(repeat=5, pass_rate=0.8, verdict="pass^k")
        def test_pass_rate_with_pass_k():
            pass
        """
    )
    result = pytester.runpytest(*_LEAN)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "invalid @pytest.mark.llm: verdict='strict' can never pass with repeat=10: even "
            "10/10 passing give a 95% exact lower bound of 69.2%, below the required 0.8; use "
            "repeat >= 17 (or a lower required rate or confidence)",
        ]
    )
    result.stdout.fnmatch_lines(["*required rate of 1: an interval's lower bound never reaches*"])
    result.stdout.fnmatch_lines(["*pass_rate has no meaning with verdict='pass^k'*"])
    assert "Traceback" not in result.stdout.str()


def test_each_mode_over_a_seeded_scripted_server(pytester: pytest.Pytester) -> None:
    """The server answers correctly with probability 0.85 (seeded: 33 of its first 40 answers
    to each prompt are right, whatever order concurrent samples arrive in); each mode's verdict
    is the one the maths gives for 33/40: rate passes (82% >= 80%), strict fails (exact lower
    bound 67.2%), pass^k fails, pass@k passes."""
    rngs: dict[str, random.Random] = {}

    def reply(request: ServerRequest) -> str:
        rng = rngs.setdefault(request.prompt, random.Random(3))
        return "Paris." if rng.random() < 0.85 else "Lyon."

    tests = "\n".join(
        f"""
@pytest.mark.llm(repeat=40{args})
def test_{name}(llm):
    assert "Paris" in llm.complete("Capital of France? ({name})").text
"""
        for name, args in (
            ("rate", ", pass_rate=0.8"),
            ("strict", ", pass_rate=0.8, verdict='strict'"),
            ("all", ", verdict='pass^k'"),
            ("any", ", verdict='pass@k'"),
        )
    )
    pytester.makepyfile(test_modes="import pytest\n" + tests)
    with LLMServer() as server:
        server.add_rule(reply)
        pytester.makepyprojecttoml(
            f"""
[tool.llmassert.endpoints.local]
base_url = "{server.openai_base_url}"
model = "m"
"""
        )
        result = pytester.runpytest("-v", "--llm-model=local", "--llm-record=off", *_LEAN)
        assert server.request_count == 160
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*::test_rate[[]local[]] PASSED (33/40 samples)*",
            "*::test_strict[[]local[]] FAILED*",
            "*::test_all[[]local[]] FAILED*",
            "*::test_any[[]local[]] PASSED (33/40 samples)*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "llm(repeat=40, pass_rate=0.8, verdict='strict'): 33/40 samples passed (82%, 95% "
            "exact CI 67.2%-92.7%), required lower bound >= 80%",
            "failed samples (7):",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "llm(repeat=40, verdict='pass^k'): 33/40 samples passed (82%, 95% CI 68%-91%), "
            "required all 40 to pass (pass^40)",
        ]
    )
