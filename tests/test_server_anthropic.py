"""The Anthropic Messages API wire format of the test server (``POST /v1/messages``).

The first part checks the pure rendering functions against the SDK's own typed models; the
second drives the real ``anthropic`` SDK over HTTP against an ``LLMServer``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from anthropic.types.shared import ErrorResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, ReplyToolCall, ServerRequest
from llmassert.testing import _wire_anthropic as wire
from llmassert.testing._reply import REPLY_FINISH_REASONS

STREAM_EVENT = pydantic.TypeAdapter(RawMessageStreamEvent)
ERROR_RESPONSE = pydantic.TypeAdapter(ErrorResponse)


def _request(body: dict[str, Any]) -> ServerRequest:
    view = wire.describe(body)
    return ServerRequest(
        method="POST",
        path="/v1/messages",
        provider="anthropic",
        api="messages",
        body=body,
        model=view.model,
        messages=view.messages,
        prompt=view.prompt,
        stream=view.stream,
    )


BODY: dict[str, Any] = {
    "model": "claude-test",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "Hello there"}],
}


# -- describe -----------------------------------------------------------------------------------


def test_describe_normalises_system_blocks_and_tool_results() -> None:
    body = {
        "model": "claude-x",
        "stream": True,
        "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
        "messages": [
            {"role": "user", "content": "first"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
            },
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "data": "xx"}},
                    {"type": "tool_result", "tool_use_id": "t1", "content": "42"},
                    {"type": "text", "text": "and now?"},
                ],
            },
        ],
    }
    view = wire.describe(body)
    assert view.model == "claude-x"
    assert view.stream is True
    assert view.messages == (
        {"role": "system", "content": "Be brief.\nBe kind."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "42\nand now?"},
    )
    assert view.prompt == "42\nand now?"


def test_describe_tool_result_turns_are_tool_messages() -> None:
    view = wire.describe(
        {
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "w", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t1",
                            "content": [{"type": "text", "text": "18C"}],
                        }
                    ],
                },
            ]
        }
    )
    assert view.messages[-1] == {"role": "tool", "content": "18C"}
    assert view.prompt == "Weather in Paris?"  # as with OpenAI tool messages
    only_assistant = wire.describe({"messages": [{"role": "assistant", "content": "Hi"}]})
    assert only_assistant.prompt == "Hi"


def test_describe_string_system_and_odd_bodies() -> None:
    view = wire.describe({"system": "S", "messages": [{"role": "user", "content": "hi"}]})
    assert view.messages[0] == {"role": "system", "content": "S"}
    assert view.prompt == "hi"
    assert view.stream is False
    assert wire.describe(None).messages == ()
    assert wire.describe({"messages": "nope", "model": 3}).model is None


# -- non-streamed -------------------------------------------------------------------------------


def test_text_reply_is_a_valid_message() -> None:
    body = wire.render_body(_request(BODY), Reply(text="Hi!", input_tokens=7, output_tokens=3))
    message = Message.model_validate(body)
    assert message.id.startswith("msg_")
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.model == "claude-test"
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hi!"
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert message.usage.input_tokens == 7
    assert message.usage.output_tokens == 3
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.cache_read_input_tokens == 0
    # the raw shape of the API reference
    assert set(body) >= {"id", "type", "role", "model", "content", "stop_reason", "usage"}
    assert body["content"] == [{"type": "text", "text": "Hi!"}]


def test_json_reply_renders_as_text() -> None:
    body = wire.render_body(_request(BODY), Reply(json={"a": 1}))
    assert json.loads(Message.model_validate(body).content[0].text) == {"a": 1}


def test_tool_call_reply_has_tool_use_blocks() -> None:
    reply = Reply(
        text="Let me check.",
        tool_calls=(
            ReplyToolCall("get_weather", {"city": "Paris"}, id="toolu_fixed"),
            ReplyToolCall("lookup", '{"q": "x"}'),
        ),
    )
    message = Message.model_validate(wire.render_body(_request(BODY), reply))
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["text", "tool_use", "tool_use"]
    first, second = message.content[1], message.content[2]
    assert first.type == "tool_use"
    assert second.type == "tool_use"
    assert (first.id, first.name, first.input) == ("toolu_fixed", "get_weather", {"city": "Paris"})
    assert second.id.startswith("toolu_")
    assert second.input == {"q": "x"}


def test_malformed_tool_arguments_render_as_empty_input() -> None:
    reply = Reply(tool_calls=(ReplyToolCall("f", "{not json"),))
    message = Message.model_validate(wire.render_body(_request(BODY), reply))
    assert message.content[0].type == "tool_use"
    assert message.content[0].input == {}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(text="x"), "end_turn"),
        (Reply(text="x", finish_reason="length"), "max_tokens"),
        (Reply(tool_calls=(ReplyToolCall("f"),)), "tool_use"),
        (Reply(refusal="No."), "refusal"),
        (Reply(text="x", finish_reason="content_filter"), "refusal"),
        (Reply(text="x", finish_reason="pause_turn"), "pause_turn"),
        (Reply(text="x", finish_reason="stop_sequence"), "stop_sequence"),
    ],
)
def test_finish_reasons_map_to_stop_reasons(reply: Reply, expected: str) -> None:
    assert Message.model_validate(wire.render_body(_request(BODY), reply)).stop_reason == expected


def test_stop_sequence_names_the_requested_sequence() -> None:
    request = _request({**BODY, "stop_sequences": ["END", "STOP"]})
    body = wire.render_body(request, Reply(text="x", finish_reason="stop_sequence"))
    assert body["stop_sequence"] == "END"


def test_refusal_renders_as_text_with_refusal_stop_reason() -> None:
    message = Message.model_validate(
        wire.render_body(_request(BODY), Reply(refusal="I can't help with that."))
    )
    assert message.stop_reason == "refusal"
    assert message.content[0].type == "text"
    assert message.content[0].text == "I can't help with that."
    assert message.stop_details is not None
    assert message.stop_details.type == "refusal"


def test_empty_reply_has_no_content_blocks() -> None:
    message = Message.model_validate(wire.render_body(_request(BODY), Reply(text="")))
    assert message.content == []
    assert message.usage.output_tokens >= 1


def test_usage_defaults_to_the_token_estimate() -> None:
    body = wire.render_body(_request(BODY), Reply(text="x" * 40))
    assert body["usage"]["output_tokens"] == 10
    assert body["usage"]["input_tokens"] == 3  # "Hello there": 11 characters


# -- streamed -----------------------------------------------------------------------------------


def _stream(reply: Reply, body: dict[str, Any] | None = None) -> list[Any]:
    events = list(wire.render_stream(_request({**(body or BODY), "stream": True}), reply))
    for event in events:
        assert event.event == event.data["type"]  # "event: <type>" matches the payload
        if event.event != "ping":
            STREAM_EVENT.validate_python(event.data)
    return events


def test_text_stream_follows_the_real_event_sequence() -> None:
    events = _stream(Reply(text="The quick brown fox jumps over the lazy dog."))
    names = [event.event for event in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [event.data for event in events if event.event == "content_block_delta"]
    assert len(deltas) > 2
    assert "".join(delta["delta"]["text"] for delta in deltas) == (
        "The quick brown fox jumps over the lazy dog."
    )
    start = events[0].data["message"]
    assert start["content"] == []
    assert start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == 3
    message_delta = events[-2].data
    assert message_delta["delta"]["stop_reason"] == "end_turn"
    assert message_delta["usage"]["output_tokens"] == 11


def test_tool_use_stream_sends_input_json_in_pieces() -> None:
    arguments = {"city": "Paris", "unit": "celsius", "days": 3}
    events = _stream(Reply(tool_calls=(ReplyToolCall("get_weather", arguments, id="toolu_1"),)))
    starts = [event.data for event in events if event.event == "content_block_start"]
    assert starts == [
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "get_weather",
                "input": {},
            },
        }
    ]
    pieces = [
        event.data["delta"]["partial_json"]
        for event in events
        if event.event == "content_block_delta"
    ]
    assert len(pieces) > 3
    assert json.loads("".join(pieces)) == arguments
    assert events[-2].data["delta"]["stop_reason"] == "tool_use"


def test_empty_stream_still_pings_and_stops() -> None:
    names = [event.event for event in _stream(Reply(text=""))]
    assert names == ["message_start", "ping", "message_delta", "message_stop"]


_TOOL_CALLS = st.lists(
    st.builds(
        ReplyToolCall,
        name=st.from_regex(r"[a-z_]{1,16}", fullmatch=True),
        arguments=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=30)),
    ),
    max_size=3,
).map(tuple)
_REPLIES = st.builds(
    Reply,
    text=st.none() | st.text(max_size=200),
    refusal=st.none() | st.text(max_size=60),
    tool_calls=_TOOL_CALLS,
    finish_reason=st.none() | st.sampled_from(REPLY_FINISH_REASONS),
)


@given(reply=_REPLIES)
@settings(max_examples=60, deadline=None)
def test_any_reply_streams_to_what_the_body_says(reply: Reply) -> None:
    body = wire.render_body(_request(BODY), reply)
    Message.model_validate(body)
    events = _stream(reply)
    blocks: list[dict[str, Any]] = []
    partial: dict[int, str] = {}
    for event in events:
        data = event.data
        if event.event == "content_block_start":
            blocks.append(dict(data["content_block"]))
        elif event.event == "content_block_delta" and data["delta"]["type"] == "text_delta":
            blocks[data["index"]]["text"] += data["delta"]["text"]
        elif event.event == "content_block_delta":
            partial[data["index"]] = partial.get(data["index"], "") + data["delta"]["partial_json"]
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text)
    assert [{**b, "id": None} if "id" in b else b for b in blocks] == [
        {**b, "id": None} if "id" in b else b for b in body["content"]
    ]
    assert events[-2].data["delta"]["stop_reason"] == body["stop_reason"]
    assert events[-2].data["usage"]["output_tokens"] == body["usage"]["output_tokens"]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_error_bodies_use_the_real_error_types(status: int, kind: str) -> None:
    code, body, headers = wire.render_error(ErrorReply(status=status))
    assert code == status
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert body["error"]["message"]
    assert "request_id" in body
    assert headers == {}
    if kind != "request_too_large":  # the SDK's ErrorType lacks it; the API reference has it
        ERROR_RESPONSE.validate_python(body)


def test_error_overrides_and_retry_headers() -> None:
    status, body, headers = wire.render_error(
        ErrorReply(status=429, message="slow down", code="ramp_limit_exceeded", retry_after=2)
    )
    assert status == 429
    assert body["error"] == {
        "type": "rate_limit_error",
        "message": "slow down",
        "details": {"error_code": "ramp_limit_exceeded"},
    }
    assert headers == {"retry-after": "2"}


def test_stream_error_event() -> None:
    event = wire.render_stream_error(ErrorReply(status=529))
    assert event.event == "error"
    assert event.data == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


def test_module_constants() -> None:
    assert (wire.API, wire.PROVIDER) == ("messages", "anthropic")
    assert issubclass(anthropic.OverloadedError, anthropic.InternalServerError)


# == over HTTP, through the real SDK ============================================================


@pytest.fixture
def server(llm_server: LLMServer) -> LLMServer:
    """The plugin's session server, reset for each test."""
    return llm_server


