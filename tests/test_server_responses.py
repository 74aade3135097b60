"""The OpenAI Responses API wire format of the test server (``POST /v1/responses``).

The first part checks the pure rendering functions against the SDK's own typed models; the
second drives the real ``openai`` SDK over HTTP against an ``LLMServer``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response, ResponseStreamEvent

from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, ReplyToolCall, ServerRequest
from llmassert.testing import _wire_responses as wire
from llmassert.testing._reply import REPLY_FINISH_REASONS

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
    after_tool = wire.describe({"input": body["input"][:5]})
    assert after_tool.prompt == "What is 6*7?"  # the user's question, not the tool output
    assert wire.describe({"input": [{"role": "developer", "content": "D"}]}).prompt == "D"
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
    odd = wire.render_body(_request({**BODY, "text": "odd", "tools": None}), Reply(text="x"))
    assert (odd["text"], odd["tools"]) == ({"format": {"type": "text"}}, [])


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


def _without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in ("id", "call_id")} for item in items]


@given(reply=_REPLIES)
@settings(max_examples=60, deadline=None)
def test_any_reply_streams_to_what_the_body_says(reply: Reply) -> None:
    body = wire.render_body(_request(BODY), reply)
    Response.model_validate(body)
    events = _stream(reply)
    final = events[-1].data["response"]
    assert _without_ids(final["output"]) == _without_ids(body["output"])
    assert final["status"] == body["status"]
    assert final["usage"] == body["usage"]
    texts: dict[tuple[int, int], str] = {}
    arguments: dict[int, str] = {}
    for event in events:
        data = event.data
        if event.event in ("response.output_text.delta", "response.refusal.delta"):
            key = (data["output_index"], data["content_index"])
            texts[key] = texts.get(key, "") + data["delta"]
        elif event.event == "response.function_call_arguments.delta":
            arguments[data["output_index"]] = (
                arguments.get(data["output_index"], "") + data["delta"]
            )
    for (item, part), text in texts.items():
        content = body["output"][item]["content"][part]
        assert text == content.get("text", content.get("refusal"))
    for item, text in arguments.items():
        assert text == body["output"][item]["arguments"]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, "invalid_request_error", None),
        (401, "invalid_request_error", "invalid_api_key"),
        (403, "invalid_request_error", "permission_denied"),
        (404, "invalid_request_error", "model_not_found"),
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", None),
        (503, "server_error", "service_unavailable"),
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


# == over HTTP, through the real SDK ============================================================


class Capital(pydantic.BaseModel):
    city: str
    country: str


@pytest.fixture
def server(llm_server: LLMServer) -> LLMServer:
    """The plugin's session server, reset for each test."""
    return llm_server


@pytest.fixture
def client(server: LLMServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


def test_sdk_create_parses_a_text_reply(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule(Reply(text="Bonjour!", input_tokens=9, output_tokens=3), prompt="Hello there")
    response = client.responses.create(
        model="gpt-test", input="Hello there", instructions="Answer in French."
    )
    assert isinstance(response, Response)
    assert response.output_text == "Bonjour!"
    assert response.status == "completed"
    assert response.model == "gpt-test"
    assert response.instructions == "Answer in French."
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (9, 3)
    seen = server.last_request
    assert seen is not None
    assert (seen.api, seen.provider, seen.prompt) == ("responses", "openai", "Hello there")
    assert seen.messages[0] == {"role": "system", "content": "Answer in French."}
    assert "sk-test" not in repr(seen.headers)


def test_sdk_item_list_input_and_raw_shape(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule("Fine, thanks.", prompt="How are you?")
    raw = client.responses.with_raw_response.create(
        model="gpt-test",
        input=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "input_text", "text": "How are you?"}]},
        ],
    )
    assert raw.status_code == 200
    assert raw.headers["x-request-id"].startswith("req_")
    body = raw.http_response.json()
    assert body["object"] == "response"
    assert body["id"].startswith("resp_")
    assert body["status"] == "completed"
    assert body["output"][0]["type"] == "message"
    assert body["output"][0]["content"][0]["text"] == "Fine, thanks."
    assert set(body["usage"]) == {
        "input_tokens",
        "input_tokens_details",
        "output_tokens",
        "output_tokens_details",
        "total_tokens",
    }
    assert raw.parse().output_text == "Fine, thanks."


