"""The OpenAI wire format: Chat Completions (default), Responses and legacy Completions.

Used by ``openai:``, ``azure:``, ``demo:`` and every OpenAI-compatible named endpoint (vLLM,
Ollama, llama.cpp, LM Studio, TGI). Bodies are built here; answers are parsed from their JSON
(no SDK import, so replays stay cheap); a live answer keeps the SDK's typed object
(``ChatCompletion``, ``Completion``, ``responses.Response``) as ``Response.raw``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from llmassert._models._endpoints import Endpoint
from llmassert._models._params import GenParams, reject
from llmassert._models._payload import as_dict, as_list, event_data
from llmassert._models._wire import WireResponse
from llmassert._response import Response, ToolCall, Usage

__all__ = ["build", "first_token", "is_reasoning_model", "parse", "problem"]

PATHS = {
    "chat": "/v1/chat/completions",
    "responses": "/v1/responses",
    "completions": "/v1/completions",
}
_REASONING = re.compile(r"^(o\d|gpt-5)")
_FINISH = {"stop", "length", "tool_calls", "content_filter", "function_call"}
#: Responses API stream events that carry output (for time-to-first-token).
_RESPONSES_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.function_call_arguments.delta",
    }
)


def is_reasoning_model(endpoint: Endpoint, model: str) -> bool:
    if endpoint.reasoning is not None:
        return endpoint.reasoning
    base = model.split(":", 2)[1] if model.startswith("ft:") else model
    return endpoint.provider in ("openai", "azure") and bool(_REASONING.match(base))


def _tool_call(name: str, arguments: str | None, call_id: str | None) -> ToolCall:
    text = arguments or "{}"
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = {}
    return ToolCall(
        name=name,
        arguments=parsed if isinstance(parsed, dict) else {},
        id=call_id,
        arguments_json=text,
    )


def _add_tools(body: dict[str, Any], p: GenParams, *, nested: bool) -> None:
    """``tools`` / ``tool_choice``: Chat Completions nests each function under ``function``;
    the Responses API puts its fields at the top level."""

    def function(fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "function", **({"function": fields} if nested else fields)}

    if p.tools:
        body["tools"] = [
            function(
                {
                    "name": t.name,
                    **({"description": t.description} if t.description else {}),
                    "parameters": dict(t.parameters),
                }
            )
            for t in p.tools
        ]
    if p.tool_choice is not None:
        body["tool_choice"] = (
            p.tool_choice
            if p.tool_choice in ("auto", "none", "required")
            else function({"name": p.tool_choice})
        )


def build(endpoint: Endpoint, model: str, p: GenParams, label: str) -> tuple[str, dict[str, Any]]:
    """The path and exact JSON body of the request."""
    api = endpoint.api
    reasoning = is_reasoning_model(endpoint, model)
    max_tokens = p.max_tokens or endpoint.max_tokens
    if p.thinking is not None:
        reject(label, f"OpenAI {api}", ["thinking"], "Use reasoning_effort= for OpenAI models.")
    if reasoning:
        reject(
            label,
            f"OpenAI {api}",
            [n for n in ("temperature", "top_p") if getattr(p, n) is not None],
            f"{model} is a reasoning model.",
        )
    body: dict[str, Any] = {"model": model}
    if api == "completions":
        if p.prompt is None or len(p.messages) != 1:
            reject(label, "OpenAI legacy Completions", ["messages"], "It takes one prompt string.")
        reject(
            label,
            "OpenAI legacy Completions",
            [
                n
                for n in ("system", "json_mode", "json_schema", "tools", "reasoning_effort")
                if n in p.given()
            ],
        )
        body["prompt"] = p.prompt
        body["max_tokens"] = max_tokens
    elif api == "responses":
        reject(label, "OpenAI Responses", [n for n in ("seed", "stop") if n in p.given()])
        if p.prompt is not None:
            body["input"] = p.prompt
        else:
            body["input"] = [dict(m) for m in p.messages]
        if p.system is not None:
            body["instructions"] = p.system
        body["max_output_tokens"] = max_tokens
        if p.json_schema is not None:
            fmt: dict[str, Any] = {
                "type": "json_schema",
                "name": p.json_schema["name"],
                "schema": dict(p.json_schema["schema"]),
            }
            if p.json_schema.get("strict") is not None:
                fmt["strict"] = p.json_schema["strict"]
            body["text"] = {"format": fmt}
        elif p.json_mode:
            body["text"] = {"format": {"type": "json_object"}}
        _add_tools(body, p, nested=False)
        if p.reasoning_effort is not None:
            body["reasoning"] = {"effort": p.reasoning_effort}
    else:
        messages = [dict(m) for m in p.messages]
        if p.system is not None:
            role = "developer" if reasoning else "system"
            messages.insert(0, {"role": role, "content": p.system})
        body["messages"] = messages
        body["max_completion_tokens" if reasoning else "max_tokens"] = max_tokens
        if p.seed is not None:
            body["seed"] = p.seed
        if p.stop is not None:
            body["stop"] = list(p.stop)
        if p.json_schema is not None:
            schema: dict[str, Any] = {
                "name": p.json_schema["name"],
                "schema": dict(p.json_schema["schema"]),
            }
            if p.json_schema.get("strict") is not None:
                schema["strict"] = p.json_schema["strict"]
            body["response_format"] = {"type": "json_schema", "json_schema": schema}
        elif p.json_mode:
            body["response_format"] = {"type": "json_object"}
        _add_tools(body, p, nested=True)
        if p.reasoning_effort is not None:
            body["reasoning_effort"] = p.reasoning_effort
    if api == "completions":
        if p.seed is not None:
            body["seed"] = p.seed
        if p.stop is not None:
            body["stop"] = list(p.stop)
    if p.temperature is not None:
        body["temperature"] = p.temperature
    if p.top_p is not None:
        body["top_p"] = p.top_p
    if p.stream:
        body["stream"] = True
        if api != "responses" and endpoint.stream_usage:
            body["stream_options"] = {"include_usage": True}
    if p.extra_body:
        body.update(p.extra_body)
    return PATHS[api], body


def first_token(event: Mapping[str, Any]) -> bool:
    data = event_data(event)
    if not isinstance(data, dict):
        return False
    if data.get("type") in _RESPONSES_DELTAS:
        return bool(data.get("delta"))
    for choice in data.get("choices") or ():
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("tool_calls") or delta.get("refusal"):
            return True
        if choice.get("text"):
            return True
    return False


_TERMINAL_RESPONSES = frozenset({"response.completed", "response.incomplete", "response.failed"})


def problem(api: str, body: Any, events: Sequence[Mapping[str, Any]] | None) -> str | None:
    """Why a 2xx answer is not a completion of ``api`` (a broken gateway, a JSON of another
    kind, a stream with nothing in it), or ``None`` when it is one. Parsing is tolerant;
    this check is what keeps a non-answer from becoming ``Response(text='')``."""
    if events is not None:
        return _stream_problem(api, events)
    if not isinstance(body, Mapping):
        return f"the body is not a JSON object but {type(body).__name__}"
    if api == "responses":
        if not isinstance(body.get("output"), list):
            return "the body has no 'output' list"
        return None
    choices = body.get("choices")
    if not isinstance(choices, list):
        return "the body has no 'choices' list"
    if not choices:
        return "'choices' is empty"
    first = choices[0]
    if not isinstance(first, Mapping):
        return "'choices[0]' is not an object"
    if api == "chat" and not isinstance(first.get("message"), Mapping):
        return "'choices[0]' has no 'message' object"
    return None


def _stream_problem(api: str, events: Sequence[Mapping[str, Any]]) -> str | None:
    if not events:
        return "the stream ended with no events"
    datas = [d for d in map(event_data, events) if isinstance(d, dict)]
    if api == "responses":
        if any(
            d.get("type") in _TERMINAL_RESPONSES or d.get("type") in _RESPONSES_DELTAS
            for d in datas
        ):
            return None
        return "the stream has no output and ended without 'response.completed'"
    if any(isinstance(d.get("choices"), list) and d["choices"] for d in datas):
        return None
    return "no event of the stream carries 'choices'"


def _sdk_object(api: str, body: Any) -> Any:
    """The SDK's typed object for a live answer (``Response.raw``); lenient when a self-hosted
    server omits fields the SDK requires (``created``, ``object``)."""
    if not isinstance(body, Mapping):
        return body
    from pydantic import ValidationError

    cls: Any
    if api == "chat":
        from openai.types.chat import ChatCompletion as cls
    elif api == "completions":
        from openai.types import Completion as cls
    else:
        from openai.types.responses import Response as cls
    try:
        return cls.model_validate(body)
    except ValidationError:
        return cls.construct(**body)


def _usage(
    input_tokens: int | None,
    output_tokens: int | None,
    reasoning: int | None = None,
    cached: int | None = None,
) -> Usage:
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning,
        cached_input_tokens=cached,
    )


def _chat_usage(usage: Any) -> Usage:
    """Chat / legacy Completions ``usage`` (streamed chunks carry the same shape)."""
    u = as_dict(usage)
    if not u:
        return Usage()
    return _usage(
        u.get("prompt_tokens"),
        u.get("completion_tokens"),
        as_dict(u.get("completion_tokens_details")).get("reasoning_tokens"),
        as_dict(u.get("prompt_tokens_details")).get("cached_tokens"),
    )


def _normalise(finish: str | None, refusal: str | None) -> str | None:
    if refusal:
        return "refusal"
    if finish is None:
        return None
    return finish if finish in _FINISH else None


def parse(api: str, model: str, wire: WireResponse) -> Response:
    """Parse a WireResponse of the given API into a :class:`Response`.

    Parsing reads the JSON itself (no SDK import, so a replay never loads the SDK); only a live,
    non-streamed answer also gets the SDK's typed object as ``raw``.
    """
    if wire.events is not None:
        return _parse_stream(api, model, wire)
    body = as_dict(wire.body)
    if api == "chat":
        response = _parse_chat(model, body)
    elif api == "completions":
        response = _parse_completions(model, body)
    else:
        response = _parse_responses(model, body)
    response.raw = wire.body if wire.replayed else _sdk_object(api, wire.body)
    return response


def _parse_chat(model: str, body: Mapping[str, Any]) -> Response:
    choices = as_list(body.get("choices"))
    choice = as_dict(choices[0]) if choices else {}
    message = as_dict(choice.get("message"))
    refusal = message.get("refusal")
    calls = tuple(
        _tool_call(fn.get("name") or "", fn.get("arguments"), as_dict(c).get("id"))
        for c in as_list(message.get("tool_calls"))
        if (fn := as_dict(as_dict(c).get("function")))
    )
    raw_finish = choice.get("finish_reason")
    return Response(
        text=message.get("content") or "",
        model=body.get("model") or model,
        refusal=refusal,
        finish_reason=_normalise(raw_finish, refusal),
        raw_finish_reason=raw_finish,
        tool_calls=calls,
        usage=_chat_usage(body.get("usage")),
    )


def _parse_completions(model: str, body: Mapping[str, Any]) -> Response:
    choices = as_list(body.get("choices"))
    choice = as_dict(choices[0]) if choices else {}
    raw_finish = choice.get("finish_reason")
    return Response(
        text=choice.get("text") or "",
        model=body.get("model") or model,
        finish_reason=_normalise(raw_finish, None),
        raw_finish_reason=raw_finish,
        usage=_chat_usage(body.get("usage")),
    )


def _parse_responses(model: str, body: Mapping[str, Any]) -> Response:
    texts: list[str] = []
    refusals: list[str] = []
    calls: list[ToolCall] = []
    for item in map(as_dict, as_list(body.get("output"))):
        kind = item.get("type")
        if kind == "message":
            for part in map(as_dict, as_list(item.get("content"))):
                if part.get("type") == "output_text":
                    texts.append(part.get("text") or "")
                elif part.get("type") == "refusal":
                    refusals.append(part.get("refusal") or "")
        elif kind == "function_call":
            calls.append(
                _tool_call(item.get("name") or "", item.get("arguments"), item.get("call_id"))
            )
    status = body.get("status")
    reason = as_dict(body.get("incomplete_details")).get("reason")
    refusal = "".join(refusals) or None
    if refusal:
        finish: str | None = "refusal"
    elif status == "incomplete":
        finish = "length" if reason == "max_output_tokens" else "content_filter"
    elif calls:
        finish = "tool_calls"
    elif status == "completed":
        finish = "stop"
    else:
        finish = None
    usage = as_dict(body.get("usage"))
    return Response(
        text="".join(texts),
        model=body.get("model") or model,
        refusal=refusal,
        finish_reason=finish,
        raw_finish_reason=reason or status,
        tool_calls=tuple(calls),
        usage=(
            _usage(
                usage.get("input_tokens"),
                usage.get("output_tokens"),
                as_dict(usage.get("output_tokens_details")).get("reasoning_tokens"),
                as_dict(usage.get("input_tokens_details")).get("cached_tokens"),
            )
            if usage
            else Usage()
        ),
    )


def _parse_stream(api: str, model: str, wire: WireResponse) -> Response:
    events = list(wire.events or ())
    if api == "responses":
        for event in reversed(events):
            data = event_data(event)
            if isinstance(data, dict) and data.get("type") in (
                "response.completed",
                "response.incomplete",
            ):
                response = _parse_responses(model, data.get("response") or {})
                response.raw = events
                return response
        text = "".join(
            str(d.get("delta", ""))
            for d in (event_data(e) for e in events)
            if isinstance(d, dict) and d.get("type") == "response.output_text.delta"
        )
        return Response(text=text, model=model, raw=events)
    text_parts: list[str] = []
    refusal_parts: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish: str | None = None
    usage = Usage()
    served = model
    for event in events:
        data = event_data(event)
        if not isinstance(data, dict):
            continue
        served = data.get("model") or served
        if data.get("usage"):
            usage = _chat_usage(data["usage"])
        for choice in data.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            finish = choice.get("finish_reason") or finish
            if api == "completions":
                text_parts.append(choice.get("text") or "")
                continue
            delta = choice.get("delta") or {}
            text_parts.append(delta.get("content") or "")
            refusal_parts.append(delta.get("refusal") or "")
            for call in delta.get("tool_calls") or ():
                slot = calls.setdefault(call.get("index", 0), {"id": None, "name": "", "args": ""})
                slot["id"] = call.get("id") or slot["id"]
                fn = call.get("function") or {}
                slot["name"] += fn.get("name") or ""
                slot["args"] += fn.get("arguments") or ""
    refusal = "".join(refusal_parts) or None
    return Response(
        text="".join(text_parts),
        model=served,
        refusal=refusal,
        finish_reason=_normalise(finish, refusal),
        raw_finish_reason=finish,
        tool_calls=tuple(
            _tool_call(c["name"], c["args"], c["id"]) for _, c in sorted(calls.items())
        ),
        usage=usage,
        raw=events,
    )
