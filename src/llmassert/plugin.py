"""The llmassert pytest plugin (registered through the ``pytest11`` entry point).

A thin layer: options live in :mod:`llmassert._plugins.options`, and each concept's fixtures and
hooks in its own module under :mod:`llmassert._plugins`. Nothing here imports a provider SDK, and
nothing the sub-plugins import at start-up loads the model or record & replay stack (they load
on the first model call).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

__all__: list[str] = []

#: The sub-plugins, registered in this order when the plugin is.
SUBPLUGINS = (
    "llmassert._plugins.options",
    "llmassert._plugins.models",
    "llmassert._plugins.context",
    "llmassert._plugins.recording",
    "llmassert._plugins.server",
    "llmassert._plugins.marker",
    "llmassert._plugins.cases",
    "llmassert._plugins.judge",
    "llmassert._plugins.reports",
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    # Called as this plugin is registered. Registering the sub-plugins here rather than through
    # ``pytest_plugins`` skips pytest's entry-point lookup of each ``pytest_plugins`` name (a
    # scan of every installed distribution's metadata, once per name): most of what the plugin
    # cost at start-up. They hold no ``assert`` statements, so they are imported plainly rather
    # than through pytest's assertion-rewriting import hook (which costs ~1 ms per module).
    for name in SUBPLUGINS:
        if pluginmanager.get_plugin(name) is None and not pluginmanager.is_blocked(name):
            pluginmanager.register(importlib.import_module(name), name)


# The ``llm`` marker is registered by llmassert._plugins.marker.
