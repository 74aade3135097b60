"""The ``llm_server`` fixture: the local LLM test server (:mod:`llmassert.testing`).

One server per test session (per xdist worker), started on first use on an ephemeral
127.0.0.1 port; every test gets it with no rules, no fault, an empty request log and zeroed
counters. It is a separate instance from the server behind the ``demo:`` models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from llmassert.testing import LLMServer

__all__ = ["llm_server"]


@pytest.fixture(scope="session")
def _llmassert_server() -> Iterator[LLMServer]:
    from llmassert.testing import LLMServer  # aiohttp is imported only when a test asks

    server = LLMServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def llm_server(_llmassert_server: LLMServer) -> Iterator[LLMServer]:
    """The session's local OpenAI/Anthropic-compatible test server, reset for this test.

    Point a client at ``llm_server.openai_base_url`` / ``llm_server.anthropic_base_url``, script
    it with ``llm_server.add_rule(...)`` and assert on ``llm_server.requests``.
    """
    _llmassert_server.reset()
    yield _llmassert_server
    _llmassert_server.reset()
