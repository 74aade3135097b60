"""Run reports from pytest runs (pytester, the offline demo models): the JSON report's entries,
xdist, JUnit properties, the GitHub step summary, the terminal summary and secrets."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

# Imported once here rather than by every in-process inner run.
import llmassert._models._clients  # noqa: F401
from llmassert._reports._schema import validate_report

_LEAN = ("-p", "no:cacheprovider")
MODELS = ("--llm-model", "demo:prompted", "--llm-model", "demo:finetuned")

SUITE = """
import pytest
from llmassert import assert_contains, assert_json, assert_not_refusal

REVIEW = "Return only JSON with a sentiment key for this review: 'Great value, I love it.'"


def test_capital(llm):
    reply = llm.complete("What is the capital of France?", system="Answer briefly.")
    assert_contains(reply, "Paris")
    assert_not_refusal(reply)


@pytest.mark.parametrize("city", ["Paris", "Lyon"])
def test_city(llm, city):
    assert_contains(llm.complete("What is the capital of France?"), city)


@pytest.mark.llm(repeat=4, pass_rate=0.5)
def test_json_rate(llm):
    assert_json(llm.complete(REVIEW))


@pytest.mark.slow
@pytest.mark.skip(reason="not today")
def test_skipped(llm):
    pass


def test_plain():
    assert True
"""

CASES = """
prompt: "{{ question }}"
cases:
  - id: capital
    vars: {question: "What is the capital of France?"}
    checks:
      - contains: Paris
      - not_refusal
"""


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow tests\n")
    result = pytester.runpytest(*_LEAN, *MODELS, "--llm-report", "out.json", *args)
    return result, json.loads((pytester.path / "out.json").read_text(encoding="utf-8"))


def _by_nodeid(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {test["nodeid"]: test for test in report["tests"]}


def _validate(report: dict[str, Any]) -> None:
    validate_report(report)  # the shipped JSON Schema (raises naming the first problem)


def test_the_json_report_has_every_test_with_its_samples_calls_and_checks(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makefile(".yaml", llm_capitals=CASES)
    result, report = _run(pytester)
    result.assert_outcomes(passed=9, failed=2, skipped=2)
    _validate(report)
    assert report["schema_version"] == 1
    assert report["tool"]["name"] == "llmassert"
    assert report["run"]["models"] == ["demo:prompted", "demo:finetuned"]
    assert report["run"]["record_mode"] == "once"
    none = {
        "calls": 0,
        "cost_usd": None,
        "latency_s_total": 0.0,
        "replayed_calls": 0,
        "cost_unknown_calls": 0,
    }
    assert report["judge"] == report["embedding"] == none
    tests = _by_nodeid(report)
    assert len(tests) == 13
    keys = [(t["key"], t["model"]) for t in report["tests"]]
    assert keys == sorted(keys)

    capital = tests["test_suite.py::test_capital[demo:finetuned]"]
    assert capital["key"] == "test_suite.py::test_capital"
    assert (capital["model"], capital["outcome"], capital["kind"]) == (
        "demo:finetuned",
        "passed",
        "test",
    )
    assert capital["repeat"] == 1
    assert capital["verdict"] is None
    assert capital["message"] is None
    (sample,) = capital["samples"]
    assert sample["index"] == 1
    assert sample["outcome"] == "passed"
    (call,) = sample["calls"]
    assert call["model"] == "demo:finetuned"
    assert call["purpose"] == "model"
    assert call["prompt"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    assert "Paris" in call["output"]
    assert call["replayed"] is False
    assert call["retries"] == 0
    assert call["latency_s"] > 0
    assert call["output_tokens"] > 0
    assert call["cost_usd"] > 0
    assert call["finish_reason"] == "stop"
    assert [(c["name"], c["negated"], c["kind"], c["passed"]) for c in sample["checks"]] == [
        ("contains", False, "content", True),
        ("refusal", True, "refusal", True),
    ]

    # other parameters stay in the key; a failing check is noted with its reason
    lyon = tests["test_suite.py::test_city[demo:prompted-Lyon]"]
    assert lyon["key"] == "test_suite.py::test_city[Lyon]"
    assert lyon["outcome"] == "failed"
    assert "LLMAssertionError" in lyon["message"]
    assert "Lyon" in lyon["message"]
    (check,) = lyon["samples"][0]["checks"]
    assert check["passed"] is False
    assert check["reason"]
    assert lyon["samples"][0]["outcome"] == "failed"

    # a repeated test: the verdict and one sample per draw, each with its own call
    rate = tests["test_suite.py::test_json_rate[demo:prompted]"]
    assert rate["repeat"] == 4
    verdict = rate["verdict"]
    assert verdict["mode"] == "rate"
    assert verdict["total"] == 4
    assert verdict["required"] == 0.5
    assert verdict["passed"] == sum(s["outcome"] == "passed" for s in rate["samples"])
    assert [s["index"] for s in rate["samples"]] == [1, 2, 3, 4]
    assert all(len(s["calls"]) == 1 and s["checks"][0]["kind"] == "format" for s in rate["samples"])
    assert verdict["ci_low"] <= verdict["rate"] <= verdict["ci_high"]

    skipped = tests["test_suite.py::test_skipped[demo:prompted]"]
    assert skipped["outcome"] == "skipped"
    assert skipped["message"] == "not today"
    assert skipped["markers"] == ["skip", "slow"]
    assert skipped["samples"] == []
    plain = tests["test_suite.py::test_plain"]
    assert (plain["model"], plain["key"], plain["samples"]) == ("", "test_suite.py::test_plain", [])

    # a case-file item: its prefetched call is noted for it
    case = tests["llm_capitals.yaml::capital[demo:prompted]"]
    assert (case["key"], case["kind"], case["outcome"]) == (
        "llm_capitals.yaml::capital",
        "case",
        "passed",
    )
    (case_sample,) = case["samples"]
    assert case_sample["calls"][0]["prompt"] == "What is the capital of France?"
    assert [c["name"] for c in case_sample["checks"]] == ["contains", "refusal"]
    result.stdout.fnmatch_lines(["*= llmassert =*", "llmassert report: out.json"])


def _comparable(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The tests without timings (what a rerun, or another distribution, may change)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: strip(v)
                for k, v in value.items()
                if k not in ("duration_s", "latency_s", "ttft_s")
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return [strip(test) for test in report["tests"]]


def test_xdist_gives_the_same_tests_as_a_single_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makefile(".yaml", llm_capitals=CASES)
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow tests\n")
    single = pytester.runpytest_subprocess(*_LEAN, *MODELS, "--llm-report", "one.json")
    single.assert_outcomes(passed=9, failed=2, skipped=2)
    spread = pytester.runpytest_subprocess(*_LEAN, *MODELS, "--llm-report", "two.json", "-n", "2")
    spread.assert_outcomes(passed=9, failed=2, skipped=2)
    one = json.loads((pytester.path / "one.json").read_text(encoding="utf-8"))
    two = json.loads((pytester.path / "two.json").read_text(encoding="utf-8"))
    assert two["run"]["workers"] == 2
    assert one["run"]["workers"] == 1
    assert _comparable(two) == _comparable(one)
    assert len(two["tests"]) == 13
    for key in ("models", "comparisons"):
        assert _without_timing(two[key]) == _without_timing(one[key])


def _without_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_timing(v)
            for k, v in value.items()
            if "latency" not in k and "ttft" not in k and k != "verdict"
        }
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


JUNIT_SUITE = """
import pytest
from llmassert import assert_contains

