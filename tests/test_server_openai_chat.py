"""OpenAI Chat Completions against the test server, through the real openai SDK (sync + async)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest

from llmassert.testing import LLMServer, Reply, ReplyToolCall, Rule

WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


class City(pydantic.BaseModel):
    name: str
    population: int


def _client(server: LLMServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


def _aclient(server: LLMServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def test_plain_completion_shape_and_usage(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("Paris is the capital of France.", prompt_regex="capital"))
    raw = _client(llm_server).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=_user("What is the capital of France?")
    )
    completion = raw.parse()
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["content-type"].startswith("application/json")
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.system_fingerprint
    (choice,) = completion.choices
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Paris is the capital of France."
    assert choice.message.refusal is None
    assert completion.usage is not None
    # ~4 characters per token: 31 characters -> 8 tokens; the prompt: 30 characters -> 8.
    assert completion.usage.completion_tokens == 8
    assert completion.usage.prompt_tokens == 8
    assert completion.usage.total_tokens == 16
    assert completion.usage.completion_tokens_details is not None


def test_reply_overrides_token_counts_and_finish_reason(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Reply(text="cut", input_tokens=100, output_tokens=7, finish_reason="length")
    )
    completion = _client(llm_server).chat.completions.create(model="m", messages=_user("x"))
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (100, 7)


def test_reply_headers_are_sent(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="x", headers={"X-RateLimit-Remaining-Requests": "42"}))
    raw = _client(llm_server).chat.completions.with_raw_response.create(
        model="m", messages=_user("x")
    )
    assert raw.headers["x-ratelimit-remaining-requests"] == "42"


def test_streamed_text_with_include_usage(llm_server: LLMServer) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    llm_server.add_rule(text)
    stream = _client(llm_server).chat.completions.create(
        model="m", messages=_user("go"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) > 3  # really streamed in pieces
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert chunks[0].choices[0].delta.role == "assistant"
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finals] == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 11
    assert all(c.usage is None for c in chunks[:-1])


def test_streamed_without_include_usage_has_no_usage_chunk(llm_server: LLMServer) -> None:
    stream = _client(llm_server).chat.completions.create(
        model="m", messages=_user("echo me"), stream=True
    )
    chunks = list(stream)
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_raw_sse_framing_ends_with_done(llm_server: LLMServer) -> None:
    raw = _client(llm_server).chat.completions.with_raw_response.create(
        model="m", messages=_user("frame"), stream=True
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    body = raw.http_response.read().decode()
    events = body.split("\n\n")
    assert events[-1] == ""
    assert events[-2] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events[:-1])
    json.loads(events[0][len("data: ") :])


def test_structured_output_parse_helper(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json={"name": "Paris", "population": 2_100_000}))
    completion = _client(llm_server).chat.completions.parse(
        model="gpt-4o-mini", messages=_user("A city as JSON"), response_format=City
    )
    parsed = completion.choices[0].message.parsed
    assert parsed == City(name="Paris", population=2_100_000)
    request = llm_server.last_request
    assert request is not None
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.body["response_format"]["json_schema"]["name"] == "City"


def test_stream_helper_with_text(llm_server: LLMServer) -> None:
    llm_server.add_rule("Streaming through the helper works.")
    with _client(llm_server).chat.completions.stream(model="m", messages=_user("x")) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == "Streaming through the helper works."
    assert final.choices[0].message.content == "Streaming through the helper works."


def test_stream_helper_parses_structured_output(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json={"name": "Rome", "population": 2_800_000}))
    with _client(llm_server).chat.completions.stream(
        model="m", messages=_user("x"), response_format=City
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == City(name="Rome", population=2_800_000)


def test_tool_calls(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Reply(
            tool_calls=(
                ReplyToolCall("get_weather", {"city": "Paris", "unit": "celsius"}),
                ReplyToolCall("get_weather", {"city": "Oslo", "unit": "celsius"}, id="call_fixed"),
            )
        )
    )
    completion = _client(llm_server).chat.completions.create(
        model="m", messages=_user("weather in Paris and Oslo?"), tools=[WEATHER_TOOL]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [c.type for c in calls] == ["function", "function"]
    assert calls[0].id.startswith("call_")
    assert calls[1].id == "call_fixed"
    functions = [c.function for c in calls]  # type: ignore[union-attr]
    assert [f.name for f in functions] == ["get_weather", "get_weather"]
    assert json.loads(functions[0].arguments) == {"city": "Paris", "unit": "celsius"}
    request = llm_server.last_request
    assert request is not None
    assert request.body["tools"][0]["function"]["name"] == "get_weather"


def test_streamed_tool_call_arguments_arrive_in_pieces(llm_server: LLMServer) -> None:
    arguments = {"city": "San Francisco", "unit": "fahrenheit"}
    llm_server.add_rule(Reply(tool_calls=(ReplyToolCall("get_weather", arguments),)))
    stream = _client(llm_server).chat.completions.create(
        model="m", messages=_user("x"), tools=[WEATHER_TOOL], stream=True
    )
    pieces = [
        call.function.arguments
        for chunk in stream
        for call in (chunk.choices[0].delta.tool_calls or [])
        if call.function and call.function.arguments
    ]
    assert len(pieces) > 2
    assert json.loads("".join(pieces)) == arguments


def test_stream_helper_parses_strict_tool_arguments(llm_server: LLMServer) -> None:
    class GetWeather(pydantic.BaseModel):
        city: str
        unit: str

    llm_server.add_rule(
        Reply(tool_calls=(ReplyToolCall("GetWeather", {"city": "Lima", "unit": "c"}),))
    )
    with _client(llm_server).chat.completions.stream(
        model="m", messages=_user("x"), tools=[openai.pydantic_function_tool(GetWeather)]
    ) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.function.parsed_arguments == GetWeather(city="Lima", unit="c")


def test_n_choices(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(choices=(Reply(text="one"), Reply(text="two"))))
    completion = _client(llm_server).chat.completions.create(model="m", messages=_user("x"), n=3)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert [c.message.content for c in completion.choices] == ["one", "two", "one"]


def test_n_choices_streamed(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(choices=(Reply(text="alpha beta"), Reply(text="gamma delta"))))
    stream = _client(llm_server).chat.completions.create(
        model="m", messages=_user("x"), n=2, stream=True
    )
    texts = ["", ""]
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == ["alpha beta", "gamma delta"]


def test_refusal(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(refusal="I can't help with that."))
    completion = _client(llm_server).chat.completions.parse(
        model="m", messages=_user("something bad"), response_format=City
    )
    message = completion.choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.content is None
    assert message.parsed is None
    assert completion.choices[0].finish_reason == "stop"


def test_streamed_refusal(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(refusal="I'm sorry, but I cannot assist with that request."))
    with _client(llm_server).chat.completions.stream(model="m", messages=_user("x")) as stream:
        refusal_deltas = [e.delta for e in stream if e.type == "refusal.delta"]
        final = stream.get_final_completion()
    assert len(refusal_deltas) > 1
    assert final.choices[0].message.refusal == "I'm sorry, but I cannot assist with that request."


@pytest.mark.asyncio
async def test_async_client_plain_and_streamed(llm_server: LLMServer) -> None:
    llm_server.add_rule("async answer with several words")
    async with _aclient(llm_server) as client:
        completion = await client.chat.completions.create(model="m", messages=_user("x"))
        assert completion.choices[0].message.content == "async answer with several words"
        stream = await client.chat.completions.create(
            model="m", messages=_user("x"), stream=True, stream_options={"include_usage": True}
        )
        text = ""
        usage = None
        async for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            usage = chunk.usage or usage
    assert text == "async answer with several words"
    assert usage is not None
    assert usage.completion_tokens == 8


@pytest.mark.asyncio
async def test_async_parse_and_stream_helper(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json={"name": "Kyoto", "population": 1_460_000}))
    async with _aclient(llm_server) as client:
        completion = await client.chat.completions.parse(
            model="m", messages=_user("x"), response_format=City
        )
        assert completion.choices[0].message.parsed == City(name="Kyoto", population=1_460_000)
        async with client.chat.completions.stream(
            model="m", messages=_user("x"), response_format=City
        ) as stream:
            final = await stream.get_final_completion()
    assert final.choices[0].message.parsed == City(name="Kyoto", population=1_460_000)


def test_raw_json_matches_the_api_reference_shape(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="hi", tool_calls=(ReplyToolCall("f", {"a": 1}),)))
    raw = _client(llm_server).chat.completions.with_raw_response.create(
        model="m", messages=_user("x"), tools=[WEATHER_TOOL]
    )
    body = raw.http_response.json()
    assert set(body) == {
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    }
    assert isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert set(choice) == {"index", "message", "logprobs", "finish_reason"}
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["content"] == "hi"
    assert message["refusal"] is None
    (call,) = message["tool_calls"]
    assert set(call) == {"id", "type", "function"}
    assert call["function"] == {"name": "f", "arguments": '{"a":1}'}
    assert set(body["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    }
    stream = _client(llm_server).chat.completions.with_raw_response.create(
        model="m", messages=_user("x"), stream=True, stream_options={"include_usage": True}
    )
    events = [
        json.loads(e[len("data: ") :])
        for e in stream.http_response.read().decode().split("\n\n")
        if e.startswith("data: {")
    ]
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert all("usage" in e for e in events)
    assert events[-1]["choices"] == []
