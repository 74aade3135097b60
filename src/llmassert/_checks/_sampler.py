"""Repeated samples and their pass-rate verdict, for any caller: ``@pytest.mark.llm`` and case
files (``repeat:`` in ``llm_*.yaml``) share this one sampler, so both draw samples the same way
(concurrently, at most ``concurrency`` at once), know every verdict mode (``rate``, ``strict``,
``pass^k``, ``pass@k``), stop early the same way and record one ``llm_pass_rate`` property.

A sample is a callable run inside a sample scope (:func:`llmassert._models._sampling.
sample_scope`): an ``AssertionError`` it raises is a failed sample; any other exception (of the
``fatal`` kinds) fails the whole run of samples: no new sample starts, the running ones are
awaited, and the error of the earliest such sample is raised by :meth:`Sampler.conclude`.

No pytest here: the plugins add what belongs to pytest items (where a failure happened, the
report sections).
"""

from __future__ import annotations

import contextvars
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmassert._errors import ConfigError

if TYPE_CHECKING:
    from concurrent.futures import Future

    from llmassert._checks._passrate import PassRate
    from llmassert._models._sampling import SampleScope

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MARKER_ARGS",
    "USER_PROPERTY",
    "Conclusion",
    "RepeatPlan",
    "Sampler",
    "parse_plan",
    "run_tasks",
    "run_threads",
    "sample_concurrency",
]

#: The keyword arguments ``@pytest.mark.llm`` accepts (and the case-file keys), with defaults.
MARKER_ARGS: dict[str, object] = {
    "repeat": 1,
    "pass_rate": 1.0,
    "confidence": 0.95,
    "verdict": "rate",
    "concurrency": None,
    "early_stop": False,
}
#: The key of the verdict in a pytest item's ``user_properties``.
USER_PROPERTY = "llm_pass_rate"
#: Samples at once when neither the plan nor ``--llm-concurrency`` says (the endpoints'
#: default in-flight limit).
DEFAULT_CONCURRENCY = 8
#: How many failing samples a failure message lists.
MAX_SAMPLES_LISTED = 5


