"""OpenAI legacy Completions (``POST /v1/completions``): a raw prompt in, ``choices[].text``
out, plain and streamed. How vLLM / llama.cpp serve many fine-tuned open models."""

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
    estimate_tokens,
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

API = "completions"
PROVIDER = "openai"

_FINISH = {"stop": "stop", "length": "length", "content_filter": "content_filter"}


def _prompts(body: Mapping[str, Any]) -> list[str]:
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return [str(p) for p in prompt]
    if isinstance(prompt, list) and prompt:
        # Token ids: there is no tokenizer here, so show them as text.
        return [" ".join(str(t) for t in prompt)]
    return [""]


def describe(body: Any) -> RequestView:
    if not isinstance(body, Mapping):
        return RequestView()
    model = body.get("model")
    return RequestView(
        model=model if isinstance(model, str) else None,
        messages=(),
        prompt=_prompts(body)[0],
        stream=bool(body.get("stream")),
    )


def _body(request: ServerRequest) -> Mapping[str, Any]:
    return request.body if isinstance(request.body, Mapping) else {}


def _choices(request: ServerRequest, reply: Reply) -> list[tuple[str, Reply]]:
    """(prompt, reply) for every choice: ``n`` per prompt, in the API's order."""
    body = _body(request)
    n = body.get("n")
    n = n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1
    out: list[tuple[str, Reply]] = []
    for prompt in _prompts(body):
        for i in range(n):
            r = reply.choices[i % len(reply.choices)] if reply.choices else reply
            out.append((prompt, r))
    return out


def _text(request: ServerRequest, prompt: str, reply: Reply) -> str:
    text = reply.content or (reply.refusal or "")
    return prompt + text if _body(request).get("echo") else text


def _finish(reply: Reply) -> str:
    return _FINISH.get(reply.resolved_finish_reason, "stop")


def _usage(request: ServerRequest, reply: Reply, choices: list[tuple[str, Reply]]) -> Any:
    if reply.input_tokens is not None:
        prompt_tokens = reply.input_tokens
    else:
        prompt_tokens = sum(estimate_tokens(p) for p in _prompts(_body(request)))
    if reply.output_tokens is not None:
        completion_tokens = reply.output_tokens
    else:
        completion_tokens = sum(output_token_estimate(r) for _, r in choices)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def render_body(request: ServerRequest, reply: Reply) -> dict[str, Any]:
    choices = _choices(request, reply)
    return {
        "id": new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": request.model or "unknown",
        "system_fingerprint": "fp_llmassert",
        "choices": [
            {
                "text": _text(request, prompt, r),
                "index": index,
                "logprobs": None,
                "finish_reason": _finish(r),
            }
            for index, (prompt, r) in enumerate(choices)
        ],
        "usage": _usage(request, reply, choices),
    }


def render_stream(request: ServerRequest, reply: Reply) -> Iterator[SSEEvent]:
    choices = _choices(request, reply)
    options = _body(request).get("stream_options")
    include_usage = isinstance(options, Mapping) and bool(options.get("include_usage"))
    completion_id = new_id("cmpl-")
    created = int(time.time())

    def chunk(items: list[dict[str, Any]], usage: Any = None) -> SSEEvent:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "text_completion",
            "created": created,
            "model": request.model or "unknown",
            "system_fingerprint": "fp_llmassert",
            "choices": items,
        }
        if include_usage:
            data["usage"] = usage
        return SSEEvent(data=data)

    for index, (prompt, r) in enumerate(choices):
        for piece in split_text(_text(request, prompt, r)):
            yield chunk([{"text": piece, "index": index, "logprobs": None, "finish_reason": None}])
        yield chunk([{"text": "", "index": index, "logprobs": None, "finish_reason": _finish(r)}])
    if include_usage:
        yield chunk([], usage=_usage(request, reply, choices))
    yield DONE
