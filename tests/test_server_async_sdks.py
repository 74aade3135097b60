"""The async SDK clients (``AsyncOpenAI``, ``AsyncAnthropic``) against the test server, for the
features the per-API test files drive only synchronously: embeddings, models, tool calls,
structured output, transport faults, mid-stream errors and a bad API key."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pydantic
import pytest

from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, ReplyToolCall, Rule

LONG = "one two three four five six seven eight nine ten eleven twelve"


class Capital(pydantic.BaseModel):
    city: str
    country: str


def _user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def _openai(server: LLMServer, **options: Any) -> openai.AsyncOpenAI:
    options.setdefault("max_retries", 0)
    return openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test", **options)


def _anthropic(server: LLMServer, **options: Any) -> anthropic.AsyncAnthropic:
    options.setdefault("max_retries", 0)
    return anthropic.AsyncAnthropic(base_url=server.anthropic_base_url, api_key="test", **options)


# ---------------------------------------------------------------- openai


@pytest.mark.asyncio
async def test_async_openai_embeddings_and_models(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("x", model="my-ft-model"))
    async with _openai(llm_server) as client:
        first = await client.embeddings.create(model="emb", input=["a", "b", "a"], dimensions=8)
        vectors = [item.embedding for item in first.data]
        assert [len(v) for v in vectors] == [8, 8, 8]
        assert vectors[0] == vectors[2] != vectors[1]
        ids = [model.id async for model in client.models.list()]
        assert ids[0] == "my-ft-model"
        assert "emb" in ids
        model = await client.models.retrieve("my-ft-model")
        assert model.id == "my-ft-model"
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("no-such-model")


@pytest.mark.asyncio
async def test_async_openai_tool_calls_plain_and_streamed(llm_server: LLMServer) -> None:
    class GetWeather(pydantic.BaseModel):
        city: str

    llm_server.add_rule(Reply(tool_calls=(ReplyToolCall("GetWeather", {"city": "Lima"}),)))
    tools = [openai.pydantic_function_tool(GetWeather)]
    async with _openai(llm_server) as client:
        completion = await client.chat.completions.create(
            model="m", messages=_user("weather?"), tools=tools
        )
        (call,) = completion.choices[0].message.tool_calls or []
        assert call.type == "function"
        assert json.loads(call.function.arguments) == {"city": "Lima"}
        assert completion.choices[0].finish_reason == "tool_calls"
        async with client.chat.completions.stream(
            model="m", messages=_user("weather?"), tools=tools
        ) as stream:
            final = await stream.get_final_completion()
        (streamed,) = final.choices[0].message.tool_calls or []
        assert streamed.function.parsed_arguments == GetWeather(city="Lima")


@pytest.mark.asyncio
async def test_async_openai_under_faults(llm_server: LLMServer) -> None:
    llm_server.add_rule("hang", prompt="hang", fault=Fault(hang=True))
    llm_server.add_rule("reset", prompt="reset", fault=Fault(reset_connection=True))
    llm_server.add_rule("broken", prompt="broken", fault=Fault(malformed_json=True))
    llm_server.add_rule(
        LONG,
        prompt="crash",
        fault=Fault(stream_error_after=3, fail_with=ErrorReply(message="boom")),
    )
    llm_server.add_rule(
        "finally",
        prompt="flaky",
        fault=Fault(fail_times=2, fail_with=ErrorReply(status=503, retry_after_ms=1)),
    )
    async with _openai(llm_server) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.with_options(timeout=0.1).chat.completions.create(
                model="m", messages=_user("hang")
            )
        with pytest.raises(openai.APIConnectionError):
            await client.chat.completions.create(model="m", messages=_user("reset"))
        with pytest.raises(ValueError):  # the SDK cannot decode the truncated JSON body
            await client.chat.completions.create(model="m", messages=_user("broken"))
        received: list[str] = []
        with pytest.raises(openai.APIError, match="boom"):  # noqa: PT012
            stream = await client.chat.completions.create(
                model="m", messages=_user("crash"), stream=True
            )
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
        assert len(received) == 3
    llm_server.reset_counters()
    async with _openai(llm_server, max_retries=2) as retrying:
        completion = await retrying.chat.completions.create(model="m", messages=_user("flaky"))
    assert completion.choices[0].message.content == "finally"
    assert llm_server.request_count == 3


# ---------------------------------------------------------------- anthropic


@pytest.mark.asyncio
async def test_async_anthropic_parse_tools_and_models(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(json={"city": "Paris", "country": "France"}), prompt="Capital?")
    llm_server.add_rule(
        Reply(text="Checking.", tool_calls=(ReplyToolCall("get_weather", {"city": "Oslo"}),)),
        model="claude-tools",
    )
    async with _anthropic(llm_server) as client:
        parsed = await client.messages.parse(
            model="claude-test", max_tokens=50, messages=_user("Capital?"), output_format=Capital
        )
        assert parsed.parsed_output == Capital(city="Paris", country="France")
        async with client.messages.stream(
            model="claude-tools", max_tokens=50, messages=_user("weather?")
        ) as stream:
            final = await stream.get_final_message()
        assert [block.type for block in final.content] == ["text", "tool_use"]
        tool_use = final.content[1]
        assert tool_use.type == "tool_use"
        assert (tool_use.name, tool_use.input) == ("get_weather", {"city": "Oslo"})
        assert final.stop_reason == "tool_use"
        page = await client.models.list()
        ids = [model.id for model in page.data]
        assert {"claude-test", "claude-tools"} <= set(ids)
    assert llm_server.last_request is not None
    assert llm_server.last_request.provider == "anthropic"


@pytest.mark.asyncio
async def test_async_anthropic_under_faults(llm_server: LLMServer) -> None:
    llm_server.add_rule("hang", prompt="hang", fault=Fault(hang=True))
    llm_server.add_rule("reset", prompt="reset", fault=Fault(reset_connection=True))
    llm_server.add_rule(
        LONG, prompt="crash", fault=Fault(stream_error_after=3, fail_with=ErrorReply(status=529))
    )
    async with _anthropic(llm_server) as client:
        with pytest.raises(anthropic.APITimeoutError):
            await client.with_options(timeout=0.1).messages.create(
                model="claude-test", max_tokens=10, messages=_user("hang")
            )
        with pytest.raises(anthropic.APIConnectionError):
            await client.messages.create(
                model="claude-test", max_tokens=10, messages=_user("reset")
            )
        received: list[str] = []
        with pytest.raises(anthropic.APIStatusError) as caught:  # noqa: PT012
            stream = await client.messages.create(
                model="claude-test", max_tokens=10, messages=_user("crash"), stream=True
            )
            async for event in stream:
                received.append(event.type)
        assert received == ["message_start", "content_block_start"]  # then the ping
        assert caught.value.type == "overloaded_error"


@pytest.mark.asyncio
async def test_async_clients_with_a_bad_key() -> None:
    with LLMServer(require_api_key="sk-right") as server:
        async with openai.AsyncOpenAI(
            base_url=server.openai_base_url, api_key="sk-wrong", max_retries=0
        ) as bad_openai:
            with pytest.raises(openai.AuthenticationError) as openai_error:
                await bad_openai.chat.completions.create(model="m", messages=_user("hi"))
        assert openai_error.value.code == "invalid_api_key"
        async with anthropic.AsyncAnthropic(
            base_url=server.anthropic_base_url, api_key="sk-wrong", max_retries=0
        ) as bad_anthropic:
            with pytest.raises(anthropic.AuthenticationError) as anthropic_error:
                await bad_anthropic.messages.create(
                    model="claude-test", max_tokens=10, messages=_user("hi")
                )
        assert anthropic_error.value.status_code == 401
        assert "sk-wrong" not in repr(server.requests)