def test_sdk_stream_true_yields_the_real_events(server: LLMServer, client: openai.OpenAI) -> None:
    text = "one two three four five six seven"
    server.add_rule(text)
    events = list(client.responses.create(model="gpt-test", input="go", stream=True))
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert len(deltas) > 2
    assert "".join(deltas) == text
    final = events[-1]
    assert final.type == "response.completed"
    assert final.response.output_text == text


def test_sdk_stream_helper(server: LLMServer, client: openai.OpenAI) -> None:
    text = "Streaming text arrives in several small pieces."
    server.add_rule(text)
    with client.responses.stream(model="gpt-test", input="go") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == text
    assert final.output_text == text
    assert final.status == "completed"


def test_sdk_parse_structured_output(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule(Reply(json={"city": "Paris", "country": "France"}))
    parsed = client.responses.parse(model="gpt-test", input="Capital?", text_format=Capital)
    assert parsed.output_parsed == Capital(city="Paris", country="France")
    seen = server.last_request
    assert seen is not None
    assert seen.body["text"]["format"]["type"] == "json_schema"
    with client.responses.stream(model="gpt-test", input="Capital?", text_format=Capital) as s:
        final = s.get_final_response()
    assert final.output_parsed == Capital(city="Paris", country="France")


def test_sdk_function_calls(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule(
        Reply(tool_calls=(ReplyToolCall("get_weather", {"city": "Paris"}, id="call_abc"),))
    )
    tools: Any = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
            "strict": True,
        }
    ]
    response = client.responses.create(model="gpt-test", input="Weather?", tools=tools)
    call = response.output[0]
    assert call.type == "function_call"
    assert (call.name, call.call_id) == ("get_weather", "call_abc")
    assert json.loads(call.arguments) == {"city": "Paris"}
    with client.responses.stream(model="gpt-test", input="Weather?", tools=tools) as stream:
        argument_deltas = [
            event.delta
            for event in stream
            if event.type == "response.function_call_arguments.delta"
        ]
        final = stream.get_final_response()
    assert len(argument_deltas) > 1
    streamed = final.output[0]
    assert streamed.type == "function_call"
    assert json.loads(streamed.arguments) == {"city": "Paris"}
    assert streamed.parsed_arguments == {"city": "Paris"}


