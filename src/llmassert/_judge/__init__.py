"""Model-graded checks: the judge engine (prompts, structured verdicts, votes) and embeddings.

The checks themselves (``judge``, ``semantic_similar``) live in :mod:`llmassert._checks._judge`
and import this package on first use; the pytest wiring (the session's judge, its caps, the
summary line) is :mod:`llmassert._plugins.judge`. This package is private.
"""

from __future__ import annotations

__all__: list[str] = []
