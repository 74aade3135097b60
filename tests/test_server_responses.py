"""The OpenAI Responses API wire format of the test server (``POST /v1/responses``).

The first part checks the pure rendering functions against the SDK's own typed models; the
second drives the real ``openai`` SDK over HTTP against an ``LLMServer``.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest
from openai.types.responses import Response, ResponseStreamEvent

from llmassert.testing import _wire_responses as wire
from llmassert.testing._reply import ErrorReply, Reply, ReplyToolCall
from llmassert.testing._request import ServerRequest

STREAM_EVENT = pydantic.TypeAdapter(ResponseStreamEvent)


def _request(body: dict[str, Any]) -> ServerRequest:
    view = wire.describe(body)
    return ServerRequest(
        method="POST",
        path="/v1/responses",
        provider="openai",
        api="responses",
        body=body,
        model=view.model,
        messages=view.messages,
        prompt=view.prompt,
        stream=view.stream,
    )


BODY: dict[str, Any] = {"model": "gpt-test", "input": "Hello there"}


# -- describe -----------------------------------------------------------------------------------


def test_describe_string_input_and_instructions() -> None:
    view = wire.describe({**BODY, "instructions": "Be brief.", "stream": True})
    assert view.model == "gpt-test"
    assert view.stream is True
    assert view.prompt == "Hello there"
    assert view.messages == (
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello there"},
    )


def test_describe_item_list() -> None:
    body = {
        "model": "m",
        "input": [
            {"role": "developer", "content": "Rules."},
            {"role": "user", "content": [{"type": "input_text", "text": "What is 6*7?"}]},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Let me call a tool."}],
            },
            {"type": "function_call", "call_id": "c1", "name": "calc", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
            {"type": "reasoning", "id": "r1", "summary": []},
            {"role": "user", "content": [{"type": "input_image", "image_url": "data:..."}]},
            {"role": "user", "content": "Thanks, and 7*8?"},
        ],
    }
    view = wire.describe(body)
    assert view.messages == (
        {"role": "developer", "content": "Rules."},
        {"role": "user", "content": "What is 6*7?"},
        {"role": "assistant", "content": "Let me call a tool."},
        {"role": "tool", "content": "42"},
        {"role": "user", "content": ""},
        {"role": "user", "content": "Thanks, and 7*8?"},
    )
    assert view.prompt == "Thanks, and 7*8?"
    assert view.stream is False
    assert wire.describe([1, 2]).messages == ()


# -- non-streamed -------------------------------------------------------------------------------


def test_text_reply_is_a_valid_response() -> None:
    body = wire.render_body(_request(BODY), Reply(text="Hi!", input_tokens=5, output_tokens=2))
    response = Response.model_validate(body)
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == "gpt-test"
    assert response.output_text == "Hi!"
    assert response.incomplete_details is None
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (5, 2)
    assert response.usage.total_tokens == 7
    assert response.usage.output_tokens_details.reasoning_tokens == 0
    item = body["output"][0]
    assert item["type"] == "message"
    assert item["id"].startswith("msg_")
    assert item["role"] == "assistant"
    assert item["status"] == "completed"
    assert item["content"] == [
        {"type": "output_text", "annotations": [], "logprobs": [], "text": "Hi!"}
    ]


def test_length_reply_is_incomplete() -> None:
    body = wire.render_body(_request(BODY), Reply(text="Hi", finish_reason="length"))
    response = Response.model_validate(body)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert body["output"][0]["status"] == "incomplete"


def test_refusal_reply_has_a_refusal_part() -> None:
    body = wire.render_body(_request(BODY), Reply(refusal="I can't help with that."))
    response = Response.model_validate(body)
    assert response.status == "completed"
    assert response.output_text == ""
    assert body["output"][0]["content"] == [
        {"type": "refusal", "refusal": "I can't help with that."}
    ]


def test_tool_calls_are_function_call_items() -> None:
    reply = Reply(
        tool_calls=(
            ReplyToolCall("get_weather", {"city": "Paris"}, id="call_fixed"),
            ReplyToolCall("lookup", '{"q":"x"}'),
        )
    )
    body = wire.render_body(_request(BODY), reply)
    response = Response.model_validate(body)
    assert [item.type for item in response.output] == ["function_call", "function_call"]
    first, second = body["output"]
    assert first["call_id"] == "call_fixed"
    assert first["id"].startswith("fc_")
    assert (first["name"], json.loads(first["arguments"])) == ("get_weather", {"city": "Paris"})
    assert second["call_id"].startswith("call_")
    assert second["arguments"] == '{"q":"x"}'


def test_request_settings_are_echoed() -> None:
    text_format = {
        "format": {"type": "json_schema", "name": "Answer", "schema": {"type": "object"}}
    }
    tools = [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": True}]
    body = wire.render_body(
        _request(
            {
                **BODY,
                "instructions": "Be brief.",
                "text": text_format,
                "tools": tools,
                "temperature": 0.2,
                "max_output_tokens": 50,
            }
        ),
        Reply(json={"a": 1}),
    )
    response = Response.model_validate(body)
    assert response.instructions == "Be brief."
    assert response.temperature == 0.2
    assert response.max_output_tokens == 50
    assert body["text"] == text_format
    assert body["tools"] == tools
    assert json.loads(response.output_text) == {"a": 1}
    assert wire.render_body(_request(BODY), Reply(text="x"))["text"] == {"format": {"type": "text"}}


# -- streamed -----------------------------------------------------------------------------------


def _stream(reply: Reply, body: dict[str, Any] | None = None) -> list[Any]:
    events = list(wire.render_stream(_request({**(body or BODY), "stream": True}), reply))
    for number, event in enumerate(events):
        assert event.event == event.data["type"]
        assert event.data["sequence_number"] == number
        STREAM_EVENT.validate_python(event.data)
    return events


def test_text_stream_follows_the_real_event_sequence() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    events = _stream(Reply(text=text))
    names = [event.event for event in events]
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [event.data["delta"] for event in events if event.event.endswith("text.delta")]
    assert len(deltas) > 2
    assert "".join(deltas) == text
    created = events[0].data["response"]
    assert created["status"] == "in_progress"
    assert created["output"] == []
    final = events[-1].data["response"]
    assert final["id"] == created["id"]
    assert Response.model_validate(final).output_text == text
    item_ids = {event.data["item_id"] for event in events if "item_id" in event.data}
    assert item_ids == {final["output"][0]["id"]}


def test_refusal_stream_uses_refusal_events() -> None:
    names = [event.event for event in _stream(Reply(refusal="I can't help with that."))]
    assert "response.refusal.delta" in names
    assert "response.refusal.done" in names
    assert "response.output_text.delta" not in names


def test_function_call_stream_sends_arguments_in_pieces() -> None:
    arguments = {"city": "Paris", "unit": "celsius", "days": 3}
    events = _stream(Reply(tool_calls=(ReplyToolCall("get_weather", arguments),)))
    added = next(event.data for event in events if event.event == "response.output_item.added")
    assert added["item"]["type"] == "function_call"
    assert added["item"]["arguments"] == ""
    deltas = [
        event.data["delta"]
        for event in events
        if event.event == "response.function_call_arguments.delta"
    ]
    assert len(deltas) > 3
    assert json.loads("".join(deltas)) == arguments
    done = next(
        event.data for event in events if event.event == "response.function_call_arguments.done"
    )
    assert json.loads(done["arguments"]) == arguments


def test_length_stream_ends_with_response_incomplete() -> None:
    events = _stream(Reply(text="cut", finish_reason="length"))
    assert events[-1].event == "response.incomplete"
    assert events[-1].data["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, "invalid_request_error", None),
        (401, "invalid_request_error", "invalid_api_key"),
        (404, "invalid_request_error", "model_not_found"),
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", None),
        (503, "server_error", None),
    ],
)
def test_error_bodies(status: int, kind: str, code: str | None) -> None:
    got_status, body, headers = wire.render_error(ErrorReply(status=status))
    assert got_status == status
    assert set(body) == {"error"}
    assert body["error"]["type"] == kind
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["param"] is None
    assert headers == {}


def test_quota_error_and_retry_headers() -> None:
    _, body, headers = wire.render_error(
        ErrorReply(status=429, code="insufficient_quota", retry_after_ms=1500)
    )
    assert body["error"]["type"] == "insufficient_quota"
    assert body["error"]["code"] == "insufficient_quota"
    assert headers == {"retry-after-ms": "1500"}


def test_stream_error_event() -> None:
    event = wire.render_stream_error(ErrorReply(status=500, message="boom"))
    assert event.event == "error"
    assert event.data["type"] == "error"
    assert event.data["message"] == "boom"
    STREAM_EVENT.validate_python(event.data)


def test_module_constants() -> None:
    assert (wire.API, wire.PROVIDER) == ("responses", "openai")
