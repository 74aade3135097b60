"""The one result type every model call returns, whatever the provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FINISH_REASONS", "Response", "ToolCall", "Usage"]

#: Normalised finish reasons: OpenAI's values plus ``refusal``.
FINISH_REASONS = frozenset(
    {"stop", "length", "tool_calls", "content_filter", "function_call", "refusal"}
)


@dataclass(frozen=True)
class Usage:
    """Token counts of one call. ``None`` where the endpoint did not report them."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    #: Reasoning / thinking tokens (already included in ``output_tokens``), when reported.
    reasoning_tokens: int | None = None
    #: Input tokens served from the provider's prompt cache, when reported.
    cached_input_tokens: int | None = None

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


@dataclass(frozen=True)
class ToolCall:
    """A tool (function) call the model asked for."""

    name: str
    #: Parsed arguments; ``{}`` when the model sent none. See ``arguments_json`` for the raw text.
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    #: The arguments exactly as the model wrote them (may be invalid JSON).
    arguments_json: str = "{}"


@dataclass
class Response:
    """What a model answered, with the numbers that decide between models.

    ``text`` is always a ``str`` (``""`` when the model sent no text, e.g. only a refusal or a
    tool call). ``str(response)`` is ``response.text``, so every check accepts either.
    """

    text: str
    model: str
    provider: str = ""
    #: The provider's explicit refusal (OpenAI ``message.refusal``; for Anthropic the text of a
    #: reply whose ``stop_reason`` is ``refusal``), or ``None``.
    refusal: str | None = None
    #: Normalised: one of :data:`FINISH_REASONS` (or ``None`` when unknown).
    finish_reason: str | None = None
    #: The provider's own value, e.g. Anthropic ``end_turn`` / ``max_tokens``.
    raw_finish_reason: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    #: Parsed JSON when structured output was requested and the text parsed, else ``None``.
    parsed: Any = None
    usage: Usage = field(default_factory=Usage)
    #: Wall time of the call in seconds (of the original call when replayed: see ``replayed``).
    latency_s: float | None = None
    #: Time to first token, for streamed calls.
    ttft_s: float | None = None
    #: Cost in USD from the price table; ``None`` when the model's price is unknown.
    cost_usd: float | None = None
    request_id: str | None = None
    #: How many retries the call needed (0 when the first attempt succeeded).
    retries: int = 0
    #: ``True`` when served from the recording store rather than a live call.
    replayed: bool = False
    #: The model spec that produced this response, e.g. ``openai:gpt-4o-mini``.
    spec: str = ""
    #: What the call was for, set by the model that made it: ``"model"`` (the model under
    #: test), ``"judge"`` (a judge model grading an output) or ``"embedding"`` (an embeddings
    #: call of a semantic check). Reports count judge and embedding calls apart.
    purpose: str = "model"
    #: The provider's raw response: the SDK's typed object for a live call, the stored JSON dict
    #: when replayed (replays never import the SDKs), the list of SSE events when streamed.
    raw: Any = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.text
