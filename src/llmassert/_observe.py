"""What a running test did, for run reports: its model calls and check results, per sample.

A low layer (it imports nothing of llmassert's at run time), so the model layer and the checks
can note into it without knowing about pytest or reports. The reports plugin opens a *test
observation* around each test's call phase (:func:`observing`); a repeated test's sampler opens
one *sample* per sample inside it (:func:`observed_sample`). Both are context variables, so a
note made in a worker thread or task of a sample lands in that sample, and calls made where no
test is observed (a background prefetch, plain library use) note nothing. A wider-scoped
fixture's set-up is observed on its own (its calls are the report's unattributed calls).

Noting is cheap by design: it keeps references to the objects (the response, the prompt, the
check result); turning them into report records (redaction, truncation) happens once, when the
test's report entry is built.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NotedCall",
    "SampleNotes",
    "TestObservation",
    "current_observation",
    "note_call",
    "note_check",
    "observed_sample",
    "observing",
]


@dataclass
class NotedCall:
    """One model call: its response and the prompt it was given (a string or messages)."""

    response: Any
    prompt: Any
    system: str | None = None


@dataclass
class SampleNotes:
    """What one sample did, in order."""

    index: int
    calls: list[NotedCall] = field(default_factory=list)
    checks: list[Any] = field(default_factory=list)


@dataclass
class TestObservation:
    """What one test did: its samples (a test with one sample has sample 1)."""

    samples: dict[int, SampleNotes] = field(default_factory=dict)

    def sample(self, index: int) -> SampleNotes:
        found = self.samples.get(index)
        if found is None:
            # setdefault: two threads creating the same sample keep one object
            found = self.samples.setdefault(index, SampleNotes(index))
        return found


_TEST: contextvars.ContextVar[TestObservation | None] = contextvars.ContextVar(
    "llmassert_observed_test", default=None
)
_SAMPLE: contextvars.ContextVar[SampleNotes | None] = contextvars.ContextVar(
    "llmassert_observed_sample", default=None
)


def current_observation() -> TestObservation | None:
    """The observation of the running test, ``None`` outside one."""
    return _TEST.get()


@contextmanager
def observing(observation: TestObservation | None = None) -> Iterator[TestObservation]:
    """Observe the block as one test (as ``observation``: a test's setup and call phases note
    into the same one)."""
    observation = TestObservation() if observation is None else observation
    token = _TEST.set(observation)
    sample_token = _SAMPLE.set(None)
    try:
        yield observation
    finally:
        _SAMPLE.reset(sample_token)
        _TEST.reset(token)


@contextmanager
def observed_sample(index: int) -> Iterator[SampleNotes | None]:
    """Run the block as sample ``index`` of the observed test (nothing outside a test)."""
    observation = _TEST.get()
    if observation is None:
        yield None
        return
    notes = observation.sample(index)
    token = _SAMPLE.set(notes)
    try:
        yield notes
    finally:
        _SAMPLE.reset(token)


def _notes() -> SampleNotes | None:
    notes = _SAMPLE.get()
    if notes is not None:
        return notes
    observation = _TEST.get()
    return None if observation is None else observation.sample(1)


def note_call(response: Any, prompt: Any, system: str | None = None) -> None:
    """Note a model call of the running test (a no-op outside one)."""
    notes = _notes()
    if notes is not None:
        notes.calls.append(NotedCall(response, prompt, system))


def note_check(result: Any) -> None:
    """Note a check result (a :class:`~llmassert._checks._result.CheckResult`)."""
    notes = _notes()
    if notes is not None:
        notes.checks.append(result)
