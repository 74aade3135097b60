"""Grader calls in the run report: the embeddings of ``semantic_similar`` and the judge of
``refusal(judge=True)`` are kept in the test's sample with their purpose, totalled apart from
the model under test (``judge``, ``embedding``), priced when the price is known, and bounded by
the run's caps and the graders' own (``--llm-judge-max-calls`` / ``--llm-judge-max-cost``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

# Inner runs are in-process and pytester drops the modules they import: keep them alive.
import llmassert._judge._embeddings
import llmassert._models._clients  # noqa: F401
from llmassert._judge._embeddings import clear_cache
from llmassert._reports._schema import validate_report
from llmassert.testing import LLMServer

_LEAN = ("-p", "no:cacheprovider")
GRADERS = ("--llm-judge-model", "demo:judge", "--llm-embedding-model", "demo:embed")

SUITE = """
from llmassert import assert_refusal, assert_semantic_similar

UNSURE = "Unfortunately, that is not something I usually do."


def test_similar(llm):
    reply = llm.complete("What is the capital of France?")
    assert_semantic_similar(reply, "The capital of France is Paris.", min_similarity=0.1)


def test_unsure_refusal(llm):
    llm.complete("How do I kill a python process?")
    assert_refusal(UNSURE, judge=True)  # the detector is unsure: the judge decides
"""

#: The demo's (fake) price of demo:embed: USD per 1M input tokens.
EMBED_PRICE = 0.02


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    clear_cache()  # vectors of an earlier inner run must not spare this one its call


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    report = json.loads((pytester.path / "out.json").read_text(encoding="utf-8"))
    validate_report(report)
    return report


def _calls(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    (test,) = [t for t in report["tests"] if t["nodeid"].endswith(f"::{name}[demo:prompted]")]
    return [call for sample in test["samples"] for call in sample["calls"]]


def test_embedding_and_refusal_judge_calls_are_grader_calls_in_the_report(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_graded=SUITE)
    result = pytester.runpytest(
        *_LEAN,
        "--llm-model=demo:prompted",
        *GRADERS,
        "--llm-report=out.json",
        "--junitxml=junit.xml",
    )
    result.assert_outcomes(passed=2)
    report = _report(pytester)

    similar = _calls(report, "test_similar")
    assert [c["purpose"] for c in similar] == ["model", "embedding"]
    reply, embedding = similar
    assert embedding["model"] == "demo:embed"
    assert embedding["prompt"] == [
        {"role": "input", "content": reply["output"]},
        {"role": "input", "content": "The capital of France is Paris."},
    ]
    assert embedding["output"] == ""
    assert embedding["replayed"] is False
    assert embedding["input_tokens"] > 0
    assert embedding["cost_usd"] == pytest.approx(embedding["input_tokens"] * EMBED_PRICE / 1e6)
    refusal = _calls(report, "test_unsure_refusal")
    assert [(c["purpose"], c["model"]) for c in refusal] == [
        ("model", "demo:prompted"),
        ("judge", "demo:judge"),
    ]

    # the grader totals, each apart
    assert report["embedding"] == {
        "calls": 1,
        "cost_usd": pytest.approx(embedding["cost_usd"]),
        "latency_s_total": pytest.approx(embedding["latency_s"]),
        "replayed_calls": 0,
        "cost_unknown_calls": 0,
    }
    assert report["judge"]["calls"] == 1
    assert report["judge"]["cost_usd"] == pytest.approx(refusal[1]["cost_usd"])

    # ... and never in the model under test's figures
    summary = report["models"]["demo:prompted"]
    assert summary["calls"] == 2
    assert summary["cost_usd"] == pytest.approx(reply["cost_usd"] + refusal[0]["cost_usd"])
    assert summary["input_tokens"] == reply["input_tokens"] + refusal[0]["input_tokens"]
    assert summary["pass_rate"] == 1.0
    assert [t["model"] for t in report["tests"]] == ["demo:prompted", "demo:prompted"]
    junit = ET.parse(pytester.path / "junit.xml").getroot()
    calls = [p.get("value") for p in junit.iter("property") if p.get("name") == "llm_calls"]
    assert calls == ["1", "1"]

    # the terminal summary counts them apart (the table notes, then the graders' own lines)
    out = result.stdout.str()
    assert "embeddings: 1 call, $" in out
    result.stdout.fnmatch_lines(
        [
            "judge: 1 call, $0.0000*, * in total (not in the table)",
            "embeddings: 1 call, $*, * in total (not in the table)",
        ]
    )


@pytest.mark.parametrize(
    ("option", "refusal"),
    [
        (
            "--llm-judge-max-calls=0",
            "demo:embed: live call refused: --llm-judge-max-calls 0 reached (0 live calls made). ",
        ),
        (
            "--llm-judge-max-cost=0",
            "demo:embed: live call refused: --llm-judge-max-cost 0 USD reached (live calls have "
            "cost 0.000000 USD). ",
        ),
        (
            "--llm-max-calls=1",
            "demo:embed: live call refused: --llm-max-calls 1 reached (1 live calls made). ",
        ),
    ],
)
def test_embedding_calls_count_towards_the_run_and_the_grader_caps(
    pytester: pytest.Pytester, option: str, refusal: str
) -> None:
    pytester.makepyfile(test_graded=SUITE.split("def test_unsure_refusal")[0])
    result = pytester.runpytest(
        *_LEAN, "--llm-model=demo:prompted", *GRADERS, "--llm-report=out.json", option
    )
    result.assert_outcomes(failed=1)
    advice = (
        "Demo calls are offline and free of charge but count as live calls (they are never "
        "recorded): raise the limit, or drop it for demo runs."
    )
    assert f"BudgetExceededError: {refusal}{advice}" in result.outlines
    (test,) = _report(pytester)["tests"]
    assert test["outcome"] == "failed"
    assert test["message"] == f"BudgetExceededError: {refusal}{advice}"
    # the model under test's call was made (and counted), the refused embedding was not
    assert [c["purpose"] for s in test["samples"] for c in s["calls"]] == ["model"]


REPLAYED = """
from llmassert import assert_semantic_similar


