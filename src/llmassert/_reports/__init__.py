"""Run reports: the JSON report of a pytest run, its per-model summary and comparison, and the
views rendered from it (terminal, Markdown, HTML)."""

from __future__ import annotations

__all__: list[str] = []
