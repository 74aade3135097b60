"""Ticket triage: one OpenAI chat completion with a strict JSON-schema answer.

Whatever goes wrong - a refusal, an answer that breaks the schema, an outage - the ticket is
still routed: to the human queue, with the reason recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema
import openai

from support_app.redact import redact_contacts
from support_app.retry import LLMUnavailable, RetryPolicy, call_with_retries

__all__ = ["MODEL", "SYSTEM_PROMPT", "TRIAGE_SCHEMA", "Triage", "triage_ticket"]

MODEL = "gpt-4o-mini"

SYSTEM_PROMPT = (
    "You triage customer support tickets for Acme Outdoor. Classify the ticket's category "
    "and priority and summarise it in one sentence. Priority is urgent only when the customer "
    "is blocked or was charged wrongly."
)

TRIAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "category": {"enum": ["billing", "shipping", "returns", "technical", "other"]},
        "priority": {"enum": ["low", "normal", "urgent"]},
        "summary": {"type": "string", "minLength": 1},
    },
    "required": ["category", "priority", "summary"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Triage:
    """Where a ticket goes. ``fallback`` names why the model's answer was not used
    (``refused``, ``invalid_output`` or an :class:`LLMUnavailable` reason), else ``None``."""

    category: str
    priority: str
    summary: str
    fallback: str | None = None

    @property
    def queue(self) -> str:
        return "human" if self.fallback else self.category


def _fallback(ticket: str, reason: str) -> Triage:
    return Triage("other", "normal", ticket[:120], fallback=reason)


def triage_ticket(
    ticket: str,
    *,
    client: openai.OpenAI | None = None,
    model: str = MODEL,
    policy: RetryPolicy | None = None,
) -> Triage:
    """Classify ``ticket``. Without ``client``, one is built from ``OPENAI_API_KEY`` /
    ``OPENAI_BASE_URL``, like the SDK does."""
    policy = policy or RetryPolicy()
    own_client = client is None
    sdk = openai.OpenAI() if client is None else client
    try:
        no_sdk_retries = sdk.with_options(max_retries=0)
        try:
            completion = call_with_retries(
                lambda: no_sdk_retries.chat.completions.create(
                    model=model,
                    messages=[
                        {"role": "system", "content": SYSTEM_PROMPT},
                        {"role": "user", "content": redact_contacts(ticket)},
                    ],
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": "triage", "strict": True, "schema": TRIAGE_SCHEMA},
                    },
                    temperature=0,
                    timeout=policy.timeout_s,
                ),
                policy,
            )
        except LLMUnavailable as exc:
            return _fallback(ticket, exc.reason)
    finally:
        if own_client:
            sdk.close()
    message = completion.choices[0].message
    if message.refusal:
        return _fallback(ticket, "refused")
    try:
        data = json.loads(message.content or "")
        jsonschema.validate(data, TRIAGE_SCHEMA)
    except (ValueError, jsonschema.ValidationError):
        return _fallback(ticket, "invalid_output")
    return Triage(data["category"], data["priority"], data["summary"])
