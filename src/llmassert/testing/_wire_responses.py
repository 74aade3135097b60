"""OpenAI Responses API wire format: ``POST /v1/responses``.

Renders a provider-neutral :class:`~llmassert.testing.Reply` as a ``response`` object
(non-streamed) or as the real numbered SSE event sequence (``response.created``,
``response.in_progress``, ``response.output_item.added``, ``response.content_part.added``,
``response.output_text.delta``..., ``response.output_text.done``, ``response.content_part.done``,
``response.output_item.done``, ``response.completed``), and an
:class:`~llmassert.testing.ErrorReply` as OpenAI's ``{"error": {...}}`` body.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmassert.testing import _wire_openai_errors as openai_errors
from llmassert.testing._reply import ErrorReply, Reply
from llmassert.testing._request import ServerRequest
from llmassert.testing._wire import (
    RequestView,
    SSEEvent,
    content_text,
    input_token_estimate,
    last_user_text,
    new_id,
    output_token_estimate,
    split_text,
)

__all__ = [
    "API",
    "INCOMPLETE_REASONS",
    "PROVIDER",
    "describe",
    "render_body",
    "render_error",
    "render_stream",
    "render_stream_error",
]

API = "responses"
PROVIDER = "openai"

#: Normalised finish reason -> ``incomplete_details.reason`` (the response is ``incomplete``).
INCOMPLETE_REASONS: Mapping[str, str] = {
    "length": "max_output_tokens",
    "max_output_tokens": "max_output_tokens",
    "content_filter": "content_filter",
}

#: Characters of function-call arguments per ``response.function_call_arguments.delta``.
_JSON_PIECE = 12


def describe(body: Any) -> RequestView:
    """Read model, normalised messages (``instructions`` first as ``system``), the text rules
    match on (a string ``input`` itself, else the last user message) and ``stream``."""
    if not isinstance(body, Mapping):
        return RequestView()
    messages: list[dict[str, str]] = []
    instructions = body.get("instructions")
    if instructions is not None:
        text = content_text(instructions)
        if text:
            messages.append({"role": "system", "content": text})
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        messages.append({"role": "user", "content": raw_input})
    elif isinstance(raw_input, list):
        for item in raw_input:
            message = _input_message(item)
            if message is not None:
                messages.append(message)
    model = body.get("model")
    return RequestView(
        model=model if isinstance(model, str) else None,
        messages=tuple(messages),
        prompt=last_user_text(messages),
        stream=body.get("stream") is True,
    )


def render_body(request: ServerRequest, reply: Reply) -> dict[str, Any]:
    """A complete non-streamed ``response`` object."""
    outcome = _Outcome.of(reply)
    return _response(request, reply, outcome, _output_items(reply, outcome), new_id("resp_", 48))


def render_stream(request: ServerRequest, reply: Reply) -> Iterator[SSEEvent]:
    """The numbered SSE events of a streamed reply, in the order the real API sends them."""
    outcome = _Outcome.of(reply)
    seq = _Sequence()
    items = _output_items(reply, outcome)
    response_id = new_id("resp_", 48)
    started = {**_response(request, reply, outcome, [], response_id), "status": "in_progress"}
    started.update(incomplete_details=None, usage=None, completed_at=None)
    yield seq.event({"type": "response.created", "response": started})
    yield seq.event({"type": "response.in_progress", "response": started})
    for index, item in enumerate(items):
        if item["type"] == "function_call":
            yield from _stream_function_call(seq, index, item)
        else:
            yield from _stream_message(seq, index, item)
    final = _response(request, reply, outcome, items, response_id)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield seq.event({"type": kind, "response": final})


def render_error(error: ErrorReply) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, ``{"error": {"message", "type", "param", "code"}}`` body and headers (the same
    bodies as every OpenAI endpoint of the server)."""
    return openai_errors.render_error(error)


def render_stream_error(error: ErrorReply) -> SSEEvent:
    """The ``error`` event sent when a stream fails after it started.

    ``sequence_number`` is ``0``: this function does not know how many events went before.
    """
    detail = openai_errors.error_object(error)
    return SSEEvent(
        event="error",
        data={
            "type": "error",
            "code": detail["code"] or detail["type"],
            "message": detail["message"],
            "param": detail["param"],
            "sequence_number": 0,
        },
    )


# -- helpers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    status: str
    incomplete_reason: str | None

    @classmethod
    def of(cls, reply: Reply) -> _Outcome:
        reason = INCOMPLETE_REASONS.get(reply.resolved_finish_reason)
        return cls("incomplete" if reason else "completed", reason)


