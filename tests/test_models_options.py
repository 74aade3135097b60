"""Issue 3 details the other test files leave open: the default timeout (not the SDKs' 10
minutes) and where it applies, timeouts retried, ``--llm-verbose`` with masked secrets, JSON
mode and pydantic response formats on the wire, usage details (reasoning / cached tokens),
Anthropic's default ``max_tokens`` and the placeholder key of keyless endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from llmassert import Endpoint, Model, UnsupportedParameterError
from llmassert._models import _anthropic, _clients, _openai
from llmassert._models._wire import WireResponse
from llmassert.testing import Fault, LLMServer, Reply, Rule, fingerprint


def _model(server: LLMServer, wire: str = "openai", **kw: Any) -> Model:
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name="srv", provider=wire, base_url=base, retry_initial_s=0.001, **kw)
    return Model("srv:m", endpoints={"srv": endpoint})


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_default_timeout_is_60_s_and_sdk_retries_are_off(wire: str) -> None:
    endpoint = Endpoint(name="x", provider=wire, base_url="http://127.0.0.1:9/v1")
    assert endpoint.timeout_s == 60
    with _clients.sync_client(endpoint, "x") as client:
        assert client.timeout == 60  # not the SDKs' 600 s
        assert client.max_retries == 0
    assert _model_timeout(Model("x:m", endpoints={"x": endpoint})) == 60


def _model_timeout(m: Model, **params: Any) -> float:
    return m._target(m._timeout(params)).timeout_s


def test_timeout_per_endpoint_per_model_and_per_call() -> None:
    endpoint = Endpoint(name="x", provider="openai", base_url="http://127.0.0.1:9/v1", timeout_s=7)
    assert _model_timeout(Model("x:m", endpoints={"x": endpoint})) == 7
    assert _model_timeout(Model("x:m", endpoints={"x": endpoint}, timeout=3)) == 3
    assert _model_timeout(Model("x:m", endpoints={"x": endpoint}), timeout=0.5) == 0.5


def test_llm_timeout_option_reaches_the_models(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_timeout = 9\n")
    pytester.makepyfile(
        """
        def test_timeout(llm_model):
            assert llm_model("demo:prompted").endpoint.timeout_s == 9
            assert llm_model("demo:prompted", timeout=2).endpoint.timeout_s == 2
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--llm-timeout=4", "-k", "nothing").assert_outcomes()  # CLI accepted
    pytester.makepyfile(
        """
        def test_timeout(llm_model):
            assert llm_model("demo:prompted").endpoint.timeout_s == 4
        """
    )
    pytester.runpytest("--llm-timeout=4").assert_outcomes(passed=1)  # CLI wins over the ini


def test_a_timeout_is_retried(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(Reply(text="late"), fault=Fault(hang=True), times=1))
    llm_server.add_rule(Reply(text="on time"))
    # Each attempt may take 0.2 s (attempt_timeout) of the call's 5 s (timeout).
    r = _model(llm_server, attempt_timeout_s=0.2).complete("hi", timeout=5)
    assert r.text == "on time"
    assert r.retries == 1
    assert llm_server.request_count == 2


def test_llm_verbose_logs_requests_and_responses_with_secrets_masked(
    pytester: pytest.Pytester, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-verbose-test-0123456789"
    monkeypatch.setenv("VERBOSE_TEST_KEY", secret)
    llm_server.add_rule(Reply(text=f"you said {secret}"))
    pytester.makepyprojecttoml(
        f"""
        [tool.llmassert.endpoints.srv]
        base_url = "{llm_server.openai_base_url}"
        api_key_env = "VERBOSE_TEST_KEY"
        model = "m"
        """
    )
    pytester.makepyfile(
        """
        import os

        def test_call(llm_model):
            llm_model("srv").complete("my key is " + os.environ["VERBOSE_TEST_KEY"])
            assert False, "show the captured log"
        """
    )
    result = pytester.runpytest("--llm-verbose", "--llm-record=off")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*Captured log call*", "*llmassert -> srv POST http://127.0.0.1:*/v1/chat/completions {*"]
    )
    result.stdout.fnmatch_lines(["*llmassert <- srv HTTP 200*you said ****"])
    assert secret not in result.stdout.str()
    assert "/v1/v1/" not in result.stdout.str()  # the URL really called
    quiet = pytester.runpytest("--llm-record=off")
    assert "llmassert -> srv" not in quiet.stdout.str()  # only with --llm-verbose


