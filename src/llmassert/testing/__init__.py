"""The local OpenAI/Anthropic-compatible LLM test server (work in progress)."""

from __future__ import annotations

__all__: list[str] = []