def test_sdk_refusal(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule(Reply(refusal="I can't help with that."))
    response = client.responses.create(model="gpt-test", input="x")
    message = response.output[0]
    assert message.type == "message"
    assert message.content[0].type == "refusal"
    assert message.content[0].refusal == "I can't help with that."
    assert response.output_text == ""
    with client.responses.stream(model="gpt-test", input="x") as stream:
        refusal_deltas = [event.delta for event in stream if event.type == "response.refusal.delta"]
        final = stream.get_final_response()
    assert "".join(refusal_deltas) == "I can't help with that."
    final_message = final.output[0]
    assert final_message.type == "message"
    assert final_message.content[0].type == "refusal"


def test_sdk_incomplete_response(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule(Reply(text="cut sho", finish_reason="length"))
    response = client.responses.create(model="gpt-test", input="x", max_output_tokens=2)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "cut sho"
    events = list(client.responses.create(model="gpt-test", input="x", stream=True))
    assert events[-1].type == "response.incomplete"


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (409, openai.ConflictError),
        (422, openai.UnprocessableEntityError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_sdk_maps_every_error_status(
    server: LLMServer,
    client: openai.OpenAI,
    status: int,
    exception: type[openai.APIStatusError],
) -> None:
    server.add_rule(ErrorReply(status=status, message=f"scripted {status}"))
    with pytest.raises(exception) as caught:
        client.responses.create(model="gpt-test", input="x")
    error = caught.value
    assert type(error) is exception
    assert error.status_code == status
    assert f"scripted {status}" in str(error)
    assert isinstance(error.body, dict)
    assert error.body["message"] == f"scripted {status}"
    assert error.request_id is not None


def test_sdk_sees_retry_after_headers_and_retries(server: LLMServer) -> None:
    fault = Fault(fail_times=1, fail_with=ErrorReply(status=429, retry_after=1, retry_after_ms=5))
    server.add_rule("finally", fault=fault)
    with openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0) as sdk:
        with pytest.raises(openai.RateLimitError) as caught:
            sdk.responses.create(model="gpt-test", input="x")
        assert caught.value.response.headers["retry-after"] == "1"
        assert caught.value.response.headers["retry-after-ms"] == "5"
        assert caught.value.code == "rate_limit_exceeded"
    server.reset()
    server.add_rule(
        "finally", fault=Fault(fail_times=1, fail_with=ErrorReply(status=503, retry_after_ms=5))
    )
    with openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=2) as sdk:
        assert sdk.responses.create(model="gpt-test", input="x").output_text == "finally"
    assert server.request_count == 2


def test_sdk_yields_a_mid_stream_error_event(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule(
        "a long answer that never finishes",
        fault=Fault(stream_error_after=4, fail_with=ErrorReply(status=500, message="boom")),
    )
    events = list(client.responses.create(model="gpt-test", input="x", stream=True))
    assert [event.type for event in events][-1] == "error"
    error = events[-1]
    assert error.type == "error"
    assert error.message == "boom"
    # The error event continues the stream's numbering.
    assert [event.sequence_number for event in events] == list(range(5))
    with client.responses.stream(model="gpt-test", input="x") as stream:
        assert [event.type for event in stream][-1] == "error"
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()


@pytest.mark.asyncio
async def test_async_sdk_create_stream_and_parse(server: LLMServer) -> None:
    server.add_rule(Reply(json={"city": "Rome", "country": "Italy"}), prompt="Capital?")
    server.add_rule(ErrorReply(status=401), prompt="boom")
    server.add_rule("async hello there")
    async with openai.AsyncOpenAI(
        base_url=server.openai_base_url, api_key="k", max_retries=0
    ) as sdk:
        response = await sdk.responses.create(model="gpt-test", input="hi")
        assert response.output_text == "async hello there"
        async with sdk.responses.stream(model="gpt-test", input="hi") as stream:
            deltas = [
                event.delta async for event in stream if event.type == "response.output_text.delta"
            ]
            final = await stream.get_final_response()
        assert "".join(deltas) == final.output_text == "async hello there"
        parsed = await sdk.responses.parse(model="gpt-test", input="Capital?", text_format=Capital)
        assert parsed.output_parsed == Capital(city="Rome", country="Italy")
        with pytest.raises(openai.AuthenticationError):
            await sdk.responses.create(model="gpt-test", input="boom")


def test_sdk_under_transport_faults(server: LLMServer, client: openai.OpenAI) -> None:
    server.add_rule("broken", prompt="broken", fault=Fault(malformed_json=True))
    server.add_rule("reset", prompt="reset", fault=Fault(reset_connection=True))
    server.add_rule("hang", prompt="hang", fault=Fault(hang=True))
    server.add_rule("slow and steady", fault=Fault(ttft_s=0.01, token_delay_s=0.002))
    with pytest.raises(ValueError):  # the SDK cannot decode the truncated JSON body
        client.responses.create(model="gpt-test", input="broken")
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.1).responses.create(model="gpt-test", input="hang")
    with pytest.raises(ValueError):
        list(client.responses.create(model="gpt-test", input="broken", stream=True))
    with pytest.raises(openai.APIConnectionError):
        client.responses.create(model="gpt-test", input="reset")
    with client.responses.stream(model="gpt-test", input="slow") as stream:
        assert stream.get_final_response().output_text == "slow and steady"


def test_sdk_tool_loop(server: LLMServer, client: openai.OpenAI) -> None:
    """A two-turn agent loop: a function call, then an answer built from its output."""
    server.add_rule(
        lambda request: f"It is {request.messages[-1]['content']} in Paris.",
        when=lambda request: request.messages[-1]["role"] == "tool",
    )
    server.add_rule(Reply(tool_calls=(ReplyToolCall("weather", {"city": "Paris"}),)))
    first = client.responses.create(model="gpt-test", input="Weather in Paris?")
    call = first.output[0]
    assert call.type == "function_call"
    history: Any = [
        {"role": "user", "content": "Weather in Paris?"},
        *first.output,
        {"type": "function_call_output", "call_id": call.call_id, "output": "18C"},
    ]
    second = client.responses.create(model="gpt-test", input=history)
    assert second.output_text == "It is 18C in Paris."
