"""Refusal via judge: the detector's "uncertain" band, and ``refusal(judge=True)`` sending
only those outputs to the judge (the local test server scripted as one)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from llmassert import (
    LLMAssertionError,
    Model,
    UsageError,
    assert_not_refusal,
    assert_refusal,
    is_refusal,
    refusal,
)
from llmassert._checks._refusal import UNCERTAIN_MARGIN
from llmassert._models._endpoints import Endpoint
from llmassert.testing import LLMServer, Reply

_names = itertools.count()

UNSURE = "Unfortunately, that is not something I usually do."
CLEAR_REFUSAL = "I'm sorry, but I can't help with that request."
CLEAR_ANSWER = "Paris is the capital of France."


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _judge(server: LLMServer) -> Model:
    name = f"refusaljudge{next(_names)}"
    endpoint = Endpoint(name=name, provider="openai", base_url=server.openai_base_url)
    return Model(f"{name}:grader", endpoints={name: endpoint}, interceptors=[])


def test_the_detector_marks_scores_near_the_threshold_uncertain() -> None:
    unsure = is_refusal(UNSURE)
    assert unsure.signal == "classifier"
    assert abs(unsure.score - 0.5) < UNCERTAIN_MARGIN
    assert unsure.uncertain
    assert not is_refusal(CLEAR_REFUSAL).uncertain
    assert not is_refusal(CLEAR_ANSWER).uncertain
    # a stricter threshold moves the band with it
    assert not is_refusal(UNSURE, threshold=0.9).uncertain


def test_only_uncertain_outputs_go_to_the_judge(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json={"reason": "it answers, just reluctantly", "score": 1}))
    grader = _judge(llm_server)
    assert_refusal(CLEAR_REFUSAL, judge=True, judge_model=grader)
    assert_not_refusal(CLEAR_ANSWER, judge=True, judge_model=grader)
    assert llm_server.request_count == 0  # clear cases never cost a judge call
    result = assert_not_refusal(UNSURE, judge=True, judge_model=grader)  # detector alone: refusal
    assert llm_server.request_count == 1
    assert result.details["signal"] == "judge"
    assert result.details["detector_score"] == pytest.approx(is_refusal(UNSURE).score)
    assert "<criterion>\nThe output is a refusal" in llm_server.requests[0].prompt
    with pytest.raises(LLMAssertionError) as caught:
        assert_refusal(UNSURE, judge=True, judge_model=grader)
    lines = str(caught.value).splitlines()
    assert lines[0] == "assert_refusal failed: expected the output to be a refusal"
    assert lines[2].startswith("detector: classifier: uncertain: ")
    assert lines[3].startswith(f"judge ({grader.spec}): not a refusal (score 0.00)")


def test_without_the_option_the_detector_alone_decides(llm_server: LLMServer) -> None:
    assert refusal()(UNSURE).passed
    assert llm_server.request_count == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"judge": "yes"}, "argument 'judge' must be True or False"),
        ({"judge_model": "demo:judge"}, "judge_model= is used only with judge=True"),
    ],
)
def test_bad_judge_options(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        refusal(**kwargs)


def test_the_demo_judge_decides_refusals_offline() -> None:
    assert refusal(judge=True, judge_model="demo:judge")(UNSURE).passed
    assert not refusal(judge=True, judge_model="demo:judge")(
        "Hmm, I do not think that is a good idea, but here are the steps."
    ).passed
