"""The llmassert pytest plugin (registered through the ``pytest11`` entry point).

A thin layer: options live in :mod:`llmassert._plugins.options`, and each concept's fixtures and
hooks in its own module under :mod:`llmassert._plugins`. Nothing here imports a provider SDK.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "llmassert._plugins.options",
    "llmassert._plugins.models",
    "llmassert._plugins.recording",
    "llmassert._plugins.server",
]

__all__: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llm(repeat=N, pass_rate=P, ...): run an LLM test N times and pass when at least a "
        "fraction P of the runs pass.",
    )