def test_capital(llm):
    assert_contains(llm.complete("What is the capital of France?"), "Paris")

@pytest.mark.llm(repeat=3, pass_rate=0.3)
def test_rate(llm):
    assert_contains(llm.complete("What is the capital of France?"), "Paris")

def test_plain():
    pass
"""


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_junit_gets_model_pass_rate_latency_and_cost(
    pytester: pytest.Pytester, family: str
) -> None:
    pytester.makepyfile(test_junit=JUNIT_SUITE)
    result = pytester.runpytest(
        *_LEAN,
        "--llm-model",
        "demo:finetuned",
        "--junitxml",
        "junit.xml",
        "-o",
        f"junit_family={family}",
        "-W",
        "error",
    )
    result.assert_outcomes(passed=3)
    root = ET.parse(pytester.path / "junit.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    properties = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}
        for name, case in cases.items()
    }
    capital = properties["test_capital[demo:finetuned]"]
    assert capital["llm_model"] == "demo:finetuned"
    assert capital["llm_pass_rate"] == "1.0"
    assert float(capital["llm_latency_s"]) > 0
    assert float(capital["llm_cost_usd"]) > 0
    assert capital["llm_calls"] == "1"
    rate = properties["test_rate[demo:finetuned]"]
    assert rate["llm_pass_rate"] == "1.0"
    assert rate["llm_calls"] == "3"
    assert all(not value.startswith("{") for value in rate.values())  # no dicts in the XML
    assert properties["test_plain"] == {}


def test_the_step_summary_is_appended_when_github_sets_the_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "step_summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyfile(test_junit=JUNIT_SUITE)
    pytester.runpytest(*_LEAN, *MODELS).assert_outcomes(passed=5)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n")
    assert "demo:prompted" in text
    assert "demo:finetuned" in text
    # a run without LLM tests leaves it alone
    summary.write_text("untouched\n", encoding="utf-8")
    pytester.makepyfile(test_junit="def test_plain():\n    pass\n")
    pytester.runpytest(*_LEAN, *MODELS).assert_outcomes(passed=1)
    assert summary.read_text(encoding="utf-8") == "untouched\n"


def test_the_terminal_summary_shows_only_when_llm_tests_ran_and_honours_the_options(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_junit=JUNIT_SUITE)
    shown = pytester.runpytest(*_LEAN, *MODELS)
    shown.stdout.fnmatch_lines(["*= llmassert =*", "*demo:prompted*", "*demo:finetuned*"])
    hidden = pytester.runpytest(*_LEAN, *MODELS, "--no-llm-summary")
    assert "= llmassert =" not in hidden.stdout.str()
    quiet = pytester.runpytest(*_LEAN, *MODELS, "-qq")
    assert "= llmassert =" not in quiet.stdout.str()
    pytester.makepyfile(test_junit="def test_plain():\n    pass\n")
    plain = pytester.runpytest(*_LEAN, *MODELS)
    assert "= llmassert =" not in plain.stdout.str()


# Mixed-case letters, no hex runs: a piece of it cannot turn up by chance.
API_KEY = "sk-PLANTED-qXzWmRtKpLvNjHyBsQwErTyUiOpAsDf"

LEAKY = """
import os
from llmassert import assert_contains

