"""The Anthropic Messages wire format (``anthropic:`` and anthropic named endpoints)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from llmassert._models._endpoints import Endpoint
from llmassert._models._params import GenParams, reject
from llmassert._models._payload import as_dict, as_list, event_data
from llmassert._models._wire import WireResponse
from llmassert._response import Response, ToolCall, Usage

__all__ = ["PATH", "build", "first_token", "parse", "problem"]

PATH = "/v1/messages"
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
}


def build(endpoint: Endpoint, model: str, p: GenParams, label: str) -> tuple[str, dict[str, Any]]:
    reject(
        label,
        "Anthropic Messages",
        [n for n in ("seed", "json_mode", "reasoning_effort") if n in p.given()],
        "Anthropic has no seed; for JSON pass json_schema= (structured outputs); for reasoning "
        "pass thinking=<budget tokens>.",
    )
    max_tokens = p.max_tokens or endpoint.max_tokens
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if p.system is not None:
        body["system"] = p.system
    body["messages"] = [dict(m) for m in p.messages]
    if p.temperature is not None:
        body["temperature"] = p.temperature
    if p.top_p is not None:
        body["top_p"] = p.top_p
    if p.stop is not None:
        body["stop_sequences"] = list(p.stop)
    if p.json_schema is not None:
        body["output_config"] = {
            "format": {"type": "json_schema", "schema": dict(p.json_schema["schema"])}
        }
    if p.tools:
        body["tools"] = [
            {
                "name": t.name,
                **({"description": t.description} if t.description else {}),
                "input_schema": dict(t.parameters),
            }
            for t in p.tools
        ]
    if p.tool_choice is not None:
        body["tool_choice"] = {
            "auto": {"type": "auto"},
            "none": {"type": "none"},
            "required": {"type": "any"},
        }.get(p.tool_choice, {"type": "tool", "name": p.tool_choice})
    if p.thinking is not None:
        body["thinking"] = {"type": "enabled", "budget_tokens": p.thinking}
        if p.thinking >= max_tokens:
            body["max_tokens"] = p.thinking + max_tokens
    if p.stream:
        body["stream"] = True
    if p.extra_body:
        body.update(p.extra_body)
    return PATH, body


def first_token(event: Mapping[str, Any]) -> bool:
    return event.get("event") == "content_block_delta"


def problem(body: Any, events: Sequence[Mapping[str, Any]] | None) -> str | None:
    """Why a 2xx answer is not a Messages API message, or ``None`` when it is one."""
    if events is not None:
        if not events:
            return "the stream ended with no events"
        for event in events:
            data = event_data(event)
            kind = data.get("type") if isinstance(data, dict) else None
            if (kind or event.get("event")) == "message_start":
                return None
        return "the stream has no 'message_start' event"
    if not isinstance(body, Mapping):
        return f"the body is not a JSON object but {type(body).__name__}"
    if not isinstance(body.get("content"), list):
        return "the body has no 'content' list"
    return None


def _usage(usage: Any) -> Usage:
    u = as_dict(usage)
    if not u:
        return Usage()
    fresh = u.get("input_tokens")
    cache_read = u.get("cache_read_input_tokens") or 0
    cache_write = u.get("cache_creation_input_tokens") or 0
    return Usage(
        input_tokens=None if fresh is None else fresh + cache_read + cache_write,
        output_tokens=u.get("output_tokens"),
        reasoning_tokens=as_dict(u.get("output_tokens_details")).get("thinking_tokens"),
        cached_input_tokens=cache_read or None,
    )


def _result(
    model: str,
    texts: list[str],
    calls: list[ToolCall],
    stop_reason: str | None,
    usage: Usage,
    raw: Any,
) -> Response:
    text = "".join(texts)
    refusal = (text or "(refused)") if stop_reason == "refusal" else None
    return Response(
        text=text,
        model=model,
        refusal=refusal,
        finish_reason=_FINISH.get(stop_reason) if stop_reason else None,
        raw_finish_reason=stop_reason,
        tool_calls=tuple(calls),
        usage=usage,
        raw=raw,
    )


def _call(name: str, arguments: Any, call_id: str | None) -> ToolCall:
    args = arguments if isinstance(arguments, dict) else {}
    return ToolCall(name=name, arguments=args, id=call_id, arguments_json=json.dumps(args))


def _sdk_object(body: Any) -> Any:
    """The SDK's typed ``Message`` for a live answer (``Response.raw``), built leniently when a
    server omits fields the SDK requires."""
    if not isinstance(body, Mapping):
        return body
    from anthropic.types import Message
    from pydantic import ValidationError

    try:
        return Message.model_validate(body)
    except ValidationError:
        return Message.construct(**body)


def parse(model: str, wire: WireResponse) -> Response:
    """Parse a Messages API answer from its JSON (no SDK import on replay); a live, non-streamed
    answer also gets the SDK's ``Message`` as ``raw``."""
    if wire.events is not None:
        return _parse_stream(model, wire)
    body = as_dict(wire.body)
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in map(as_dict, as_list(body.get("content"))):
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use":
            calls.append(_call(block.get("name") or "", block.get("input"), block.get("id")))
    return _result(
        body.get("model") or model,
        texts,
        calls,
        body.get("stop_reason"),
        _usage(body.get("usage")),
        wire.body if wire.replayed else _sdk_object(wire.body),
    )


def _parse_stream(model: str, wire: WireResponse) -> Response:
    events = list(wire.events or ())
    blocks: dict[int, dict[str, Any]] = {}
    stop_reason: str | None = None
    usage: dict[str, Any] = {}
    served = model
    for event in events:
        data = event_data(event)
        if not isinstance(data, dict):
            continue
        kind = data.get("type") or event.get("event")
        if kind == "message_start":
            message = data.get("message") or {}
            served = message.get("model") or served
            usage.update(message.get("usage") or {})
        elif kind == "content_block_start":
            block = dict(data.get("content_block") or {})
            block.setdefault("text", "")
            block["partial_json"] = ""
            blocks[data.get("index", len(blocks))] = block
        elif kind == "content_block_delta":
            block = blocks.setdefault(data.get("index", 0), {"type": "text", "text": ""})
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif delta.get("type") == "input_json_delta":
                block["partial_json"] = block.get("partial_json", "") + delta.get(
                    "partial_json", ""
                )
        elif kind == "message_delta":
            stop_reason = (data.get("delta") or {}).get("stop_reason") or stop_reason
            usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
    texts: list[str] = []
    calls: list[ToolCall] = []
    for _, block in sorted(blocks.items()):
        if block.get("type") == "text":
            texts.append(block.get("text", ""))
        elif block.get("type") == "tool_use":
            raw_json = block.get("partial_json") or ""
            try:
                args = json.loads(raw_json) if raw_json else block.get("input") or {}
            except ValueError:
                args = {}
            calls.append(_call(block.get("name", ""), args, block.get("id")))
    return _result(served, texts, calls, stop_reason, _usage(usage), events)
