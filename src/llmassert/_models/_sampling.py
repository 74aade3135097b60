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
    "SAMPLE_STRIDE",
    "SampleScope",
    "current_sample",
    "note_response",
    "occurrence_of",
    "sample_scope",
    "split_context",
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


#: Room for each level of a sample path in an occurrence number (see :func:`occurrence_of`).
SAMPLE_STRIDE = 1_000_000


def split_context(context: str) -> tuple[str, tuple[int, ...]]:
    """``"t.py::test#sample=3.2"`` -> ``("t.py::test", (3, 2))``; no sample -> ``(context, ())``.
    A malformed sample path counts as no sample."""
    test, mark, path = context.partition(SAMPLE_MARK)
    if not mark:
        return context, ()
    try:
        indices = tuple(int(part) for part in path.split("."))
    except ValueError:
        return context, ()
    if any(index < 1 for index in indices):
        return context, ()
    return test, indices


def occurrence_of(indices: tuple[int, ...], own: int) -> int:
    """The occurrence number of the ``own``-th (0-based) identical call *of one sample*: the one
    numbering that record & replay uses for samples.

    Each sample numbers its own calls, so concurrent samples never take each other's numbers. A
    sample's first call keeps the number a one-call sample always had: sample ``k`` -> ``k - 1``
    (stores recorded before samples were concurrent replay unchanged); its later identical calls
    take numbers no other sample uses: ``(k - 1) + own * 1_000_000``. A nested sample path
    (``model.sample`` inside a repeated test, ``(k, j)``) adds ``j * 1_000_000 ** 2`` (and so on
    for deeper levels), so it never meets a top-level sample's numbers. Outside a sample
    (``indices == ()``) it is ``own``."""
    if not indices:
        return own
    number = (indices[0] - 1) + own * SAMPLE_STRIDE
    scale = SAMPLE_STRIDE * SAMPLE_STRIDE
    for index in indices[1:]:
        number += index * scale
        scale *= SAMPLE_STRIDE
    return number
