"""``@pytest.mark.llm(repeat=N, pass_rate=P)``: repeated samples and the pass-rate verdict,
through inner pytest runs (pytester)."""

from __future__ import annotations

import itertools

import pytest

# Imported once here rather than by every in-process inner run (pytester restores sys.modules
# after each run, so a package first imported inside one is imported again by the next).
import llmassert._models._clients  # noqa: F401
from llmassert.testing import LLMServer

_LEAN = ("-p", "no:cacheprovider")

FLAKY = """
import itertools
import pytest
from llmassert._models._sampling import current_sample

calls = itertools.count(1)

@pytest.mark.llm(repeat=10, pass_rate=0.8)
def test_flaky():
    next(calls)
    n = int(current_sample())  # its index: samples run in threads, in no fixed order
    assert n <= 7, f"sample value {n} is too big\\nsecond line of the message"

@pytest.mark.llm(repeat=10, pass_rate=0.8)
def test_enough():
    assert next(calls) % 10 != 3

def test_count():
    assert next(calls) == 21  # both repeated tests ran 10 samples each
"""


def test_failing_verdict_shows_rate_interval_and_failed_samples(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_flaky=FLAKY)
    result = pytester.runpytest("-v", *_LEAN)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_flaky.py::test_flaky FAILED*",
            "test_flaky.py::test_enough PASSED (9/10 samples)*",
            "test_flaky.py::test_count PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_flaky _*",
            "llm(repeat=10, pass_rate=0.8): 7/10 samples passed (70%, 95% CI 40%-89%), "
            "required >= 80%",
            "failed samples (3):",
            "  sample 8 at test_flaky.py:11: AssertionError: sample value 8 is too big",
            "*second line of the message",
            "*assert 8 <= 7",
            "  sample 9 at test_flaky.py:11: *sample value 9*",
            "  sample 10 at test_flaky.py:11: *sample value 10*",
            "*short test summary*",
            "FAILED test_flaky.py::test_flaky - llmassert.LLMAssertionError: llm(repeat=10*",
        ]
    )
    # the verdict replaces the traceback into the plugin
    assert "_plugins" not in result.stdout.str()


def test_failure_message_lists_at_most_five_samples(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from llmassert import assert_contains

        @pytest.mark.llm(repeat=8, pass_rate=0.5)
        def test_never():
            assert_contains("Lyon is nice", "Paris")
        """
    )
    result = pytester.runpytest(*_LEAN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "llm(repeat=8, pass_rate=0.5): 0/8 samples passed (0%, 95% CI 0%-32%), required >= 50%",
            "failed samples (8):",
            "  sample 1 at test_failure_message_lists_at_most_five_samples.py:6: "
            "LLMAssertionError: assert_contains failed*",
            "*Lyon is nice*",
            "  sample 5 *",
            "  ... and 3 more failed samples",
        ]
    )
    assert "sample 6 " not in result.stdout.str()


def test_verdict_is_kept_in_user_properties_and_fixtures_are_set_up_once(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import itertools
        import pytest
        from llmassert._models._sampling import current_sample

        setups = []
        calls = itertools.count(1)

        @pytest.fixture
        def resource():
            setups.append(1)
            yield "r"
            setups.append(-1)

        @pytest.mark.llm(repeat=5, pass_rate=0.6, confidence=0.9)
        def test_mostly(resource):
            assert resource == "r"
            assert len(setups) == 1
            next(calls)
            assert current_sample() != "2"  # samples run in threads, in no fixed order

        def test_after():
            assert setups == [1, -1]
            assert next(calls) == 6
        """
    )
    reprec = pytester.inline_run(*_LEAN)
    reprec.assertoutcome(passed=2)
    report = next(r for r in reprec.getreports("pytest_runtest_logreport") if r.when == "call")
    # (the run report's entry travels beside it)
    [(name, verdict)] = [p for p in report.user_properties if p[0] != "llmassert_test"]
    assert name == "llm_pass_rate"
    assert {key: verdict[key] for key in verdict if key not in ("samples", "concurrency")} == (
        {
            "repeat": 5,
            "passed": 4,
            "total": 5,
            "rate": 0.8,
            "required": 0.6,
            "confidence": 0.9,
            "ci_low": pytest.approx(0.4353, abs=1e-3),
            "ci_high": pytest.approx(0.9540, abs=1e-3),
            "failed_samples": [2],
            "verdict": "rate",
            "stopped_early": None,
        }
    )
    assert [sample["outcome"] for sample in verdict["samples"]] == ["passed", "failed"] + [
        "passed"
    ] * 3


