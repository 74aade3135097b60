"""Every provider path, sync and async, streamed and not, against the local test server over
real HTTP with the real SDKs: text, refusal, finish reason, tool calls, parsed JSON, usage,
latency, cost, request id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmassert import Endpoint, Model, UnsupportedParameterError, model, set_prices
from llmassert.testing import LLMServer, Reply, ReplyToolCall


def _model(server: LLMServer, wire: str = "openai", name: str = "gpt-4o-mini", **kw: Any) -> Model:
    provider = kw.pop("provider", wire)
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name="srv", provider=provider, base_url=base, retry_initial_s=0.001, **kw)
    return Model(f"srv:{name}", endpoints={"srv": endpoint})


API_CASES = [
    pytest.param("openai", "chat", "chat.completions", id="openai-chat"),
    pytest.param("openai", "responses", "responses", id="openai-responses"),
    pytest.param("openai", "completions", "completions", id="openai-completions"),
    pytest.param("anthropic", "chat", "messages", id="anthropic-messages"),
]


@pytest.fixture(autouse=True)
def _prices() -> None:
    set_prices({"gpt-4o-mini": {"input": 0.15, "output": 0.6}}, provider="endpoint:srv")
    set_prices({"claude-x": {"input": 1.0, "output": 5.0}}, provider="endpoint:srv")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(("wire", "api", "server_api"), API_CASES)
def test_sync_paths(
    llm_server: LLMServer, wire: str, api: str, server_api: str, stream: bool
) -> None:
    llm_server.add_rule(Reply(text="Paris", input_tokens=12, output_tokens=3))
    name = "claude-x" if wire == "anthropic" else "gpt-4o-mini"
    m = _model(llm_server, wire, name, api=api)
    r = m.complete("What is the capital of France?", stream=stream)
    assert r.text == "Paris"
    assert r.finish_reason == "stop"
    assert r.usage.input_tokens == 12
    assert r.usage.output_tokens == 3
    assert r.latency_s is not None
    assert 0 < r.latency_s < 5
    assert r.cost_usd is not None
    assert r.cost_usd > 0
    assert r.request_id
    assert r.spec == f"srv:{name}"
    assert r.retries == 0
    assert not r.replayed
    assert (r.ttft_s is not None) == stream
    seen = llm_server.last_request
    assert seen is not None
    assert seen.api == server_api
    assert seen.stream == stream
    assert seen.prompt == "What is the capital of France?"


@pytest.mark.asyncio
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(("wire", "api", "server_api"), API_CASES)
async def test_async_paths(
    llm_server: LLMServer, wire: str, api: str, server_api: str, stream: bool
) -> None:
    llm_server.add_rule(Reply(text="Tokyo", input_tokens=5, output_tokens=2))
    m = _model(llm_server, wire, api=api)
    r = await m.acomplete("Capital of Japan?", stream=stream)
    assert r.text == "Tokyo"
    assert r.usage.output_tokens == 2
    assert r.latency_s is not None
    assert llm_server.last_request is not None
    assert llm_server.last_request.api == server_api


def test_legacy_completions_sends_the_raw_prompt(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text=" Bonjour"))
    m = _model(llm_server, api="completions")
    template = "### Instruction:\nSay hello in French\n### Response:\n"
    r = m.complete(template, stop=["###"], max_tokens=20)
    assert r.text == " Bonjour"
    body = llm_server.last_request.body if llm_server.last_request else None
    assert body == {"model": "gpt-4o-mini", "prompt": template, "max_tokens": 20, "stop": ["###"]}
    with pytest.raises(UnsupportedParameterError, match=r"legacy Completions.*'messages'"):
        m.complete([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}])


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_calls(llm_server: LLMServer, wire: str, stream: bool) -> None:
    llm_server.add_rule(
        Reply(tool_calls=(ReplyToolCall("get_weather", {"city": "Paris"}, id="call_1"),))
    )
    tools = [{"name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    r = _model(llm_server, wire).complete("Weather in Paris?", tools=tools, stream=stream)
    assert r.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in r.tool_calls] == [("get_weather", {"city": "Paris"})]


@pytest.mark.parametrize(
    ("wire", "api"), [("openai", "chat"), ("openai", "responses"), ("anthropic", "chat")]
)
def test_refusal_is_normalised(llm_server: LLMServer, wire: str, api: str) -> None:
    llm_server.add_rule(Reply(refusal="I can't help with that."))
    r = _model(llm_server, wire, api=api).complete("How do I make a weapon?")
    assert r.refusal is not None
    assert "can't help" in r.refusal
    assert r.finish_reason == "refusal"


@pytest.mark.parametrize(
    ("wire", "api", "field"),
    [
        ("openai", "chat", "response_format"),
        ("openai", "responses", "text"),
        ("anthropic", "chat", "output_config"),
    ],
)
def test_json_schema_is_sent_and_parsed(
    llm_server: LLMServer, wire: str, api: str, field: str
) -> None:
    llm_server.add_rule(Reply(json={"sentiment": "positive"}))
    schema = {"type": "object", "properties": {"sentiment": {"type": "string"}}}
    r = _model(llm_server, wire, api=api).complete("I love it", json_schema=schema)
    assert r.parsed == {"sentiment": "positive"}
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert "schema" in json.dumps(body[field])


def test_messages_system_and_params_reach_the_wire(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="ok"))
    _model(llm_server).complete(
        [{"role": "user", "content": "hi"}], system="Be terse.", temperature=0, seed=7, stop="X"
    )
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert (body["temperature"], body["seed"], body["stop"]) == (0, 7, ["X"])
    assert body["max_tokens"] == 1024
    _model(llm_server, "anthropic").complete("hi", system="Be terse.", max_tokens=50)
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert (body["system"], body["max_tokens"]) == ("Be terse.", 50)


def test_unsupported_parameters_are_never_dropped(llm_server: LLMServer) -> None:
    with pytest.raises(UnsupportedParameterError, match=r"srv:claude.*'seed'"):
        _model(llm_server, "anthropic", "claude").complete("hi", seed=1)
    with pytest.raises(UnsupportedParameterError, match=r"Responses.*'stop'"):
        _model(llm_server, api="responses").complete("hi", stop=["x"])
    with pytest.raises(UnsupportedParameterError, match="o3-mini is a reasoning model"):
        _model(llm_server, name="o3-mini", provider="openai").complete("hi", temperature=0.2)
    with pytest.raises(UnsupportedParameterError, match="'thinking'"):
        _model(llm_server).complete("hi", thinking=2048)
    assert llm_server.request_count == 0


def test_reasoning_models_use_max_completion_tokens(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="ok"))
    _model(llm_server, name="o4-mini", reasoning=True).complete(
        "hi", reasoning_effort="low", max_tokens=64
    )
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert body["max_completion_tokens"] == 64
    assert "max_tokens" not in body
    assert body["reasoning_effort"] == "low"
    _model(llm_server, "anthropic", "claude").complete("hi", thinking=2048, max_tokens=500)
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] > 2048


def test_named_endpoint_from_pyproject(
    llm_server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f"""
