"""Anthropic Messages API wire format: ``POST /v1/messages``.

Renders a provider-neutral :class:`~llmassert.testing.Reply` as an Anthropic ``message`` object
(non-streamed) or as the real SSE event sequence (``message_start``, ``content_block_start``,
``ping``, ``content_block_delta``..., ``content_block_stop``, ``message_delta``,
``message_stop``), and an :class:`~llmassert.testing.ErrorReply` as Anthropic's error body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from llmassert.testing._reply import ErrorReply, Reply, ReplyToolCall
from llmassert.testing._request import ServerRequest
from llmassert.testing._wire import (
    RequestView,
    SSEEvent,
    content_text,
    error_headers,
    input_token_estimate,
    last_user_text,
    new_id,
    output_token_estimate,
    split_text,
)

__all__ = [
    "API",
    "ERROR_TYPES",
    "PROVIDER",
    "STOP_REASONS",
    "describe",
    "render_body",
    "render_error",
    "render_stream",
    "render_stream_error",
    "stop_reason",
]

API = "messages"
PROVIDER = "anthropic"

#: Normalised finish reason -> Anthropic ``stop_reason``.
STOP_REASONS: Mapping[str, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "refusal": "refusal",
    "content_filter": "refusal",
}
#: Anthropic's own values, accepted as a ``finish_reason`` and sent unchanged.
_NATIVE_STOP_REASONS = frozenset(
    {
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "tool_use",
        "pause_turn",
        "refusal",
        "model_context_window_exceeded",
    }
)

#: HTTP status -> Anthropic ``error.type`` (https://docs.anthropic.com/en/api/errors).
ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_ERROR_MESSAGES: Mapping[str, str] = {
    "invalid_request_error": "There was an issue with the format or content of your request.",
    "authentication_error": "invalid x-api-key",
    "billing_error": "There is an issue with your account's billing.",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Your account has hit a rate limit.",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out.",
    "overloaded_error": "Overloaded",
}

#: Characters of tool-input JSON per ``input_json_delta`` event.
_JSON_PIECE = 12


def describe(body: Any) -> RequestView:
    """Read model, normalised messages (system first), last user text and ``stream``.

    Tolerant of odd bodies: whatever is not understood is left out rather than rejected.
    """
    if not isinstance(body, Mapping):
        return RequestView()
    messages: list[dict[str, str]] = []
    system = body.get("system")
    if system is not None:
        system_text = content_text(system)
        if system_text:
            messages.append({"role": "system", "content": system_text})
    raw_messages = body.get("messages")
    if isinstance(raw_messages, list):
        for message in raw_messages:
            if not isinstance(message, Mapping):
                continue
            content = message.get("content")
            role = str(message.get("role", "user"))
            if role == "user" and _only_tool_results(content):
                role = "tool"  # as OpenAI's tool messages: the prompt stays the user's question
            messages.append({"role": role, "content": content_text(content)})
    model = body.get("model")
    return RequestView(
        model=model if isinstance(model, str) else None,
        messages=tuple(messages),
        prompt=last_user_text(messages),
        stream=body.get("stream") is True,
    )


def stop_reason(reply: Reply) -> str:
    """The Anthropic ``stop_reason`` for a reply (normalised names are mapped, Anthropic's own
    values and unknown values pass through unchanged)."""
    reason = reply.resolved_finish_reason
    return STOP_REASONS.get(reason, reason)


def render_body(request: ServerRequest, reply: Reply) -> dict[str, Any]:
    """A complete non-streamed ``message`` object."""
    reason = stop_reason(reply)
    return {
        "id": new_id("msg_01", 22),
        "type": "message",
        "role": "assistant",
        "model": _model(request),
        "content": [*_text_blocks(reply), *(_tool_use_block(c) for c in reply.tool_calls)],
        "stop_reason": reason,
        "stop_sequence": _stop_sequence(request, reason),
        "stop_details": _stop_details(reason),
        "usage": _usage(request, reply),
    }


def render_stream(request: ServerRequest, reply: Reply) -> Iterator[SSEEvent]:
    """The SSE events of a streamed reply, in the order the real API sends them."""
    reason = stop_reason(reply)
    usage = _usage(request, reply)
    start_usage = {**usage, "output_tokens": min(1, usage["output_tokens"])}
    yield _event(
        {
            "type": "message_start",
            "message": {
                "id": new_id("msg_01", 22),
                "type": "message",
                "role": "assistant",
                "model": _model(request),
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "stop_details": None,
                "usage": start_usage,
            },
        }
    )
    blocks = _stream_blocks(reply)
    for index, (start, deltas) in enumerate(blocks):
        yield _event({"type": "content_block_start", "index": index, "content_block": start})
        if index == 0:
            yield _event({"type": "ping"})
        for delta in deltas:
            yield _event({"type": "content_block_delta", "index": index, "delta": delta})
        yield _event({"type": "content_block_stop", "index": index})
    if not blocks:
        yield _event({"type": "ping"})
    yield _event(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": reason,
                "stop_sequence": _stop_sequence(request, reason),
                "stop_details": _stop_details(reason),
            },
            "usage": {
                "input_tokens": usage["input_tokens"],
                "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
                "cache_read_input_tokens": usage["cache_read_input_tokens"],
                "output_tokens": usage["output_tokens"],
            },
        }
    )
    yield _event({"type": "message_stop"})


def render_error(error: ErrorReply) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, ``{"type": "error", "error": {...}, "request_id": ...}`` body and headers.

    ``request_id`` is left ``None`` for the core to fill with the request's id.
    """
    return error.status, {**_error_body(error), "request_id": None}, error_headers(error)