KEY = os.environ["OPENAI_API_KEY"]

def test_leaks(llm):
    reply = llm.complete(f"remember {KEY} for me")   # the demo model echoes the prompt
    assert KEY in reply.text
    assert_contains(reply, "never there")
"""


def test_a_planted_key_never_reaches_the_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    pytester.makepyfile(test_leaky=LEAKY)
    result, report = _run(pytester)
    result.assert_outcomes(failed=2)
    text = (pytester.path / "out.json").read_text(encoding="utf-8")
    pieces = {API_KEY[i : i + 8] for i in range(len(API_KEY) - 7)} - {"sk-PLANT", "PLANTED-"}
    assert not [piece for piece in pieces if piece in text]
    call = report["tests"][0]["samples"][0]["calls"][0]
    assert "***" in call["output"]
    assert "***" in call["prompt"]
    assert "***" in report["tests"][0]["message"]


def test_report_options_are_no_longer_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_junit="def test_plain():\n    pass\n")
    result = pytester.runpytest(*_LEAN, "--llm-report", "sub/dir/r.json", "--llm-html", "h/r.html")
    result.assert_outcomes(passed=1)
    written = json.loads((pytester.path / "sub/dir/r.json").read_text(encoding="utf-8"))
    assert [t["nodeid"] for t in written["tests"]] == ["test_junit.py::test_plain"]
    page = (pytester.path / "h/r.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "test_junit.py::test_plain" in page


def test_llm_html_naming_a_directory_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_junit="def test_plain():\n    pass\n")
    (pytester.path / "out").mkdir()
    result = pytester.runpytest(*_LEAN, "--llm-html", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--llm-html out: is a directory*--llm-html out/report.html*"])


def test_json_written_atomically_leaves_no_temporary_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_junit="def test_plain():\n    pass\n")
    pytester.runpytest(*_LEAN, "--llm-report", "out/r.json").assert_outcomes(passed=1)
    assert sorted(p.name for p in Path(pytester.path / "out").iterdir()) == ["r.json"]


HELPER = """
import llmassert
from llmassert import assert_contains


@llmassert.cases(
    [{"id": "france", "vars": {"country": "France"}}],
    prompt="What is the capital of {{ country }}?",
    models=["demo:prompted", "demo:finetuned"],
)
def test_capitals(case, response):
    assert_contains(response, "Paris")
"""


def test_tests_parametrized_by_cases_pair_by_case_id(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_helper=HELPER)
    result = pytester.runpytest(*_LEAN, "--llm-report", "out.json")
    result.assert_outcomes(passed=2)
    report = json.loads((pytester.path / "out.json").read_text(encoding="utf-8"))
    assert [(t["key"], t["model"]) for t in report["tests"]] == [
        ("test_helper.py::test_capitals[france]", "demo:finetuned"),
        ("test_helper.py::test_capitals[france]", "demo:prompted"),
    ]
    assert all(len(t["samples"][0]["calls"]) == 1 for t in report["tests"])