@dataclass(frozen=True)
class RepeatPlan:
    """Validated sampling arguments: ``@pytest.mark.llm(...)`` or a case's keys."""

    repeat: int = 1
    pass_rate: float = 1.0
    confidence: float = 0.95
    verdict: str = "rate"
    #: ``None``: ``--llm-concurrency`` / ``llm_concurrency``, else the default (8).
    concurrency: int | None = None
    early_stop: bool = False

    def describe(self) -> str:
        text = f"llm(repeat={self.repeat}"
        if self.verdict in ("rate", "strict"):
            text += f", pass_rate={self.pass_rate:g}"
        if self.confidence != MARKER_ARGS["confidence"]:
            text += f", confidence={self.confidence:g}"
        if self.verdict != "rate":
            text += f", verdict={self.verdict!r}"
        if self.early_stop:
            text += ", early_stop=True"
        return text + ")"

    def needed(self) -> int:
        """How many of the ``repeat`` samples must pass for the verdict to pass."""
        from llmassert._checks._passrate import summarize

        if self.verdict == "pass^k":
            return self.repeat
        if self.verdict == "pass@k":
            return 1
        for passes in range(self.repeat + 1):
            if summarize(
                passes,
                self.repeat,
                self.pass_rate,
                confidence=self.confidence,
                verdict=self.verdict,
            ):
                return passes
        return self.repeat + 1  # unreachable: parse_plan refuses such plans


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_plan(kwargs: Mapping[str, Any], args: tuple[Any, ...] = ()) -> RepeatPlan:
    """Validate sampling arguments; raises ``ConfigError`` (a ``UsageError``) naming the
    argument and the valid range."""
    from llmassert._checks._intervals import VERDICTS
    from llmassert._checks._passrate import strict_unreachable

    valid = ", ".join(MARKER_ARGS)
    if args:
        raise ConfigError(
            f"takes keyword arguments only ({valid}), got positional {args!r}; "
            "write e.g. @pytest.mark.llm(repeat=10, pass_rate=0.8)"
        )
    unknown = sorted(set(kwargs) - set(MARKER_ARGS))
    if unknown:
        raise ConfigError(
            f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"valid arguments: {valid}"
        )
    repeat = kwargs.get("repeat", 1)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise ConfigError(f"repeat must be an integer >= 1, got {repeat!r}")
    verdict = kwargs.get("verdict", "rate")
    if verdict not in VERDICTS:
        raise ConfigError(
            f"verdict must be one of {', '.join(map(repr, VERDICTS))}, got {verdict!r}"
        )
    if verdict in ("pass^k", "pass@k") and "pass_rate" in kwargs:
        decides = "every sample must pass" if verdict == "pass^k" else "one passing sample"
        raise ConfigError(
            f"pass_rate has no meaning with verdict={verdict!r} ({decides} decides); leave it out"
        )
    rate = kwargs.get("pass_rate", 1.0)
    if not _is_number(rate) or not 0.0 < rate <= 1.0:
        raise ConfigError(
            f"pass_rate must be a fraction with 0 < pass_rate <= 1, got {rate!r} (e.g. 0.8 for 80%)"
        )
    confidence = kwargs.get("confidence", 0.95)
    if not _is_number(confidence) or not 0.0 < confidence < 1.0:
        raise ConfigError(
            f"confidence must be a fraction with 0 < confidence < 1, got {confidence!r} (e.g. 0.95)"
        )
    concurrency = kwargs.get("concurrency")
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1
    ):
        raise ConfigError(
            f"concurrency must be an integer >= 1, got {concurrency!r} (1 runs the samples one "
            "after another)"
        )
    early_stop = kwargs.get("early_stop", False)
    if not isinstance(early_stop, bool):
        raise ConfigError(f"early_stop must be True or False, got {early_stop!r}")
    if verdict == "strict":
        problem = strict_unreachable(repeat, float(rate), float(confidence), noun="repeat")
        if problem is not None:
            raise ConfigError(problem)
    return RepeatPlan(repeat, float(rate), float(confidence), str(verdict), concurrency, early_stop)


def sample_concurrency(plan: RepeatPlan, configured: int | None) -> int:
    """How many samples run at once: the plan's ``concurrency``, else ``configured``
    (``--llm-concurrency`` / ``llm_concurrency``), else :data:`DEFAULT_CONCURRENCY`; never more
    than ``repeat``."""
    if plan.concurrency is not None:
        return min(plan.concurrency, plan.repeat)
    return max(1, min(configured or DEFAULT_CONCURRENCY, plan.repeat))


def _note(exc: BaseException, text: str) -> None:
    if sys.version_info >= (3, 11):
        exc.add_note(text)


@dataclass
class _Settled:
    """The verdict is known after the first ``drawn`` samples (early stop)."""

    drawn: int
    why: str


@dataclass
class Conclusion:
    """The verdict of a run of samples: the summary, the ``llm_pass_rate`` property and what a
    failure message lists."""

    plan: RepeatPlan
    summary: PassRate
    #: The ``llm_pass_rate`` property (one shape for every caller).
    record: dict[str, Any]
    #: The failed samples counted, in sample order: ``(index, the AssertionError)``.
    failures: list[tuple[int, AssertionError]]
    #: Why and when the samples stopped early (``None`` when all were drawn).
    stop_line: str | None

    def __bool__(self) -> bool:
        return bool(self.summary)

    def verdict_line(self) -> str:
        summary = self.summary
        return (
            f"{self.plan.describe()}: {summary.passed}/{summary.total} samples passed "
            f"({summary.rate:.0%}, {summary.interval()}), {summary.requirement()}"
        )

    def message(
        self,
        describe: Callable[[int, AssertionError], list[str]],
        *,
        head: str = "",
        context: list[str] | tuple[str, ...] = (),
    ) -> str:
        """The failure message: ``head`` + the verdict line, the early-stop line, ``context``
        lines, then up to five failed samples; ``describe(index, failure)`` gives a sample's
        lines (the first follows ``  sample N``, the others are indented below it)."""
        lines = [head + self.verdict_line()]
        if self.stop_line is not None:
            lines.append(self.stop_line)
        lines += context
        failures = self.failures
        lines.append(f"failed samples ({len(failures)}):")
        for index, failure in failures[:MAX_SAMPLES_LISTED]:
            first, *rest = describe(index, failure) or [""]
            lines.append(f"  sample {index}{first}")
            lines += [f"    {line}" for line in rest]
        if len(failures) > MAX_SAMPLES_LISTED:
            lines.append(f"  ... and {len(failures) - MAX_SAMPLES_LISTED} more failed samples")
        return "\n".join(lines)


