"""The judge check against the local test server scripted as a judge: each structured-output
path, malformed verdicts and recovery, persistent garbage, votes, scales, messages."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from llmassert import (
    JudgeError,
    LLMAssertionError,
    Model,
    UsageError,
    assert_judge,
    assert_not_judge,
    check,
    judge,
)
from llmassert._models._endpoints import Endpoint
from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, ReplyToolCall, ServerRequest

_names = itertools.count()


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _judge(server: LLMServer, provider: str = "openai", **kw: Any) -> Model:
    # A fresh endpoint name per model: health, limits and the working verdict form are kept
    # per endpoint, process-wide.
    name = f"judgebox{next(_names)}"
    url = server.anthropic_base_url if provider == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name=name, provider=provider, base_url=url, **kw)
    return Model(f"{name}:grader", endpoints={name: endpoint}, interceptors=[])


def _verdict(score: object, reason: str = "it is fine") -> dict[str, object]:
    return {"reason": reason, "score": score}


def _body(request: ServerRequest) -> Mapping[str, Any]:
    assert isinstance(request.body, Mapping)
    return request.body


def test_json_schema_verdict_is_read_and_the_schema_declares_the_range(
    llm_server: LLMServer,
) -> None:
    llm_server.add_rule(Reply(json=_verdict(5, "courteous throughout")))
    result = assert_judge("Thank you for waiting!", "politeness", model=_judge(llm_server))
    assert result.score == 1.0
    assert result.details["judge_format"] == "json_schema"
    (request,) = llm_server.requests
    body = _body(request)
    assert body["temperature"] == 0
    assert body["seed"] == 0
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["score"] == {"type": "integer", "minimum": 1, "maximum": 5}
    assert schema["required"] == ["reason", "score"]
    # the prompt shows the criterion and the output between tags
    assert "<criterion>\nThe output is polite" in request.prompt
    assert "<output>\nThank you for waiting!\n</output>" in request.prompt


def test_tool_verdict_is_read_from_the_forced_tool_call(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Reply(tool_calls=(ReplyToolCall("submit_verdict", _verdict(2, "it is rude")),))
    )
    result = judge("politeness", model=_judge(llm_server), format="tool")("Go away.")
    assert not result.passed
    assert result.score == 0.25
    body = _body(llm_server.requests[0])
    assert body["tool_choice"] == {"type": "function", "function": {"name": "submit_verdict"}}
    params = body["tools"][0]["function"]["parameters"]
    assert params["properties"]["score"]["maximum"] == 5
    assert "response_format" not in body


def test_anthropic_judges_by_tool_call_without_a_seed(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Reply(tool_calls=(ReplyToolCall("submit_verdict", _verdict(4, "mostly polite")),))
    )
    result = judge("politeness", model=_judge(llm_server, "anthropic"))("Sure, here you go.")
    assert result.passed
    assert result.details["judge_format"] == "tool"
    body = _body(llm_server.requests[0])
    assert body["tool_choice"] == {"type": "tool", "name": "submit_verdict"}
    assert "seed" not in body
    assert body["temperature"] == 0
    assert body["system"].startswith("You are a strict, impartial grader")


def test_json_mode_verdict_in_a_fence_is_read(llm_server: LLMServer) -> None:
    text = 'Here is my verdict:\n```json\n{"reason": "on topic", "score": 4}\n```'
    llm_server.add_rule(Reply(text=text))
    result = judge("relevance", input="What is 2+2?", model=_judge(llm_server), format="json")("4")
    assert result.passed
    assert result.score == 0.75
    body = _body(llm_server.requests[0])
    assert body["response_format"] == {"type": "json_object"}
    assert "<input>\nWhat is 2+2?\n</input>" in llm_server.requests[0].prompt


def test_auto_falls_back_when_structured_outputs_are_rejected(llm_server: LLMServer) -> None:
    def answer(request: ServerRequest) -> Reply | ErrorReply:
        if "response_format" in _body(request):
            return ErrorReply(400, "response_format json_schema is not supported", param="x")
        return Reply(tool_calls=(ReplyToolCall("submit_verdict", _verdict(5)),))

    llm_server.add_rule(answer)
    grader = _judge(llm_server)
    assert judge("politeness", model=grader)("Thanks!").passed
    assert [("tools" in _body(r)) for r in llm_server.requests] == [False, True]
    # the endpoint is asked in the working form from then on: one request, no failed first try
    assert judge("politeness", model=grader)("Thanks again!").passed
    assert len(llm_server.requests) == 3
    assert "tools" in _body(llm_server.requests[2])


def test_malformed_verdict_is_asked_again_and_recovers(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text='{"reason": "polite", "score": '), times=1)
    llm_server.add_rule(Reply(json=_verdict(5, "polite")))
    result = judge("politeness", model=_judge(llm_server))("Thank you!")
    assert result.passed
    assert result.details["judge_calls"] == 2
    retry = llm_server.requests[1]
    roles = [m["role"] for m in retry.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert "not a valid verdict: not JSON" in retry.prompt


def test_score_off_the_scale_is_rejected_then_recovered(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json=_verdict(7)), times=1)
    llm_server.add_rule(Reply(json=_verdict(1, "rude")))
    result = judge("politeness", model=_judge(llm_server))("Whatever.")
    assert not result.passed
    assert result.score == 0.0
    assert "the score 7 is not an integer from 1 to 5" in llm_server.requests[1].prompt


def test_persistent_garbage_is_a_judge_error_not_a_failed_assertion(
    llm_server: LLMServer,
) -> None:
    llm_server.add_rule(Reply(text="I think it is quite polite overall."))
    grader = _judge(llm_server)
    with pytest.raises(JudgeError) as caught:
        assert_judge("Thank you!", "politeness", model=grader, retries=1)
    error = caught.value
    assert not isinstance(error, AssertionError)
    assert error.attempts == 2
    assert len(llm_server.requests) == 2
    assert error.judge == grader.spec
    message = str(error)
    assert f"judge {grader.spec}: no readable verdict after 2 attempt(s)" in message
    assert "the output under test was not graded" in message
    assert "I think it is quite polite overall." in message
    assert error.problems[0].startswith("not JSON")


def test_a_judge_refusal_is_not_a_verdict(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(refusal="I can't grade that."))
    with pytest.raises(JudgeError, match="the judge refused"):
        judge("politeness", model=_judge(llm_server), retries=0)("Hi")


def test_failure_message_shows_rubric_reason_score_and_output(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json=_verdict(2, "It blames the customer.")))
    with pytest.raises(LLMAssertionError) as caught:
        assert_judge(
            "It's your own fault, read the manual.",
            "answers politely and offers help",
            model=_judge(llm_server),
        )
    message = str(caught.value)
    lines = message.splitlines()
    assert lines[0] == (
        "assert_judge failed: expected the output to meet the rubric 'answers politely and "
        "offers help' (judge score >= 0.75)"
    )
    assert lines[1] == 'output (37 chars): "It\'s your own fault, read the manual."'
    assert lines[2] == "rubric: 'answers politely and offers help'"
    assert lines[3].endswith(": score 2/5 = 0.25 < threshold 0.75")
    assert lines[4] == "judge reason: 'It blames the customer.'"


def test_not_judge_passes_when_the_judge_scores_low(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json=_verdict(1, "invents a refund policy")))
    result = assert_not_judge(
        "We refund everything within 365 days.",
        "grounded",
        context="Refunds: within 30 days, unused items only.",
        model=_judge(llm_server),
    )
    assert result.check == "not_judge"
    assert result.score == 1.0  # negated: 1 - 0.0
    assert "<context>\nRefunds: within 30 days" in llm_server.requests[0].prompt


def test_votes_use_distinct_seeds_concurrently_and_aggregate(llm_server: LLMServer) -> None:
    scores = {0: 5, 1: 2, 2: 4}

    def by_seed(request: ServerRequest) -> Reply:
        return Reply(
            json=_verdict(scores[_body(request)["seed"]], f"seed {_body(request)['seed']}")
        )

    llm_server.add_rule(by_seed, fault=Fault(hold_until_in_flight=2, latency_s=0.05))
    grader = _judge(llm_server)
    mean = judge("politeness", model=grader, votes=3)("Thanks!")
    assert sorted(_body(r)["seed"] for r in llm_server.requests) == [0, 1, 2]
    assert llm_server.max_in_flight > 1
    assert llm_server.errors == []
    assert mean.details["judge_votes"] == [1.0, 0.25, 0.75]
    assert mean.score == pytest.approx(2 / 3)
    assert not mean.passed  # mean 0.67 < 0.75
    assert "mean of 3 votes (5/5, 2/5, 4/5) = 0.67" in mean.reason
    majority = judge("politeness", model=grader, votes=3, aggregate="majority")("Thanks!")
    assert majority.passed  # 2 of 3 votes reach 0.75
    assert "votes: 2/3 reach the threshold (majority)" in majority.notes
    assert majority.details["judge_reason"] in ("seed 0", "seed 2")  # a vote that agrees


def test_label_scale_is_an_enum_in_the_schema(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json=_verdict("pass", "correct")))
    result = judge(
        "closed_qa",
        input="Capital of France?",
        reference="Paris",
        scale=["fail", "pass"],
        model=_judge(llm_server),
    )("Paris.")
    assert result.passed
    assert result.score == 1.0
    schema = _body(llm_server.requests[0])["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["score"] == {"type": "string", "enum": ["fail", "pass"]}
    assert "<reference>\nParis\n</reference>" in llm_server.requests[0].prompt


def test_no_judge_configured_is_a_usage_error_naming_the_option_before_any_call(
    llm_server: LLMServer,
) -> None:
    with pytest.raises(UsageError, match="--llm-judge-model") as caught:
        assert_judge("Thanks!", "politeness")
    assert not isinstance(caught.value, AssertionError)
    assert llm_server.request_count == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rubric": "factuality"}, "the rubric 'factuality' needs reference="),
        ({"rubric": ""}, "the rubric must be a non-empty str"),
        ({"rubric": "x", "threshold": 4}, "threshold is a normalised score"),
        ({"rubric": "x", "scale": [5, 1]}, "scale must be an integer range"),
        ({"rubric": "x", "votes": 0}, "'votes' must be >= 1"),
        ({"rubric": "x", "format": "xml"}, "format must be one of auto"),
        ({"rubric": "x", "aggregate": "median"}, "aggregate must be one of mean, majority"),
        ({"rubric": "x", "model": 3}, "model must be a spec"),
    ],
)
def test_bad_arguments_are_usage_errors(
    llm_server: LLMServer, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        judge(**kwargs, **({} if "model" in kwargs else {"model": _judge(llm_server)}))("out")
    assert llm_server.request_count == 0


def test_judge_by_name_and_the_responses_are_judge_calls(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json=_verdict(5)))
    grader = _judge(llm_server)
    result = check("judge", "politeness", model=grader)("Thanks!")
    verdict = result.value
    (response,) = verdict.responses
    assert response.purpose == "judge"
    assert grader.purpose == "model"  # the model given is left as it was (a copy judges)
    assert json.loads(response.text)["score"] == 5


def test_the_judge_prompt_is_logged_with_llm_verbose(
    llm_server: LLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    llm_server.add_rule(Reply(json=_verdict(5)))
    with caplog.at_level(logging.DEBUG, logger="llmassert"):
        result = judge("politeness", model=_judge(llm_server))("Thanks!")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "prompt:\n[system]\nYou are a strict, impartial grader" in logged
    assert "<output>\nThanks!\n</output>" in logged
    assert result.details["judge_prompt"].startswith("[system]\nYou are a strict")


def test_a_budget_inside_a_budget_refuses_when_either_is_reached() -> None:
    from llmassert import BudgetExceededError
    from llmassert._models._budget import Budget

    run = Budget(max_calls=3)
    judge_budget = Budget(
        max_calls=2, parent=run, options=("--llm-judge-max-cost", "--llm-judge-max-calls")
    )
    judge_budget.before_call("j")
    judge_budget.add_cost(0.5)
    run.before_call("m")
    assert (run.calls, run.cost_usd, judge_budget.calls) == (2, 0.5, 1)
    judge_budget.before_call("j")  # the judge's 2nd, the run's 3rd
    with pytest.raises(BudgetExceededError, match="--llm-judge-max-calls 2 reached"):
        judge_budget.before_call("j")
    assert judge_budget.limit_text() == "--llm-judge-max-calls 2"
    with pytest.raises(BudgetExceededError, match="--llm-max-calls 3 reached"):
        run.before_call("m")
    roomy = Budget(max_calls=10, parent=run)
    with pytest.raises(BudgetExceededError, match="--llm-max-calls 3 reached"):
        roomy.before_call("j")  # the run's cap refuses it
    assert roomy.calls == 0


def test_a_builtin_rubric_can_be_read_and_replaced(llm_server: LLMServer) -> None:
    from llmassert import RUBRICS, register_rubric

    original = RUBRICS["politeness"]
    assert original.text.startswith("The output is polite and professional")
    llm_server.add_rule(Reply(json=_verdict(5)))
    try:
        register_rubric("politeness", "The output is formal: no slang, no emoji.")
        judge("politeness", model=_judge(llm_server))("Good day.")
        assert "<criterion>\nThe output is formal: no slang" in llm_server.requests[0].prompt
        register_rubric("on_brand", "Short sentences only.", needs=["input"])
        with pytest.raises(UsageError, match="needs input="):
            judge("on_brand", model=_judge(llm_server))("Hi.")
        with pytest.raises(UsageError, match="unknown part"):
            register_rubric("bad", "x", needs=["output"])
    finally:
        RUBRICS["politeness"] = original
        RUBRICS.pop("on_brand", None)
