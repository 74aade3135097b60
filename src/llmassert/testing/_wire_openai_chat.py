"""OpenAI Chat Completions (``POST /v1/chat/completions``), plain and streamed."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from llmassert.testing._reply import Reply
from llmassert.testing._request import ServerRequest
from llmassert.testing._wire import (
    DONE,
    RequestView,
    SSEEvent,
    content_text,
    input_token_estimate,
    last_user_text,
    new_id,
    output_token_estimate,
    split_text,
)
from llmassert.testing._wire_openai_errors import render_error, render_stream_error

__all__ = [
    "API",
    "PROVIDER",
    "describe",
    "render_body",
    "render_error",
    "render_stream",
    "render_stream_error",
]

API = "chat.completions"
PROVIDER = "openai"

SYSTEM_FINGERPRINT = "fp_llmassert"

# Reply finish reasons -> Chat Completions values (a refusal finishes with "stop").
_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "stop",
    "function_call": "function_call",
}


def describe(body: Any) -> RequestView:
    if not isinstance(body, Mapping):
        return RequestView()
    messages: list[dict[str, str]] = []
    raw_messages = body.get("messages")
    if isinstance(raw_messages, list):
        for message in raw_messages:
            if isinstance(message, Mapping):
                role = str(message.get("role", "user"))
                messages.append({"role": role, "content": content_text(message.get("content"))})
    model = body.get("model")
    return RequestView(
        model=model if isinstance(model, str) else None,
        messages=tuple(messages),
        prompt=last_user_text(messages),
        stream=bool(body.get("stream")),
    )


def _n(request: ServerRequest) -> int:
    body = request.body if isinstance(request.body, Mapping) else {}
    n = body.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1


def _choice_replies(request: ServerRequest, reply: Reply) -> list[Reply]:
    n = _n(request)
    if reply.choices:
        return [reply.choices[i % len(reply.choices)] for i in range(n)]
    return [reply] * n


def _finish_reason(reply: Reply) -> str:
    return _FINISH.get(reply.resolved_finish_reason, reply.resolved_finish_reason)


def _content(reply: Reply) -> str | None:
    if reply.text is not None or reply.json is not None:
        return reply.content
    if reply.refusal is not None or reply.tool_calls:
        return None
    return ""


def _tool_call_ids(reply: Reply) -> list[str]:
    return [call.id or new_id("call_") for call in reply.tool_calls]


def _usage(request: ServerRequest, reply: Reply, replies: list[Reply]) -> dict[str, Any]:
    prompt_tokens = input_token_estimate(request, reply)
    if reply.output_tokens is not None:
        completion_tokens = reply.output_tokens
    else:
        completion_tokens = sum(output_token_estimate(r) for r in replies)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _model(request: ServerRequest) -> str:
    return request.model or "unknown"


def render_body(request: ServerRequest, reply: Reply) -> dict[str, Any]:
    replies = _choice_replies(request, reply)
    choices = []
    for index, r in enumerate(replies):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": _content(r),
            "refusal": r.refusal,
            "annotations": [],
        }
        if r.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json},
                }
                for call, call_id in zip(r.tool_calls, _tool_call_ids(r), strict=True)
            ]
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(r),
            }
        )
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _model(request),
        "choices": choices,
        "usage": _usage(request, reply, replies),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _include_usage(request: ServerRequest) -> bool:
    body = request.body if isinstance(request.body, Mapping) else {}
    options = body.get("stream_options")
    return isinstance(options, Mapping) and bool(options.get("include_usage"))


def render_stream(request: ServerRequest, reply: Reply) -> Iterator[SSEEvent]:
    replies = _choice_replies(request, reply)
    include_usage = _include_usage(request)
    completion_id = new_id("chatcmpl-")
    created = int(time.time())
    model = _model(request)

    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> SSEEvent:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
        }
        if include_usage:
            data["usage"] = usage
        return SSEEvent(data=data)

    def delta(index: int, value: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": value, "logprobs": None, "finish_reason": finish}

    for index, r in enumerate(replies):
        yield chunk([delta(index, {"role": "assistant", "content": "", "refusal": None})])
        for piece in split_text(r.content):
            yield chunk([delta(index, {"content": piece})])
        for piece in split_text(r.refusal or ""):
            yield chunk([delta(index, {"refusal": piece})])
        for call_index, (call, call_id) in enumerate(
            zip(r.tool_calls, _tool_call_ids(r), strict=True)
        ):
            head = {
                "index": call_index,
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            yield chunk([delta(index, {"tool_calls": [head]})])
            for piece in split_text(call.arguments_json, size=12):
                part = {"index": call_index, "function": {"arguments": piece}}
                yield chunk([delta(index, {"tool_calls": [part]})])
        yield chunk([delta(index, {}, _finish_reason(r))])
    if include_usage:
        yield chunk([], usage=_usage(request, reply, replies))
    yield DONE
