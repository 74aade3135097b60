"""A tiny customer-support application, the subject of the example tests.

It is ordinary application code: it knows nothing about llmassert. The tests in
``examples/test_support_app.py`` point its OpenAI and Anthropic clients at llmassert's local
test server.
"""

from __future__ import annotations

from support_app.orders import HANDOFF, answer_order_question, lookup_order
from support_app.redact import redact_contacts
from support_app.retry import LLMUnavailable, RetryPolicy
from support_app.summary import SummaryInterrupted, summarize_ticket
from support_app.triage import TRIAGE_SCHEMA, Triage, triage_ticket

__all__ = [
    "HANDOFF",
    "TRIAGE_SCHEMA",
    "LLMUnavailable",
    "RetryPolicy",
    "SummaryInterrupted",
    "Triage",
    "answer_order_question",
    "lookup_order",
    "redact_contacts",
    "summarize_ticket",
    "triage_ticket",
]