def render_stream_error(error: ErrorReply) -> SSEEvent:
    """The ``event: error`` the real API sends when a stream fails after it started."""
    return SSEEvent(event="error", data=_error_body(error))


# -- helpers -------------------------------------------------------------------------------------


def _only_tool_results(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(b, Mapping) and b.get("type") == "tool_result" for b in content)
    )


def _event(data: dict[str, Any]) -> SSEEvent:
    return SSEEvent(event=str(data["type"]), data=data)


def _model(request: ServerRequest) -> str:
    if request.model:
        return request.model
    body_model = request.body.get("model") if isinstance(request.body, Mapping) else None
    return body_model if isinstance(body_model, str) else ""


def _stream_blocks(reply: Reply) -> list[tuple[dict[str, Any], list[dict[str, str]]]]:
    """Each content block as streamed: its ``content_block_start`` block (content empty) and
    the deltas that fill it (text pieces, or pieces of the tool input's JSON)."""
    blocks = [
        (
            {**block, "text": ""},
            [{"type": "text_delta", "text": piece} for piece in split_text(block["text"])],
        )
        for block in _text_blocks(reply)
    ]
    for call in reply.tool_calls:
        pieces = _json_pieces(_input_json(call))
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        blocks.append(({**_tool_use_block(call), "input": {}}, deltas))
    return blocks


def _text_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The text block(s): the reply's text, and a refusal's text (Anthropic has no separate
    refusal field: the refusal is what the model wrote, with ``stop_reason`` ``refusal``)."""
    parts = [reply.content, reply.refusal or ""]
    text = "\n\n".join(part for part in parts if part)
    if not text:
        return []
    return [{"type": "text", "text": text}]


def _tool_use_block(call: ReplyToolCall) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": call.id or new_id("toolu_01", 22),
        "name": call.name,
        "input": _input_object(call),
    }


def _input_object(call: ReplyToolCall) -> dict[str, Any]:
    """``input`` is always a JSON object; a string that is not one renders as ``{}``."""
    if not isinstance(call.arguments, str):
        return dict(call.arguments)
    try:
        parsed = json.loads(call.arguments)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _input_json(call: ReplyToolCall) -> str:
    """Streamed tool input: a string is sent verbatim (so clients can be tested against
    malformed JSON), a mapping as compact JSON."""
    return call.arguments_json


def _json_pieces(text: str) -> list[str]:
    """The real API opens with an empty ``partial_json`` and then sends small fragments."""
    return ["", *(text[i : i + _JSON_PIECE] for i in range(0, len(text), _JSON_PIECE))]


def _stop_sequence(request: ServerRequest, reason: str) -> str | None:
    if reason != "stop_sequence" or not isinstance(request.body, Mapping):
        return None
    sequences = request.body.get("stop_sequences")
    if isinstance(sequences, list) and sequences and isinstance(sequences[0], str):
        return sequences[0]
    return None


def _stop_details(reason: str) -> dict[str, Any] | None:
    if reason != "refusal":
        return None
    return {"type": "refusal", "category": None, "explanation": None}


def _usage(request: ServerRequest, reply: Reply) -> dict[str, Any]:
    return {
        "input_tokens": input_token_estimate(request, reply),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_token_estimate(reply),
        "service_tier": "standard",
    }


def _error_body(error: ErrorReply) -> dict[str, Any]:
    kind = error.type or _error_type(error.status)
    detail: dict[str, Any] = {
        "type": kind,
        "message": error.message or _ERROR_MESSAGES.get(kind, f"Error {error.status}"),
    }
    if error.code is not None:
        # The current SDK picks a specific exception class from ``error.details.error_code``.
        detail["details"] = {"error_code": error.code}
    return {"type": "error", "error": detail}


def _error_type(status: int) -> str:
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"
