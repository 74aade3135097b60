"""Which test a model call belongs to, for models that do not say.

For the length of a run the running test (or sample) is the default context of every model
call, so a model a test builds itself with ``llmassert.model(...)`` is numbered like the
fixtures' models (record & replay, the demo models). The demo models' counters of a test are
dropped when it starts and ends, so its answers never depend on what ran before it in the
same process (pytester runs repeat node ids).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from llmassert._plugins.state import get_session

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

__all__: list[str] = []

_PREVIOUS_KEY: pytest.StashKey[Callable[[], str | None] | None] = pytest.StashKey()


def pytest_configure(config: pytest.Config) -> None:
    from llmassert._models._occurrence import set_default_context

    session = get_session(config)
    config.stash[_PREVIOUS_KEY] = set_default_context(lambda: session.current_test)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _PREVIOUS_KEY in config.stash:  # nested (pytester) runs restore the outer run's
        from llmassert._models._occurrence import set_default_context

        set_default_context(config.stash[_PREVIOUS_KEY])


def _forget_demo(nodeid: str) -> None:
    demo = sys.modules.get("llmassert._models._demo")  # never imported just for this
    if demo is not None:
        demo.forget_test(nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    _forget_demo(item.nodeid)
    try:
        return (yield)
    finally:
        _forget_demo(item.nodeid)