@pytest.mark.parametrize(
    ("api", "field", "expected"),
    [
        ("chat", "response_format", {"type": "json_object"}),
        ("responses", "text", {"format": {"type": "json_object"}}),
    ],
)
def test_json_mode_on_the_wire(
    llm_server: LLMServer, api: str, field: str, expected: dict[str, Any]
) -> None:
    llm_server.add_rule(Reply(json={"a": 1}))
    r = _model(llm_server, api=api).complete("hi", response_format="json")
    assert r.parsed == {"a": 1}
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert body[field] == expected


def test_json_mode_on_anthropic_is_refused_naming_the_fix(llm_server: LLMServer) -> None:
    with pytest.raises(UnsupportedParameterError, match="json_schema="):
        _model(llm_server, "anthropic").complete("hi", response_format="json")
    assert llm_server.request_count == 0


class Sentiment(BaseModel):
    sentiment: str


def test_a_pydantic_model_is_a_json_schema(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json={"sentiment": "positive"}))
    r = _model(llm_server).complete("I love it", response_format=Sentiment)
    assert r.parsed == {"sentiment": "positive"}
    body = llm_server.last_request.body if llm_server.last_request else {}
    sent = body["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"]["properties"] == {
        "sentiment": {"title": "Sentiment", "type": "string"}
    }


def test_anthropic_always_sends_max_tokens_and_keyless_endpoints_a_placeholder(
    llm_server: LLMServer,
) -> None:
    llm_server.add_rule(Reply(text="ok"))
    _model(llm_server, "anthropic").complete("hi")
    seen = llm_server.last_request
    assert seen is not None
    assert seen.body["max_tokens"] == 1024  # Anthropic requires one: the endpoint default
    # The request log keeps a fingerprint of secret headers, never the value; both SDKs send
    # the key as a bearer token.
    placeholder = fingerprint(f"Bearer {_clients.PLACEHOLDER_KEY}")
    assert seen.headers["authorization"] == placeholder
    _model(llm_server).complete("hi")
    assert llm_server.last_request is not None
    assert llm_server.last_request.headers["authorization"] == placeholder


def _replayed(body: dict[str, Any]) -> WireResponse:
    return WireResponse(body=json.loads(json.dumps(body)), replayed=True)


def test_usage_details_reasoning_and_cached_tokens() -> None:
    chat = _openai.parse(
        "chat",
        "o4-mini",
        _replayed(
            {
                "choices": [{"message": {"content": "4"}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": 100,
                    "completion_tokens": 50,
                    "completion_tokens_details": {"reasoning_tokens": 40},
                    "prompt_tokens_details": {"cached_tokens": 64},
                },
            }
        ),
    )
    assert (chat.usage.input_tokens, chat.usage.output_tokens) == (100, 50)
    assert (chat.usage.reasoning_tokens, chat.usage.cached_input_tokens) == (40, 64)
    responses = _openai.parse(
        "responses",
        "o4-mini",
        _replayed(
            {
                "status": "completed",
                "output": [{"type": "message", "content": [{"type": "output_text", "text": "4"}]}],
                "usage": {
                    "input_tokens": 10,
                    "output_tokens": 30,
                    "output_tokens_details": {"reasoning_tokens": 25},
                    "input_tokens_details": {"cached_tokens": 0},
                },
            }
        ),
    )
    assert (responses.text, responses.finish_reason) == ("4", "stop")
    assert (responses.usage.output_tokens, responses.usage.reasoning_tokens) == (30, 25)
    claude = _anthropic.parse(
        "claude",
        _replayed(
            {
                "content": [{"type": "thinking", "thinking": "..."}, {"type": "text", "text": "4"}],
                "stop_reason": "end_turn",
                "usage": {
                    "input_tokens": 5,
                    "cache_read_input_tokens": 100,
                    "cache_creation_input_tokens": 20,
                    "output_tokens": 80,
                },
            }
        ),
    )
    assert claude.text == "4"
    # Anthropic's input_tokens exclude the cache: the total input is all three.
    assert (claude.usage.input_tokens, claude.usage.cached_input_tokens) == (125, 100)
    assert claude.usage.output_tokens == 80  # thinking tokens are billed as output tokens


def test_odd_bodies_parse_to_empty_fields_not_crashes() -> None:
    for body in ({}, {"choices": None, "usage": None}, {"choices": [{"message": None}]}):
        r = _openai.parse("chat", "m", _replayed(body))
        assert (r.text, r.finish_reason, r.usage.input_tokens) == ("", None, None)
    r = _anthropic.parse("m", _replayed({"content": None, "usage": None}))
    assert (r.text, r.model, r.tool_calls) == ("", "m", ())