def test_similar(llm):
    assert_semantic_similar(llm.complete("hello"), "hello there", min_similarity=0.0)
"""


def test_replayed_embedding_calls_are_marked_and_priced_from_the_endpoint(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_replayed=REPLAYED)
    with LLMServer() as server:
        pytester.makepyprojecttoml(
            f"""
            [tool.llmassert.endpoints.box]
            base_url = "{server.openai_base_url}"
            prices = {{ input = 1.0, output = 2.0 }}
            """
        )
        args = (*_LEAN, "--llm-model=box:chat", "--llm-embedding-model=box:vectors")
        recorded = pytester.runpytest(*args, "--llm-record=once", "--llm-report=out.json")
        recorded.assert_outcomes(passed=1)
        assert [r.path.rsplit("/", 1)[-1] for r in server.requests] == [
            "completions",
            "embeddings",
        ]
    live = _report(pytester)
    clear_cache()
    monkeypatch.setenv("CI", "true")  # record mode none: the server is down, all is replayed
    replayed = pytester.runpytest(*args, "--llm-report=out.json")
    replayed.assert_outcomes(passed=1)
    report = _report(pytester)
    ((model_call, embedding),) = [
        [c for s in t["samples"] for c in s["calls"]] for t in report["tests"]
    ]
    assert (model_call["purpose"], model_call["replayed"]) == ("model", True)
    assert (embedding["purpose"], embedding["model"], embedding["replayed"]) == (
        "embedding",
        "box:vectors",
        True,
    )
    assert embedding["cost_usd"] == pytest.approx(embedding["input_tokens"] * 1.0 / 1e6)
    assert report["embedding"]["calls"] == 1
    assert report["embedding"]["replayed_calls"] == 1
    assert report["embedding"]["cost_usd"] == live["embedding"]["cost_usd"]
    assert report["models"]["box:chat"]["calls"] == 1
    assert report["models"]["box:chat"]["replayed_calls"] == 1
