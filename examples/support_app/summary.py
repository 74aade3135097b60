"""Ticket summaries for the agents' dashboard, streamed as the model writes them."""

from __future__ import annotations

from collections.abc import Callable

import anthropic

from support_app.redact import redact_contacts
from support_app.retry import RetryPolicy, call_with_retries

__all__ = ["MODEL", "SYSTEM_PROMPT", "SummaryInterrupted", "summarize_ticket"]

MODEL = "claude-haiku-4-5"

SYSTEM_PROMPT = "Summarise this support ticket for an agent in at most three short sentences."


class SummaryInterrupted(Exception):
    """The stream broke off after some text was shown; ``partial`` is that text."""

    def __init__(self, partial: str) -> None:
        super().__init__(f"summary interrupted after {len(partial)} characters")
        self.partial = partial


def summarize_ticket(
    ticket: str,
    *,
    client: anthropic.Anthropic | None = None,
    model: str = MODEL,
    on_text: Callable[[str], None] | None = None,
    policy: RetryPolicy | None = None,
) -> str:
    """Stream a summary of ``ticket``, passing each piece to ``on_text``; return the whole text.

    Failures before the first piece are retried like any call (then :class:`LLMUnavailable`);
    once text is on the agent's screen a failure raises :class:`SummaryInterrupted` instead.
    """
    policy = policy or RetryPolicy()
    own_client = client is None
    sdk = anthropic.Anthropic() if client is None else client
    no_sdk_retries = sdk.with_options(max_retries=0)
    pieces: list[str] = []

    def stream_once() -> str:
        try:
            with no_sdk_retries.messages.stream(
                model=model,
                max_tokens=300,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": redact_contacts(ticket)}],
                timeout=policy.timeout_s,
            ) as stream:
                for piece in stream.text_stream:
                    pieces.append(piece)
                    if on_text is not None:
                        on_text(piece)
        except anthropic.APIError as exc:
            if pieces:
                raise SummaryInterrupted("".join(pieces)) from exc
            raise
        return "".join(pieces)

    try:
        return call_with_retries(stream_once, policy)
    finally:
        if own_client:
            sdk.close()