@dataclass
class _Sequence:
    number: int = field(default=0)

    def event(self, data: dict[str, Any]) -> SSEEvent:
        data["sequence_number"] = self.number
        self.number += 1
        return SSEEvent(event=str(data["type"]), data=data)


def _input_message(item: Any) -> dict[str, str] | None:
    """One ``input`` item as a normalised message (``None`` for items without text)."""
    if isinstance(item, str):
        return {"role": "user", "content": item}
    if not isinstance(item, Mapping):
        return None
    kind = item.get("type", "message")
    if kind == "message" or (kind is None and "role" in item):
        return {"role": str(item.get("role", "user")), "content": content_text(item.get("content"))}
    if kind in ("function_call_output", "custom_tool_call_output"):
        return {"role": "tool", "content": content_text(item.get("output"))}
    return None


def _output_items(reply: Reply, outcome: _Outcome) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    if reply.content or (reply.refusal is None and not reply.tool_calls):
        parts.append(_text_part(reply.content))
    if reply.refusal is not None:
        parts.append({"type": "refusal", "refusal": reply.refusal})
    if parts:
        items.append(
            {
                "id": new_id("msg_", 48),
                "type": "message",
                "status": "incomplete" if outcome.status == "incomplete" else "completed",
                "role": "assistant",
                "content": parts,
            }
        )
    for call in reply.tool_calls:
        items.append(
            {
                "id": new_id("fc_", 48),
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments_json,
                "call_id": call.id or new_id("call_", 24),
                "name": call.name,
            }
        )
    return items


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _stream_message(seq: _Sequence, index: int, item: dict[str, Any]) -> Iterator[SSEEvent]:
    item_id = item["id"]
    where = {"item_id": item_id, "output_index": index}
    yield seq.event(
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "content": []},
        }
    )
    for content_index, part in enumerate(item["content"]):
        at = {**where, "content_index": content_index}
        is_text = part["type"] == "output_text"
        empty = _text_part("") if is_text else {"type": "refusal", "refusal": ""}
        yield seq.event({"type": "response.content_part.added", **at, "part": empty})
        if is_text:
            for piece in split_text(part["text"]):
                yield seq.event(
                    {"type": "response.output_text.delta", **at, "delta": piece, "logprobs": []}
                )
            yield seq.event(
                {"type": "response.output_text.done", **at, "text": part["text"], "logprobs": []}
            )
        else:
            for piece in split_text(part["refusal"]):
                yield seq.event({"type": "response.refusal.delta", **at, "delta": piece})
            yield seq.event({"type": "response.refusal.done", **at, "refusal": part["refusal"]})
        yield seq.event({"type": "response.content_part.done", **at, "part": part})
    yield seq.event({"type": "response.output_item.done", "output_index": index, "item": item})


def _stream_function_call(seq: _Sequence, index: int, item: dict[str, Any]) -> Iterator[SSEEvent]:
    where = {"item_id": item["id"], "output_index": index}
    yield seq.event(
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "arguments": ""},
        }
    )
    arguments: str = item["arguments"]
    for start in range(0, len(arguments), _JSON_PIECE):
        yield seq.event(
            {
                "type": "response.function_call_arguments.delta",
                **where,
                "delta": arguments[start : start + _JSON_PIECE],
            }
        )
    yield seq.event(
        {
            "type": "response.function_call_arguments.done",
            **where,
            "name": item["name"],
            "arguments": arguments,
        }
    )
    yield seq.event({"type": "response.output_item.done", "output_index": index, "item": item})


def _response(
    request: ServerRequest,
    reply: Reply,
    outcome: _Outcome,
    output: list[dict[str, Any]],
    response_id: str,
) -> dict[str, Any]:
    body: Mapping[str, Any] = request.body if isinstance(request.body, Mapping) else {}
    created = int(request.received_at or time.time())
    input_tokens = input_token_estimate(request, reply)
    output_tokens = output_token_estimate(reply)
    requested = body.get("text")
    text_config: Mapping[str, Any] = requested if isinstance(requested, Mapping) else {}
    if "format" not in text_config:
        text_config = {**text_config, "format": {"type": "text"}}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": outcome.status,
        "background": False,
        "completed_at": int(time.time()) if outcome.status == "completed" else None,
        "error": None,
        "incomplete_details": (
            {"reason": outcome.incomplete_reason} if outcome.incomplete_reason else None
        ),
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": request.model or body.get("model") or "",
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": dict(text_config),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }
