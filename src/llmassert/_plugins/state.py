"""The per-session state object of the plugin (one per pytest session, per xdist worker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from llmassert._models._wire import Interceptor
    from llmassert._plugins.options import Settings

__all__ = ["LLMSession", "get_session"]

_SESSION_KEY = pytest.StashKey["LLMSession"]()


@dataclass
class LLMSession:
    """Everything the sub-plugins share during one run."""

    settings: Settings
    #: Interceptors every model built by the fixtures goes through, outermost first.
    interceptors: list[Interceptor] = field(default_factory=list)
    #: The node id of the test currently running (for recordings and reports).
    current_test: str | None = None


def get_session(config: pytest.Config) -> LLMSession:
    """The run's :class:`LLMSession`, created on first use."""
    session = config.stash.get(_SESSION_KEY, None)
    if session is None:
        from llmassert._plugins.options import get_settings

        session = LLMSession(settings=get_settings(config))
        config.stash[_SESSION_KEY] = session
    return session
