"""Fetching many requests concurrently on a background event loop, in the order given, within
each model's in-flight limit, while the caller consumes the results in that order. An urgent
job (one an item is waiting for and that was not queued ahead) starts before the queued ones.

Each job is one ``Model.acomplete`` call; its result (a response or the exception the call
raised, exactly as an in-item call raises it) lands in a :class:`concurrent.futures.Future`.
:meth:`Prefetcher.close` cancels whatever has not finished: cancelled calls store nothing
(record & replay writes a recording only once a whole answer has arrived).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from llmassert._models._binding import deferred_warnings
from llmassert._models._model import Model, Prompt
from llmassert._response import Response

__all__ = ["CONTEXT", "Job", "Prefetcher"]

#: The record & replay context (test id) of the call being made by a prefetch task; models
#: built for case files read it first (each asyncio task has its own copy).
CONTEXT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "llmassert_case_context", default=None
)


@dataclass
class Job:
    """One call to make: ``model.acomplete(prompt, **params)`` under ``context``."""

    model: Model
    prompt: Prompt
    params: dict[str, Any]
    context: str
    #: The in-flight limit of this job's queue (the model's ``concurrency``).
    limit: int
    #: Starts before every queued job that is not urgent.
    urgent: bool = False
    future: Future[Response] = field(default_factory=Future)
    #: Warnings the call gave (a bound template's mismatch in warn mode), for the test that
    #: takes the response to warn them (see :func:`Job.warn`).
    warnings: list[Warning] = field(default_factory=list)

    def warn(self) -> None:
        """Warn the call's warnings in the caller's thread (the test that takes the response),
        as an in-item call would have."""
        import warnings

        for warning in self.warnings:
            warnings.warn(warning, stacklevel=3)
        self.warnings.clear()


class Prefetcher:
    """Runs jobs on its own thread and event loop: one queue per model, at most ``limit`` of a
    queue's jobs in flight, started in submission order."""

    def __init__(self, on_done: Callable[[Job], None] | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._queues: dict[int, asyncio.PriorityQueue[tuple[int, int, Job | None]]] = {}
        self._order = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_done = on_done
        self._closed = False
        from llmassert._models._clients import AsyncClientScope

        self._scope = AsyncClientScope()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="llmassert-prefetch", daemon=True)
        self._thread.start()
        self._ready.wait()
        #: Jobs submitted, started, finished, and the most in flight at once (for the progress
        #: display).
        self.submitted = 0
        self.started = 0
        self.finished = 0
        self.in_flight = 0
        self.peak_in_flight = 0

    # -- the loop thread ----------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    async def _worker(self, queue: asyncio.PriorityQueue[tuple[int, int, Job | None]]) -> None:
        from llmassert._models._clients import set_scope

        set_scope(self._scope)  # this task's context: its calls share the loop's clients
        while True:
            _, _, job = await queue.get()
            if job is None:
                return
            await self._one(job)

    async def _one(self, job: Job) -> None:
        if job.future.done() or not job.future.set_running_or_notify_cancel():
            return
        token = CONTEXT.set(job.context)
        deferring = deferred_warnings.set(job.warnings)  # this task's own context
        self.started += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            response = await job.model.acomplete(job.prompt, **job.params)
        except asyncio.CancelledError:
            _set_exception(job, asyncio.CancelledError("the prefetch was cancelled"))
            raise
        except BaseException as exc:
            _set_exception(job, exc)
        else:
            job.future.set_result(response)
        finally:
            self.in_flight -= 1
            self.finished += 1
            CONTEXT.reset(token)
            deferred_warnings.reset(deferring)
            if self._on_done is not None:
                self._on_done(job)

    def _submit(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            key = id(job.model)
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = asyncio.PriorityQueue()
                for _ in range(max(job.limit, 1)):
                    task = self._loop.create_task(self._worker(queue))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            queue.put_nowait((0 if job.urgent else 1, next(self._order), job))

    async def _shutdown(self, cancel: bool) -> None:
        for queue in self._queues.values():
            if cancel:
                while not queue.empty():
                    _, _, pending = queue.get_nowait()
                    if pending is not None:
                        pending.future.cancel()
            for _ in range(len(self._tasks) or 1):
                queue.put_nowait((2, next(self._order), None))
        if cancel:
            for task in list(self._tasks):
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._scope.aclose()

    # -- the caller's side --------------------------------------------------------------
    def submit(self, jobs: Sequence[Job]) -> None:
        """Queue ``jobs`` (started in this order as their model's slots free up)."""
        if self._closed:
            raise RuntimeError("the prefetcher is closed")
        if jobs:
            self.submitted += len(jobs)
            self._loop.call_soon_threadsafe(self._submit, list(jobs))

    def close(self, *, cancel: bool = True) -> None:
        """Stop: with ``cancel``, calls in flight are cancelled and queued ones never start;
        returns once the loop thread has ended (nothing is left in flight)."""
        if self._closed:
            return
        self._closed = True
        future = asyncio.run_coroutine_threadsafe(self._shutdown(cancel), self._loop)
        try:
            future.result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


def _set_exception(job: Job, exc: BaseException) -> None:
    if not job.future.done():
        job.future.set_exception(exc)
