"""Case files (``llm_*.yaml``): eval sets as data. A plain library under the pytest layer
(:mod:`llmassert._plugins.cases`): loading, validation, templating, checks and verdicts."""

from __future__ import annotations

__all__: list[str] = []
