"""Prompt templating shared by case files and prompt templates (private package)."""

from __future__ import annotations

__all__: list[str] = []
