"""Assertion helpers ("checks"): small objects that judge one model output.

The public names are re-exported lazily from :mod:`llmassert`; this package is private.
"""

from __future__ import annotations

__all__: list[str] = []
