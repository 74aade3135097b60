"""``--llm-baseline``: the earlier report is read at start-up (a bad one is one usage error),
regressions are listed at the end, and ``--llm-fail-on-regression`` fails the run on them."""

from __future__ import annotations

import json

import pytest

import llmassert._models._clients  # noqa: F401  (imported once, not by every inner run)

_LEAN = ("-p", "no:cacheprovider", "--llm-model", "demo:finetuned")

SUITE = """
import itertools
import os

import pytest
from llmassert import assert_contains

calls = itertools.count()


@pytest.mark.llm(repeat=10, pass_rate=0.5, concurrency=1)
def test_rate(llm):
    reply = llm.complete("What is the capital of France?")
    n = next(calls)
    assert os.environ.get("SUITE_MODE") == "good" or n % 2 == 0, "every other sample fails"
    assert_contains(reply, "Paris")


def test_capital(llm):
    assert_contains(llm.complete("What is the capital of France?"), "Paris")
"""


def test_a_pass_rate_below_the_baselines_interval_is_a_regression(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("SUITE_MODE", "good")
    pytester.runpytest(*_LEAN, "--llm-report", "base.json").assert_outcomes(passed=2)
    base = json.loads((pytester.path / "base.json").read_text(encoding="utf-8"))
    assert base["tests"][1]["verdict"]["passed"] == 10

    monkeypatch.setenv("SUITE_MODE", "bad")  # 5 of 10 samples pass: still >= pass_rate 0.5
    listed = pytester.runpytest(*_LEAN, "--llm-baseline", "base.json")
    listed.assert_outcomes(passed=2)
    assert listed.ret == pytest.ExitCode.OK  # listed, not failed, without the option
    listed.stdout.fnmatch_lines(
        [
            "*= llmassert =*",
            "llmassert baseline: 1 regression*(baseline base.json)",
            "REGRESSION test_suite.py::test_rate ?demo:finetuned?: pass rate 5/10*below*",
        ]
    )
    assert "the run fails" not in listed.stdout.str()

    failed = pytester.runpytest(*_LEAN, "--llm-baseline", "base.json", "--llm-fail-on-regression")
    failed.assert_outcomes(passed=2)
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    failed.stdout.fnmatch_lines(
        [
            "llmassert baseline: 1 regression*",
            "REGRESSION test_suite.py::test_rate*",
            "llmassert baseline: the run fails (--llm-fail-on-regression)",
        ]
    )

    monkeypatch.setenv("SUITE_MODE", "good")
    same = pytester.runpytest(*_LEAN, "--llm-baseline", "base.json", "--llm-fail-on-regression")
    same.assert_outcomes(passed=2)
    assert same.ret == pytest.ExitCode.OK
    same.stdout.fnmatch_lines(["llmassert baseline: 0 regressions*"])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "*--llm-baseline missing.json: cannot read it*--llm-report PATH*"),
        ("{not json", "*--llm-baseline missing.json: not a JSON report*"),
        ('{"tests": 3}', "*--llm-baseline missing.json: *"),
    ],
)
def test_a_bad_baseline_is_one_usage_error_before_any_test(
    pytester: pytest.Pytester, content: str | None, problem: str
) -> None:
    pytester.makepyfile(test_suite="def test_never():\n    raise SystemExit('ran')\n")
    if content is not None:
        (pytester.path / "missing.json").write_text(content, encoding="utf-8")
    result = pytester.runpytest(*_LEAN, "--llm-baseline", "missing.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([problem])
    assert "Traceback" not in result.stderr.str()
    assert len([line for line in result.stderr.lines if line.strip()]) == 1


def test_fail_on_regression_needs_a_baseline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite="def test_x():\n    pass\n")
    result = pytester.runpytest(*_LEAN, "--llm-fail-on-regression")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--llm-fail-on-regression: *--llm-baseline PATH*"])
