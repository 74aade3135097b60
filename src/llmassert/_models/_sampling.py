"""Which sample a call belongs to, whatever thread or task runs it.

A repeated test (``@pytest.mark.llm(repeat=N)``) and :meth:`Model.sample` run each sample in a
*sample scope*. The scope is a :class:`contextvars.ContextVar`, so it follows the sample into
the worker thread or event-loop task that runs it and never leaks into a concurrent sibling.
A call made inside a scope carries the context ``<test id>#sample=<path>`` (``path`` is
``3`` for the third sample, ``3.2`` for the second response of ``model.sample`` inside it),
which record & replay uses to number each sample's calls on their own. The scope also keeps
the responses of its calls (for per-sample reports: tokens, cost, replayed or live).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmassert._models._occurrence import SAMPLE_MARK

if TYPE_CHECKING:
    from llmassert._response import Response

__all__ = [
    "SAMPLE_MARK",
    "SampleScope",
    "current_sample",
    "note_response",
    "sample_scope",
    "with_sample",
]



@dataclass
class SampleScope:
    """One running sample: its path and the responses of the calls made in it."""

    path: str
    parent: SampleScope | None = None
    responses: list[Response] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, response: Response) -> None:
        with self._lock:  # model.sample inside a sample adds from several threads
            self.responses.append(response)


_SCOPE: contextvars.ContextVar[SampleScope | None] = contextvars.ContextVar(
    "llmassert_sample", default=None
)


def current_sample() -> str | None:
    """The running sample's path (``"3"``, ``"3.2"``), ``None`` outside any sample."""
    scope = _SCOPE.get()
    return None if scope is None else scope.path


@contextmanager
def sample_scope(index: int) -> Iterator[SampleScope]:
    """Run the block as sample ``index`` (1-based), nested under the running sample if any."""
    outer = _SCOPE.get()
    path = str(index) if outer is None else f"{outer.path}.{index}"
    scope = SampleScope(path, outer)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def note_response(response: Response) -> Response:
    """Keep ``response`` in the running sample scope and the scopes around it; returns it."""
    scope = _SCOPE.get()
    while scope is not None:
        scope.add(response)
        scope = scope.parent
    return response


def with_sample(context: str | None) -> str | None:
    """``context`` tagged with the running sample: ``<context>#sample=<path>``. A context that
    already names a sample is kept; outside a sample ``context`` is returned unchanged (a
    ``None`` context inside a sample becomes ``#sample=<path>``, completed by the recorder)."""
    path = current_sample()
    if path is None or (context is not None and SAMPLE_MARK in context):
        return context
    return f"{context or ''}{SAMPLE_MARK}{path}"
