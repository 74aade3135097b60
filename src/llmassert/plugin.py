"""The llmassert pytest plugin (registered through the ``pytest11`` entry point).

A thin layer: options live in :mod:`llmassert._plugins.options`, and each concept's fixtures and
hooks in its own module under :mod:`llmassert._plugins`. Nothing here imports a provider SDK.
"""

from __future__ import annotations

pytest_plugins = [
    "llmassert._plugins.options",
    "llmassert._plugins.models",
    "llmassert._plugins.recording",
    "llmassert._plugins.server",
    "llmassert._plugins.marker",
]

__all__: list[str] = []

# The ``llm`` marker is registered by llmassert._plugins.marker.