def test_other_exceptions_fail_the_test_at_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import itertools
        import pytest
        from llmassert import assert_regex

        calls = itertools.count(1)

        @pytest.mark.llm(repeat=5, pass_rate=0.2, concurrency=1)
        def test_boom():
            if next(calls) == 2:
                raise RuntimeError("endpoint exploded")
            assert False

        @pytest.mark.llm(repeat=5, pass_rate=0.2, concurrency=1)
        def test_bad_regex():
            next(calls)
            assert_regex("text", "([unclosed")

        def test_count():
            assert next(calls) == 4  # two samples of test_boom, one of test_bad_regex
        """
    )
    result = pytester.runpytest(*_LEAN)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "E*RuntimeError: endpoint exploded",
            "E*(raised in sample 2 of llm(repeat=5, pass_rate=0.2))",
        ]
    )
    result.stdout.fnmatch_lines(["E   *UsageError*", "E*(raised in sample 1 of llm(repeat=5*"])
    assert "samples passed" not in result.stdout.str()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("repeat=0", "repeat must be an integer >= 1, got 0"),
        ("repeat=2.5", "repeat must be an integer >= 1, got 2.5"),
        ("repeat=True", "repeat must be an integer >= 1, got True"),
        ("pass_rate=0", "pass_rate must be a fraction with 0 < pass_rate <= 1, got 0 (e.g.*"),
        ("pass_rate=80", "pass_rate must be a fraction with 0 < pass_rate <= 1, got 80 (e.g.*"),
        ("pass_rate='high'", "pass_rate must be a fraction * got 'high'*"),
        ("confidence=1.0", "confidence must be a fraction with 0 < confidence < 1, got 1.0*"),
        (
            "repeats=3, rate=1",
            "unknown arguments rate, repeats; valid arguments: repeat, pass_rate, confidence, "
            "verdict, concurrency, early_stop",
        ),
        ("10", "takes keyword arguments only (repeat, pass_rate, confidence, *), got positional*"),
    ],
)
def test_invalid_arguments_error_the_test_naming_argument_and_range(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        ran = []

        @pytest.mark.llm({arguments})
        def test_marked():
            ran.append(1)

        def test_not_run():
            assert ran == []
        """
    )
    result = pytester.runpytest(*_LEAN)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_marked*", f"invalid @pytest.mark.llm: {message}"]
    )
    assert "Traceback" not in result.stdout.str()


def test_repeat_one_runs_the_test_as_usual(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llm(pass_rate=0.5)
        def test_once():
            assert 1 == 2
        """
    )
    result = pytester.runpytest(*_LEAN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([">       assert 1 == 2", "E       assert 1 == 2"])
    assert "samples passed" not in result.stdout.str()


def test_async_tests_repeat_under_pytest_asyncio_and_anyio(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        calls = []

        @pytest.mark.llm(repeat=4, pass_rate=0.5)
        @pytest.mark.asyncio
        async def test_asyncio():
            await asyncio.sleep(0)
            calls.append("asyncio")
            assert len(calls) % 2 == 0

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.llm(repeat=3)
        @pytest.mark.anyio
        async def test_anyio():
            calls.append("anyio")

        @pytest.mark.llm(repeat=3)
        async def test_no_async_plugin():
            calls.append("never")

        def test_count():
            assert calls == ["asyncio"] * 4 + ["anyio"] * 3
        """
    )
    result = pytester.runpytest("-v", *_LEAN)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::test_asyncio PASSED (2/4 samples)*",
            "*::test_anyio PASSED (3/3 samples)*",
            "*::test_no_async_plugin FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


