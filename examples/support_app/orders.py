"""Order questions: an Anthropic Messages tool loop around ``lookup_order``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import anthropic
from anthropic.types import MessageParam, ToolParam

from support_app.redact import redact_contacts
from support_app.retry import LLMUnavailable, RetryPolicy, call_with_retries

__all__ = [
    "HANDOFF",
    "LOOKUP_ORDER_TOOL",
    "MODEL",
    "ORDERS",
    "SYSTEM_PROMPT",
    "answer_order_question",
    "lookup_order",
]

MODEL = "claude-sonnet-4-6"

SYSTEM_PROMPT = (
    "You answer Acme Outdoor customers' questions about their orders. Use the lookup_order "
    "tool; never guess an order's status."
)

#: What the customer sees when the model cannot or will not answer.
HANDOFF = "Thanks for your patience - a member of our team will reply to you shortly."

LOOKUP_ORDER_TOOL: ToolParam = {
    "name": "lookup_order",
    "description": "Look up an order's status and delivery estimate by its id, e.g. A1234.",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string", "pattern": "^[A-Z][0-9]{4}$"}},
        "required": ["order_id"],
    },
}

#: The demo order database.
ORDERS: dict[str, dict[str, str]] = {
    "A1234": {"status": "shipped", "carrier": "UPS", "eta": "2026-12-02"},
    "B5678": {"status": "processing", "eta": "2026-12-09"},
}

_MAX_TOOL_ROUNDS = 3


def lookup_order(order_id: str) -> Mapping[str, str]:
    """The order's record, or an ``error`` entry the model can relay."""
    return ORDERS.get(order_id, {"error": f"no order {order_id}"})


def _run_tool(name: str, arguments: Mapping[str, Any], lookup: Callable[[str], Any]) -> str:
    if name != "lookup_order" or not isinstance(arguments.get("order_id"), str):
        return json.dumps({"error": f"unknown tool call {name}({json.dumps(dict(arguments))})"})
    return json.dumps(lookup(arguments["order_id"]))


def answer_order_question(
    question: str,
    *,
    client: anthropic.Anthropic | None = None,
    model: str = MODEL,
    lookup: Callable[[str], Any] = lookup_order,
    policy: RetryPolicy | None = None,
) -> str:
    """Answer ``question``, letting the model call ``lookup_order``. Without ``client``, one is
    built from ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``. Falls back to :data:`HANDOFF`."""
    policy = policy or RetryPolicy()
    own_client = client is None
    sdk = anthropic.Anthropic() if client is None else client
    no_sdk_retries = sdk.with_options(max_retries=0)
    messages: list[MessageParam] = [{"role": "user", "content": redact_contacts(question)}]
    try:
        for _ in range(_MAX_TOOL_ROUNDS):
            reply = call_with_retries(
                lambda: no_sdk_retries.messages.create(
                    model=model,
                    max_tokens=512,
                    system=SYSTEM_PROMPT,
                    messages=messages,
                    tools=[LOOKUP_ORDER_TOOL],
                    timeout=policy.timeout_s,
                ),
                policy,
            )
            if reply.stop_reason == "refusal":
                return HANDOFF
            if reply.stop_reason != "tool_use":
                text = "".join(b.text for b in reply.content if b.type == "text").strip()
                return text or HANDOFF
            messages.append({"role": "assistant", "content": reply.content})
            messages.append(
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": block.id,
                            "content": _run_tool(block.name, block.input, lookup),
                        }
                        for block in reply.content
                        if block.type == "tool_use"
                    ],
                }
            )
        return HANDOFF  # the model kept calling tools
    except LLMUnavailable:
        return HANDOFF
    finally:
        if own_client:
            sdk.close()