[tool.llmassert.endpoints.ft-support]
provider = "openai"
base_url = "{llm_server.openai_base_url}"
api_key_env = "FT_SUPPORT_KEY"
model = "acme-support-7b"
timeout = 5
max_tokens = 77
prices = {{ input = 1.0, output = 2.0 }}

[tool.llmassert.endpoints.local-llama]
base_url = "{llm_server.openai_base_url}"
model = "llama3"
api = "completions"
"""
    )
    monkeypatch.setenv("FT_SUPPORT_KEY", "sk-ft-secret-123")
    monkeypatch.chdir(tmp_path)
    llm_server.add_rule(Reply(text="Hello", input_tokens=1000, output_tokens=500))
    r = model("ft-support").complete("hi")
    assert r.text == "Hello"
    assert r.model == "acme-support-7b"
    assert r.cost_usd == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    seen = llm_server.last_request
    assert seen is not None
    assert seen.body["max_tokens"] == 77
    assert "sk-ft-secret-123" not in json.dumps(seen.headers)
    other = model("ft-support:other-model").complete("hi")
    assert other.model == "other-model"
    # No api_key_env: a placeholder key is sent (Ollama, llama.cpp); legacy completions API.
    local = model("local-llama").complete("raw prompt")
    assert local.text == "Hello"
    assert llm_server.last_request is not None
    assert llm_server.last_request.api == "completions"


def test_unknown_self_hosted_model_has_no_cost(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="x"))
    endpoint = Endpoint(name="vllm", provider="openai", base_url=llm_server.openai_base_url)
    r = Model("vllm:gpt-4o-mini", endpoints={"vllm": endpoint}).complete("hi")
    assert r.usage.input_tokens is not None
    assert r.cost_usd is None  # a self-hosted "gpt-4o-mini" is not OpenAI's price


def test_builtin_providers_honour_sdk_env_vars(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm_server.add_rule(Reply(text="hi", input_tokens=1_000_000, output_tokens=0))
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", llm_server.anthropic_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    r = Model("openai:gpt-4o-mini-2024-07-18").complete("hi")
    assert r.cost_usd == pytest.approx(0.15)  # the built-in price of the dated snapshot
    ft = Model("openai:ft:gpt-4o-mini-2024-07-18:acme::abc123").complete("hi")
    assert ft.cost_usd == pytest.approx(0.30)  # fine-tuned inference price
    assert llm_server.last_request is not None
    assert llm_server.last_request.model == "ft:gpt-4o-mini-2024-07-18:acme::abc123"
    a = Model("anthropic:claude-3-5-haiku-latest").complete("hi")
    assert a.cost_usd == pytest.approx(0.80)
    assert a.provider == "anthropic"
    assert Model("openai:some-new-model").complete("hi").cost_usd is None


def test_batch_and_abatch_keep_order(llm_server: LLMServer) -> None:
    m = _model(llm_server)
    prompts = [f"item {i}" for i in range(20)]
    assert [r.text for r in m.batch(prompts, concurrency=5)] == prompts  # echo fallback


@pytest.mark.asyncio
async def test_abatch_keeps_order_and_returns_exceptions(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="bad", finish_reason="stop"), prompt="boom")
    m = _model(llm_server)
    results = await m.abatch(["a", "b", "c"], concurrency=2)
    assert [r.text for r in results] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="unknown parameter"):
        await m.abatch(["a"], colour="red")
    mixed = await m.abatch(["a", 42], return_exceptions=True)  # type: ignore[list-item]
    assert isinstance(mixed[1], ValueError)


def test_interceptors_see_the_wire_request(llm_server: LLMServer) -> None:
    from llmassert._models._wire import WireRequest, WireResponse

    seen: list[WireRequest] = []

    class Spy:
        def call(self, request: WireRequest, send: Any) -> WireResponse:
            seen.append(request)
            return send(request)

        async def acall(self, request: WireRequest, send: Any) -> WireResponse:
            seen.append(request)
            return await send(request)

    class Replay:
        def call(self, request: WireRequest, send: Any) -> WireResponse:
            body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m"}
            body["choices"] = [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "stored"},
                }
            ]
            return WireResponse(body=body, replayed=True, latency_s=0.5)

        async def acall(self, request: WireRequest, send: Any) -> WireResponse:
            return self.call(request, send)

    m = _model(llm_server)
    m.interceptors = [Spy()]
    m.context = "tests/test_x.py::test_y"
    m.complete("hello")
    assert seen[0].body["messages"] == [{"role": "user", "content": "hello"}]
    assert seen[0].spec == "srv:gpt-4o-mini"
    assert seen[0].path == "/v1/chat/completions"
    assert seen[0].context == "tests/test_x.py::test_y"
    assert seen[0].provider == "openai"
    m.interceptors = [Spy(), Replay()]
    r = m.complete("hello")
    assert r.text == "stored"
    assert r.replayed
    assert r.latency_s == 0.5
    assert llm_server.request_count == 1  # the replay made no live call


def test_endpoint_headers_are_sent_but_never_logged(
    llm_server: LLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    llm_server.add_rule(Reply(text="ok"))
    m = _model(llm_server, headers={"X-Team": "support-team-header"})
    with caplog.at_level(logging.DEBUG, logger="llmassert"):
        m.complete("hi")
    seen = llm_server.last_request
    assert seen is not None
    assert seen.headers["x-team"] == "support-team-header"
    assert "support-team-header" not in caplog.text


@pytest.mark.parametrize(
    ("wire", "api", "tool", "choice"),
    [
        (
            "openai",
            "chat",
            {
                "type": "function",
                "function": {"name": "f", "description": "d", "parameters": {"type": "object"}},
            },
            {"type": "function", "function": {"name": "f"}},
        ),
        (
            "openai",
            "responses",
            {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}},
            {"type": "function", "name": "f"},
        ),
        (
            "anthropic",
            "chat",
            {"name": "f", "description": "d", "input_schema": {"type": "object"}},
            {"type": "tool", "name": "f"},
        ),
    ],
)
def test_tools_and_tool_choice_take_each_api_shape(
    llm_server: LLMServer, wire: str, api: str, tool: dict[str, Any], choice: dict[str, Any]
) -> None:
    llm_server.add_rule(Reply(text="ok"))
    tools = [{"name": "f", "description": "d", "parameters": {"type": "object"}}]
    m = _model(llm_server, wire, api=api)
    m.complete("hi", tools=tools, tool_choice="f")
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert (body["tools"], body["tool_choice"]) == ([tool], choice)
    m.complete("hi", tools=tools, tool_choice="required")
    body = llm_server.last_request.body if llm_server.last_request else {}
    assert body["tool_choice"] == ({"type": "any"} if wire == "anthropic" else "required")