class Sampler:
    """Runs one plan's samples (from any thread or task) and concludes the verdict."""

    def __init__(
        self,
        plan: RepeatPlan,
        concurrency: int,
        *,
        fatal: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        self.plan = plan
        self.concurrency = concurrency
        self.needed = plan.needed()
        self._fatal = fatal
        self._lock = threading.Lock()
        self._launched = 0
        self.outcomes: dict[int, bool] = {}
        self.failures: dict[int, AssertionError] = {}
        self.errors: dict[int, BaseException] = {}
        self.records: dict[int, dict[str, Any]] = {}

    # -- scheduling ------------------------------------------------------------------------

    def next_index(self) -> int | None:
        """The next sample to start, ``None`` when no more should start (all started, a sample
        raised, or - with early stop - the verdict is settled)."""
        with self._lock:
            if self._launched >= self.plan.repeat or self.errors:
                return None
            if self.plan.early_stop and self._settled() is not None:
                return None
            self._launched += 1
            return self._launched

    def _settled(self) -> _Settled | None:
        """Whether the samples so far, in sample order, settle the verdict (caller holds the
        lock, or every sample has finished)."""
        repeat, needed = self.plan.repeat, self.needed
        passed = 0
        for index in range(1, repeat + 1):
            if index in self.errors or index not in self.outcomes:
                return None
            passed += self.outcomes[index]
            failed = index - passed
            if passed >= needed:
                return _Settled(index, f"{passed} passed, {needed} of {repeat} needed")
            if passed + (repeat - index) < needed:
                return _Settled(
                    index,
                    f"{failed} failed, so at most {repeat - failed} of {repeat} can pass "
                    f"({needed} needed)",
                )
        return None

    # -- one sample ------------------------------------------------------------------------

    @contextmanager
    def sample(self, index: int) -> Iterator[SampleScope]:
        """Run the block as sample ``index``: its outcome, wall time and calls are kept."""
        from llmassert._models._sampling import sample_scope
        from llmassert._observe import observed_sample

        start = time.perf_counter()
        with sample_scope(index) as scope, observed_sample(index):
            try:
                yield scope
            except AssertionError as exc:
                self._done(index, False, scope, start, failure=exc)
            except self._fatal as exc:
                _note(exc, f"(raised in sample {index} of {self.plan.describe()})")
                self._done(index, None, scope, start, error=exc)
            else:
                self._done(index, True, scope, start)

    def _done(
        self,
        index: int,
        passed: bool | None,
        scope: SampleScope,
        start: float,
        *,
        failure: AssertionError | None = None,
        error: BaseException | None = None,
    ) -> None:
        responses = list(scope.responses)
        tokens = [r.usage.total_tokens for r in responses if r.usage.total_tokens is not None]
        costs = [r.cost_usd for r in responses if r.cost_usd is not None]
        record = {
            "index": index,
            "outcome": "passed" if passed else "failed" if passed is False else "error",
            "duration_s": round(time.perf_counter() - start, 6),
            "calls": len(responses),
            "replayed": sum(1 for r in responses if r.replayed),
            "live": sum(1 for r in responses if not r.replayed),
            "tokens": sum(tokens) if tokens else None,
            "cost_usd": sum(costs) if costs else None,
        }
        with self._lock:
            self.records[index] = record
            if error is not None:
                self.errors[index] = error
                return
            self.outcomes[index] = bool(passed)
            if failure is not None:
                self.failures[index] = failure

    def run_sync(self, index: int, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        with self.sample(index):
            func(**kwargs)

    async def run_async(self, index: int, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        with self.sample(index):
            await func(**kwargs)

    # -- the verdict -----------------------------------------------------------------------

    def conclude(self) -> Conclusion:
        """The verdict of the samples drawn; raises the error of the earliest sample that
        raised one (when the verdict needed that sample)."""
        __tracebackhide__ = True
        from llmassert._checks._passrate import summarize

        plan = self.plan
        settled = self._settled() if plan.early_stop else None
        drawn = settled.drawn if settled is not None else self._launched
        for index in range(1, drawn + 1):
            if index in self.errors:
                raise self.errors[index]
        counted = range(1, drawn + 1)
        passed = sum(self.outcomes[i] for i in counted)
        failures = [(i, self.failures[i]) for i in counted if i in self.failures]
        summary = summarize(
            passed,
            drawn,
            {"pass^k": 1.0, "pass@k": 0.0}.get(plan.verdict, plan.pass_rate),
            confidence=plan.confidence,
            verdict=plan.verdict,
            planned=plan.repeat,
        )
        samples = []
        for index in sorted(self.records):
            record = dict(self.records[index])
            if index > drawn:
                record["outcome"] = "not counted"
            samples.append(record)
        stopped = settled is not None and drawn < plan.repeat
        record = {
            "repeat": plan.repeat,
            "verdict": plan.verdict,
            "passed": summary.passed,
            "total": summary.total,
            "rate": summary.rate,
            "required": summary.required,
            "confidence": summary.confidence,
            "ci_low": summary.low,
            "ci_high": summary.high,
            "failed_samples": [index for index, _ in failures],
            "concurrency": self.concurrency,
            "stopped_early": settled.why if settled is not None and stopped else None,
            "samples": samples,
        }
        stop_line = None
        if settled is not None and stopped:
            stop_line = f"stopped early after {drawn} of {plan.repeat} samples: {settled.why}"
            late = len(self.records) - drawn
            if late > 0:
                stop_line += f" ({late} more already running were awaited, not counted)"
        return Conclusion(plan, summary, record, failures, stop_line)


def run_threads(sampler: Sampler, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Samples on worker threads, at most ``sampler.concurrency`` at once (one after another in
    this thread when it is 1). On Ctrl-C (or any exception here) samples not started are
    dropped and the running ones are awaited: no thread outlives the call."""
    if sampler.concurrency == 1:
        while (index := sampler.next_index()) is not None:
            sampler.run_sync(index, func, kwargs)
        return
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    pool = ThreadPoolExecutor(sampler.concurrency, thread_name_prefix="llmassert-sample")
    running: set[Future[None]] = set()
    try:
        while True:
            while len(running) < sampler.concurrency:
                index = sampler.next_index()
                if index is None:
                    break
                context = contextvars.copy_context()
                running.add(pool.submit(context.run, sampler.run_sync, index, func, kwargs))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()  # only what the sample did not catch: KeyboardInterrupt, ...
    finally:
        for future in running:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


async def run_tasks(sampler: Sampler, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Samples as tasks on the running event loop (asyncio or trio, through anyio), at most
    ``sampler.concurrency`` at once (awaited one after another when it is 1). A cancelled
    caller cancels and awaits them all."""
    if sampler.concurrency == 1:
        while (index := sampler.next_index()) is not None:
            await sampler.run_async(index, func, kwargs)
        return
    import anyio

    slots = anyio.Semaphore(sampler.concurrency)

    async def one(index: int) -> None:
        try:
            await sampler.run_async(index, func, kwargs)
        finally:
            slots.release()

    async with anyio.create_task_group() as group:
        while True:
            await slots.acquire()
            index = sampler.next_index()
            if index is None:
                slots.release()
                break
            group.start_soon(one, index)
