"""What a scripted rule answers: provider-neutral, rendered per wire format by the ``_wire_*``
modules (OpenAI chat / completions / responses, Anthropic messages)."""

from __future__ import annotations

import json as _json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ErrorReply", "Reply", "ReplyToolCall"]

#: Normalised finish reasons a reply may ask for; each wire format maps them to its own values
#: (Anthropic: stop -> end_turn, length -> max_tokens, tool_calls -> tool_use, refusal -> refusal).
REPLY_FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "refusal")


@dataclass(frozen=True)
class ReplyToolCall:
    """A tool call the scripted model makes."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    @property
    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return _json.dumps(dict(self.arguments), separators=(",", ":"))


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error in the provider's own body shape.

    ``type`` / ``code`` default per provider and status (e.g. 429 -> OpenAI
    ``rate_limit_exceeded``, Anthropic ``rate_limit_error``; 529 -> ``overloaded_error``).
    ``retry_after`` (seconds) and ``retry_after_ms`` become the ``retry-after`` and
    ``retry-after-ms`` headers.
    """

    status: int = 500
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """A scripted model reply.

    Exactly one kind of content is usual: ``text``, ``json`` (serialised as the text),
    ``refusal``, ``tool_calls``, or ``error``. ``finish_reason`` defaults from the content
    (``tool_calls`` when there are tool calls, ``refusal`` for a refusal, else ``stop``).
    ``input_tokens`` / ``output_tokens`` override the server's token estimate.
    ``choices`` gives distinct replies for OpenAI's ``n`` > 1 (cycled when shorter than ``n``).
    ``embeddings`` scripts the vectors of an embeddings request, one per input in order
    (without it the server embeds each input by a hash of its text).
    """

    text: str | None = None
    json: Any = None
    refusal: str | None = None
    tool_calls: tuple[ReplyToolCall, ...] = ()
    error: ErrorReply | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    choices: tuple[Reply, ...] = ()
    #: Embeddings API: the vectors to answer with, one per input.
    embeddings: tuple[tuple[float, ...], ...] = ()
    #: Extra response headers (e.g. to test header handling in a client).
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def content(self) -> str:
        """The text the model writes (``""`` for pure refusals, tool calls and errors)."""
        if self.text is not None:
            return self.text
        if self.json is not None:
            return _json.dumps(self.json)
        return ""

    @property
    def resolved_finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        if self.tool_calls:
            return "tool_calls"
        if self.refusal is not None:
            return "refusal"
        return "stop"
