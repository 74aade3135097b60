"""Judge calls in the run report: kept in the sample with purpose ``judge``, counted in the
report's ``judge`` totals, never as the model under test's calls."""

from __future__ import annotations

import json

import pytest

import llmassert._models._clients  # noqa: F401  (imported once, not by every inner run)

JUDGED = """
from llmassert import assert_judge


def test_polite(llm):
    reply = llm.complete("What is the capital of France?")
    assert_judge(reply, "names the capital of France", reference="Paris")
"""


def test_judge_calls_are_in_the_sample_and_in_the_judge_totals(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_judged=JUDGED)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--llm-model",
        "demo:finetuned",
        "--llm-judge-model",
        "demo:judge",
        "--llm-report",
        "out.json",
        "--junitxml",
        "junit.xml",
    )
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "out.json").read_text(encoding="utf-8"))
    (test,) = report["tests"]
    assert test["model"] == "demo:finetuned"
    (sample,) = test["samples"]
    purposes = [call["purpose"] for call in sample["calls"]]
    assert purposes[0] == "model"
    assert purposes.count("judge") >= 1
    assert set(purposes) == {"model", "judge"}
    judge_calls = [call for call in sample["calls"] if call["purpose"] == "judge"]
    assert all(call["model"] == "demo:judge" for call in judge_calls)
    assert report["judge"]["calls"] == len(judge_calls)
    assert report["judge"]["latency_s_total"] >= 0
    judged = [check for check in sample["checks"] if check["name"] == "judge"]
    assert len(judged) == 1
    assert judged[0]["kind"] == "judge"
    assert judged[0]["passed"] is True
    assert judged[0]["score"] is not None
    # the JUnit properties count the model under test's calls only
    xml = (pytester.path / "junit.xml").read_text(encoding="utf-8")
    assert '<property name="llm_calls" value="1"' in xml