def test_llm_parametrization_over_the_demo_models(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from llmassert import assert_json

        REVIEW = "Return only JSON with a sentiment key for this review: 'I love it.'"

        @pytest.mark.llm(repeat=5, pass_rate=0.8)
        def test_strict_json(llm):
            assert_json(llm.complete(REVIEW))
        """
    )
    result = pytester.runpytest(
        "-v", "--llm-model=demo:prompted", "--llm-model=demo:finetuned", *_LEAN
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::test_strict_json[[]demo:prompted[]] FAILED*",
            "*::test_strict_json[[]demo:finetuned[]] PASSED (5/5 samples)*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_strict_json[[]demo:prompted[]] _*",
            "llm(repeat=5, pass_rate=0.8): 3/5 samples passed (60%, 95% CI 23%-88%), "
            "required >= 80%",
            "failed samples (2):",
            "  sample * LLMAssertionError: *",
        ]
    )


RECORDED = """
import pytest

@pytest.mark.llm(repeat=3, pass_rate=0.6, concurrency=1)
def test_answers(llm):
    text = llm.complete("Which answer is this?").text
    print(f"ANSWER={text}")
    assert text != "answer 1"
"""


def test_samples_record_distinct_answers_and_replay_them_in_order(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    counter = itertools.count()
    pytester.makepyfile(test_rec=RECORDED)
    with LLMServer() as server:
        server.add_rule(lambda request: f"answer {next(counter)}")
        pytester.makepyprojecttoml(
            f"""
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.llmassert.endpoints.local]
base_url = "{server.openai_base_url}"
model = "m"
"""
        )
        recorded = pytester.runpytest("-s", "-v", "--llm-model=local", "--llm-record=once", *_LEAN)
        assert server.request_count == 3
    recorded.assert_outcomes(passed=1)
    expected = [
        "*ANSWER=answer 0",
        "ANSWER=answer 1",
        "ANSWER=answer 2",
        "*PASSED (2/3 samples)*",
    ]
    recorded.stdout.fnmatch_lines(expected)
    recorded.stdout.fnmatch_lines(["llmassert recordings: 0 replayed, 3 recorded*"])
    store = pytester.path / "llm_recordings"
    stored = sorted(p.name.split("-")[1] for p in store.rglob("*.json") if p.name[0] != ".")
    assert stored == ["0.json", "1", "2"]  # repeats carry their test: KEY-N-TEST.json
    # the server is gone: every sample replays its own answer, in order
    replayed = pytester.runpytest("-s", "-v", "--llm-model=local", "--llm-record=none", *_LEAN)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(expected)
    replayed.stdout.fnmatch_lines(
        ["llmassert recordings: 3 replayed, 0 recorded, 0 live, 0 missing*"]
    )
    # a fourth sample has no recording: the test fails at once naming the sample
    pytester.makepyfile(test_rec=RECORDED.replace("repeat=3", "repeat=4"))
    missing = pytester.runpytest("--llm-model=local", "--llm-record=none", *_LEAN)
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(
        [
            "*RecordingMissingError: no recording for this request*"
            "test test_rec.py::test_answers[[]local[]]#sample=4",
            "*this is sample 4's identical request #1 (each sample's calls have their own*",
            "*record it with: pytest --llm-record=once 'test_rec.py::test_answers[[]local[]]'",
            "E*(raised in sample 4 of llm(repeat=4, pass_rate=0.6))",
        ]
    )


def test_under_xdist_the_verdict_reaches_the_controller(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import itertools
        import pytest

        calls = itertools.count(1)

        @pytest.mark.llm(repeat=5, pass_rate=0.6)
        @pytest.mark.parametrize("n", [1, 2])
        def test_sampled(n):
            assert next(calls) % 5 != 2

        @pytest.mark.llm(repeat=4, pass_rate=1.0)
        def test_failing():
            assert False, "never"
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-v", "-rA", *_LEAN)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*PASSED (4/5 samples) test_under_xdist_the_verdict_reaches_the_controller.py"
            "::test_sampled[[]1[]]",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        ["llm(repeat=4, pass_rate=1): 0/4 samples passed (0%, 95% CI 0%-49%), required >= 100%"]
    )