@pytest.fixture
def client(server: LLMServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0
    ) as sdk:
        yield sdk


def _create(client: anthropic.Anthropic, prompt: str = "Hello there", **kwargs: Any) -> Any:
    return client.messages.create(
        model="claude-test",
        max_tokens=100,
        messages=[{"role": "user", "content": prompt}],
        **kwargs,
    )


def test_sdk_create_parses_a_text_reply(server: LLMServer, client: anthropic.Anthropic) -> None:
    server.add_rule(Reply(text="Bonjour!", input_tokens=12, output_tokens=4), prompt="Hello there")
    message = _create(client, system="Answer in French.")
    assert isinstance(message, Message)
    assert message.content[0].type == "text"
    assert message.content[0].text == "Bonjour!"
    assert message.stop_reason == "end_turn"
    assert message.model == "claude-test"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 4)
    seen = server.last_request
    assert seen is not None
    assert (seen.api, seen.provider, seen.prompt) == ("messages", "anthropic", "Hello there")
    assert seen.messages[0] == {"role": "system", "content": "Answer in French."}
    assert "sk-ant-test" not in repr(seen.headers)  # the key is fingerprinted, never stored


def test_sdk_raw_response_has_the_reference_shape(
    server: LLMServer, client: anthropic.Anthropic
) -> None:
    server.add_rule("Hi!")
    raw = client.messages.with_raw_response.create(
        model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "x"}]
    )
    assert raw.status_code == 200
    assert raw.headers["request-id"].startswith("req_")
    assert raw.headers["content-type"].startswith("application/json")
    body = raw.http_response.json()
    assert body["type"] == "message"
    assert body["id"].startswith("msg_")
    assert body["content"] == [{"type": "text", "text": "Hi!"}]
    assert set(body["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert raw.parse().content[0].text == "Hi!"


def test_sdk_stream_true_yields_the_real_events(
    server: LLMServer, client: anthropic.Anthropic
) -> None:
    server.add_rule("one two three four five six seven")
    events = list(_create(client, stream=True))
    types = [event.type for event in events]  # the SDK drops ping events
    assert types[0] == "message_start"
    assert types[1] == "content_block_start"
    assert types[-2:] == ["message_delta", "message_stop"]
    text = "".join(
        event.delta.text
        for event in events
        if event.type == "content_block_delta" and event.delta.type == "text_delta"
    )
    assert text == "one two three four five six seven"
    assert events[-2].usage.output_tokens > 0


def test_sdk_raw_stream_includes_ping(server: LLMServer) -> None:
    server.add_rule("pong")
    with httpx2.Client() as http:
        response = http.post(
            f"{server.anthropic_base_url}/v1/messages",
            json={**BODY, "stream": True},
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        )
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [line[7:] for line in response.text.splitlines() if line.startswith("event: ")]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


def test_sdk_stream_helper(server: LLMServer, client: anthropic.Anthropic) -> None:
    text = "Streaming text arrives in several small pieces."
    server.add_rule(text)
    with client.messages.stream(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 2
    assert "".join(pieces) == text
    assert final.content[0].type == "text"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 12


class Capital(pydantic.BaseModel):
    city: str
    country: str


def test_sdk_parse_structured_output(server: LLMServer, client: anthropic.Anthropic) -> None:
    server.add_rule(Reply(json={"city": "Paris", "country": "France"}))
    messages: Any = [{"role": "user", "content": "Capital?"}]
    parsed = client.messages.parse(
        model="claude-test", max_tokens=100, messages=messages, output_format=Capital
    )
    assert parsed.parsed_output == Capital(city="Paris", country="France")
    seen = server.last_request
    assert seen is not None
    assert seen.body["output_config"]["format"]["type"] == "json_schema"
    with client.messages.stream(
        model="claude-test", max_tokens=100, messages=messages, output_format=Capital
    ) as stream:
        final = stream.get_final_message()
    assert final.parsed_output == Capital(city="Paris", country="France")


def test_sdk_tool_use(server: LLMServer, client: anthropic.Anthropic) -> None:
    call = ReplyToolCall("get_weather", {"city": "Paris", "unit": "celsius"})
    server.add_rule(Reply(text="Checking.", tool_calls=(call,)))
    tools: Any = [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    message = _create(client, tools=tools)
    assert message.stop_reason == "tool_use"
    block = message.content[1]
    assert block.type == "tool_use"
    assert (block.name, block.input) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    with client.messages.stream(
        model="claude-test",
        max_tokens=100,
        messages=[{"role": "user", "content": "go"}],
        tools=tools,
    ) as stream:
        final = stream.get_final_message()
    streamed = final.content[1]
    assert streamed.type == "tool_use"
    assert streamed.input == {"city": "Paris", "unit": "celsius"}
    assert final.stop_reason == "tool_use"


def test_sdk_refusal(server: LLMServer, client: anthropic.Anthropic) -> None:
    server.add_rule(Reply(refusal="I can't help with that."))
    message = _create(client)
    assert message.stop_reason == "refusal"
    assert message.content[0].type == "text"
    assert message.content[0].text == "I can't help with that."
    with client.messages.stream(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "x"}]
    ) as stream:
        assert stream.get_final_message().stop_reason == "refusal"


@pytest.mark.parametrize(
    ("status", "exception", "kind"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.ContentTooLargeError, "request_too_large"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (503, anthropic.ServiceUnavailableError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_sdk_maps_every_error_status(
    server: LLMServer,
    client: anthropic.Anthropic,
    status: int,
    exception: type[anthropic.APIStatusError],
    kind: str,
) -> None:
    server.add_rule(ErrorReply(status=status))
    with pytest.raises(exception) as caught:
        _create(client)
    error = caught.value
    assert type(error) is exception
    assert error.status_code == status
    assert error.type == kind
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert isinstance(error.body, dict)
    assert error.body["request_id"] == error.request_id


def test_sdk_sees_retry_after_headers_and_retries(server: LLMServer) -> None:
    server.add_rule(
        "finally",
        fault=Fault(
            fail_times=1, fail_with=ErrorReply(status=429, retry_after_ms=5, retry_after=1)
        ),
    )
    with (
        anthropic.Anthropic(
            base_url=server.anthropic_base_url, api_key="k", max_retries=0
        ) as no_retry,
        pytest.raises(anthropic.RateLimitError) as caught,
    ):
        _create(no_retry)
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.response.headers["retry-after-ms"] == "5"
    server.reset()
    server.add_rule(
        "finally", fault=Fault(fail_times=1, fail_with=ErrorReply(status=529, retry_after_ms=5))
    )
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="k", max_retries=2
    ) as retrying:
        message = _create(retrying)
    assert message.content[0].text == "finally"
    assert server.request_count == 2


def test_sdk_raises_a_mid_stream_error(server: LLMServer, client: anthropic.Anthropic) -> None:
    server.add_rule(
        "a long answer that never finishes",
        fault=Fault(stream_error_after=3, fail_with=ErrorReply(status=529)),
    )
    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:  # noqa: PT012
        for event in _create(client, stream=True):
            received.append(event.type)
    assert received == ["message_start", "content_block_start"]  # the third event was the ping
    assert caught.value.type == "overloaded_error"
    assert "Overloaded" in str(caught.value)


@pytest.mark.asyncio
async def test_async_sdk_create_and_stream(server: LLMServer) -> None:
    server.add_rule("async hello there", prompt="hi")
    async with anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key="k", max_retries=0
    ) as sdk:
        message = await sdk.messages.create(
            model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
        assert message.content[0].type == "text"
        assert message.content[0].text == "async hello there"
        async with sdk.messages.stream(
            model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            pieces = [piece async for piece in stream.text_stream]
            final = await stream.get_final_message()
        assert "".join(pieces) == "async hello there"
        assert final.stop_reason == "end_turn"
        server.add_rule(ErrorReply(status=529), prompt="boom")
        with pytest.raises(anthropic.OverloadedError):
            await sdk.messages.create(
                model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "boom"}]
            )


def test_sdk_under_transport_faults(server: LLMServer, client: anthropic.Anthropic) -> None:
    server.add_rule("broken", prompt="broken", fault=Fault(malformed_json=True))
    server.add_rule("reset", prompt="reset", fault=Fault(reset_connection=True))
    server.add_rule("hang", prompt="hang", fault=Fault(hang=True))
    server.add_rule("slow and steady", fault=Fault(ttft_s=0.01, token_delay_s=0.002))
    with pytest.raises(ValueError):  # the SDK cannot decode the truncated JSON body
        _create(client, prompt="broken")
    with pytest.raises(anthropic.APITimeoutError):
        client.with_options(timeout=0.1).messages.create(
            model="claude-test", max_tokens=5, messages=[{"role": "user", "content": "hang"}]
        )
    with pytest.raises(ValueError):
        list(_create(client, prompt="broken", stream=True))
    with pytest.raises(anthropic.APIConnectionError):
        _create(client, prompt="reset")
    with client.messages.stream(
        model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "slow"}]
    ) as stream:
        assert "".join(stream.text_stream) == "slow and steady"


def test_sdk_beta_messages(server: LLMServer, client: anthropic.Anthropic) -> None:
    server.add_rule(Reply(text="beta!", tool_calls=(ReplyToolCall("f", {"a": 1}),)))
    messages: Any = [{"role": "user", "content": "x"}]
    message = client.beta.messages.create(
        model="claude-test", max_tokens=10, messages=messages, betas=["some-beta-2099-01-01"]
    )
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert message.stop_reason == "tool_use"
    seen = server.last_request
    assert seen is not None
    assert seen.headers["anthropic-beta"] == "some-beta-2099-01-01"
    with client.beta.messages.stream(model="claude-test", max_tokens=10, messages=messages) as s:
        final = s.get_final_message()
    tool_use = final.content[1]
    assert tool_use.type == "tool_use"
    assert tool_use.input == {"a": 1}


def test_sdk_tool_loop(server: LLMServer, client: anthropic.Anthropic) -> None:
    """A two-turn agent loop: tool_use, then an answer built from the tool result."""
    server.add_rule(
        lambda request: f"It is {request.messages[-1]['content']} in Paris.",
        when=lambda request: request.messages[-1]["role"] == "tool",
    )
    server.add_rule(Reply(tool_calls=(ReplyToolCall("weather", {"city": "Paris"}),)))
    history: Any = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.messages.create(model="claude-test", max_tokens=50, messages=history)
    tool_use = first.content[0]
    assert tool_use.type == "tool_use"
    history += [
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "18C"}],
        },
    ]
    second = client.messages.create(model="claude-test", max_tokens=50, messages=history)
    assert second.content[0].type == "text"
    assert second.content[0].text == "It is 18C in Paris."
    assert second.stop_reason == "end_turn"
