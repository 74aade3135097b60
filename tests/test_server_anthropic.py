"""The Anthropic Messages API wire format of the test server (``POST /v1/messages``).

The first part checks the pure rendering functions against the SDK's own typed models; the
second drives the real ``anthropic`` SDK over HTTP against an ``LLMServer``.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from anthropic.types.shared import ErrorResponse

from llmassert.testing import _wire_anthropic as wire
from llmassert.testing._reply import ErrorReply, Reply, ReplyToolCall
from llmassert.testing._request import ServerRequest

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
