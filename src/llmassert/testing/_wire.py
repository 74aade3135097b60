"""The contract between the test server core and its wire-format modules, plus shared helpers.

Each provider API is one module (``_wire_openai_chat``, ``_wire_openai_completions``,
``_wire_openai_embeddings``, ``_wire_openai_models``, ``_wire_responses``, ``_wire_anthropic``)
exposing the functions of :class:`WireFormat`. The modules only build payloads (dicts); the core
(:mod:`llmassert.testing._server`) does the HTTP, the SSE framing, delays, fault injection, request
ids and the request log.

Conventions the core applies to what the modules return:

- :class:`SSEEvent`: ``data`` that is a ``str`` is sent verbatim (``"[DONE]"``); anything else is
  serialised as compact JSON. ``event`` (when not ``None``) becomes an ``event: <name>`` line.
  Each event is framed as ``[event: NAME\\n]data: ...\\n\\n``.
- Request ids: the core generates one per request and sends it as ``x-request-id`` (OpenAI) or
  ``request-id`` (Anthropic). If an error body has a top-level ``"request_id"`` key, the core sets
  it to that same id (so modules may leave it ``None``).
- Headers returned by ``render_error`` are added to the error response; ``Reply.headers`` are
  added to successful responses by the core.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from llmassert.testing._reply import ErrorReply, Reply
from llmassert.testing._request import ServerRequest

__all__ = [
    "DONE",
    "RequestView",
    "SSEEvent",
    "WireFormat",
    "content_text",
    "error_headers",
    "estimate_tokens",
    "input_token_estimate",
    "last_user_text",
    "new_id",
    "output_token_estimate",
    "split_text",
]


@dataclass(frozen=True)
class RequestView:
    """What a wire module reads out of a request body: what rules match on."""

    model: str | None = None
    #: Chat history normalised to ``[{"role": ..., "content": <text>}]`` (system included).
    messages: tuple[Mapping[str, str], ...] = ()
    #: The text rules match on (last user message, raw prompt, Responses ``input``).
    prompt: str = ""
    stream: bool = False


@dataclass(frozen=True)
class SSEEvent:
    """One server-sent event. ``data``: a ``str`` is sent verbatim, anything else as JSON."""

    data: Any
    event: str | None = None

    def encode(self) -> bytes:
        """The event framed for the wire: ``[event: NAME\\n]data: ...\\n\\n``."""
        payload = (
            self.data
            if isinstance(self.data, str)
            else json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)
        )
        head = f"event: {self.event}\n" if self.event is not None else ""
        return f"{head}data: {payload}\n\n".encode()


#: The OpenAI end-of-stream marker.
DONE = SSEEvent(data="[DONE]")


class WireFormat(Protocol):
    """The functions (and constants) every wire-format module provides."""

    #: ``chat.completions``, ``completions``, ``embeddings``, ``models``, ``responses``,
    #: ``messages``.
    API: str
    #: ``openai`` or ``anthropic``.
    PROVIDER: str

    def describe(self, body: Any) -> RequestView: ...

    def render_body(self, request: ServerRequest, reply: Reply) -> dict[str, Any]: ...

    def render_stream(self, request: ServerRequest, reply: Reply) -> Iterator[SSEEvent]: ...

    def render_error(self, error: ErrorReply) -> tuple[int, dict[str, Any], dict[str, str]]: ...

    def render_stream_error(self, error: ErrorReply) -> SSEEvent: ...


def last_user_text(messages: Sequence[Mapping[str, str]]) -> str:
    """What rules match on: the text of the last ``user`` message (the last message's when
    there is none, ``""`` for no messages)."""
    for message in reversed(messages):
        if message["role"] == "user":
            return message["content"]
    return messages[-1]["content"] if messages else ""


def new_id(prefix: str, length: int = 24) -> str:
    """A random provider-style id, e.g. ``new_id("chatcmpl-")`` -> ``chatcmpl-3f9a...``."""
    return prefix + secrets.token_hex((length + 1) // 2)[:length]


def estimate_tokens(text: str) -> int:
    """The documented token approximation: about 4 characters per token, at least 1."""
    return max(1, (len(text) + 3) // 4)


def input_token_estimate(request: ServerRequest, reply: Reply | None = None) -> int:
    """Input tokens of a request: ``reply.input_tokens`` if set, else the estimate over every
    message (or the prompt when there are no messages)."""
    if reply is not None and reply.input_tokens is not None:
        return reply.input_tokens
    if request.messages:
        return sum(estimate_tokens(m.get("content", "")) for m in request.messages)
    return estimate_tokens(request.prompt)


def output_token_estimate(reply: Reply) -> int:
    """Output tokens of a reply: ``reply.output_tokens`` if set, else the estimate over its text,
    refusal and tool-call arguments."""
    if reply.output_tokens is not None:
        return reply.output_tokens
    parts = [reply.content, reply.refusal or ""]
    parts.extend(call.name + call.arguments_json for call in reply.tool_calls)
    return estimate_tokens("".join(parts))


def split_text(text: str, size: int = 8) -> list[str]:
    """Split text into stream deltas: word-ish pieces of at most about ``size`` characters (long
    words are cut; never empty pieces; ``""`` gives ``[]``). Joining the pieces gives back
    ``text`` exactly."""
    if not text:
        return []
    pieces: list[str] = []
    current = ""
    for word in _words(text):
        if current and len(current) + len(word) > size:
            pieces.append(current)
            current = ""
        while len(word) > size:  # long words (JSON, URLs) are cut into size-long pieces
            pieces.append(word[:size])
            word = word[size:]
        current += word
    if current:
        pieces.append(current)
    return pieces


def _words(text: str) -> Iterator[str]:
    # Keep each word with its trailing whitespace so the pieces re-join exactly.
    word = ""
    for is_space, group in itertools.groupby(text, key=str.isspace):
        word += "".join(group)
        if is_space:
            yield word
            word = ""
    if word:
        yield word


def content_text(content: Any) -> str:
    """Normalise a message ``content`` to plain text.

    Accepts a string, ``None``, or a list of content parts/blocks (OpenAI ``text`` /
    ``input_text`` / ``output_text`` / ``refusal`` parts, Anthropic ``text`` and ``tool_result``
    blocks, ...). Parts without text (images, audio) are skipped; text parts are joined with
    newlines.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        for key in ("text", "refusal", "input_text", "output_text"):
            value = content.get(key)
            if isinstance(value, str):
                return value
        if "content" in content:
            return content_text(content["content"])
        return ""
    if isinstance(content, Sequence):
        texts = [content_text(part) for part in content]
        return "\n".join(text for text in texts if text)
    return str(content)


def error_headers(error: ErrorReply) -> dict[str, str]:
    """``retry-after`` / ``retry-after-ms`` from the error, plus its extra ``headers``."""
    headers: dict[str, str] = {}
    if error.retry_after is not None:
        value = error.retry_after
        headers["retry-after"] = str(int(value)) if float(value).is_integer() else str(value)
    if error.retry_after_ms is not None:
        headers["retry-after-ms"] = str(int(error.retry_after_ms))
    headers.update({k.lower(): v for k, v in error.headers.items()})
    return headers
