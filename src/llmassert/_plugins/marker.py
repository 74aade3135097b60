"""``@pytest.mark.llm(repeat=N, pass_rate=P, ...)``: repeated sampling with a pass-rate verdict.

Fixtures are set up once per test item; the test body runs ``repeat`` times, as concurrent
samples (worker threads for a sync test, tasks on the test's own event loop for an async one;
``concurrency=1`` runs them one after another in the test's thread). An ``AssertionError`` in a
sample (``LLMAssertionError`` included) is a failed sample; any other exception fails the whole
test (a usage, provider or recording error is not a model failure): no new sample starts, the
running ones are awaited, and the error of the earliest such sample is raised.

The verdict (``verdict=``): ``"rate"`` (the observed rate reaches ``pass_rate``; a Wilson
interval is reported), ``"strict"`` (the exact Clopper-Pearson lower bound at ``confidence``
reaches it), ``"pass^k"`` (every sample passes), ``"pass@k"`` (one does)::

    llm(repeat=10, pass_rate=0.8): 7/10 samples passed (70%, 95% CI 40%-89%), required >= 80%

``early_stop=True`` stops drawing samples once the verdict cannot change; only the samples up to
the one that settled it count (in sample order), so the verdict is the same whatever order
concurrent samples finish in, live or replayed.

Each sample runs in a sample scope (:mod:`llmassert._models._sampling`): its calls carry the
record & replay context ``<nodeid>#sample=<n>``. The verdict and each sample's outcome, wall
time, tokens, cost and replayed / live calls are kept in ``item.user_properties`` as
``("llm_pass_rate", {...})`` for reports (xdist carries them to the controller).
"""

from __future__ import annotations

import contextvars
import inspect
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from llmassert._errors import ConfigError, LLMAssertionError
from llmassert._plugins.state import get_session

if TYPE_CHECKING:
    from collections.abc import Generator
    from concurrent.futures import Future

    from llmassert._checks._passrate import PassRate
    from llmassert._models._sampling import SampleScope

__all__ = ["MARKER_ARGS", "USER_PROPERTY", "RepeatPlan", "parse_marker"]

#: The keyword arguments ``@pytest.mark.llm`` accepts, with their defaults.
MARKER_ARGS: dict[str, object] = {
    "repeat": 1,
    "pass_rate": 1.0,
    "confidence": 0.95,
    "verdict": "rate",
    "concurrency": None,
    "early_stop": False,
}
#: How many failing samples the failure message lists, and how many lines of each.
MAX_SAMPLES_LISTED = 5
MAX_LINES_PER_SAMPLE = 6
MAX_LINE_CHARS = 300
#: The key of the verdict in ``item.user_properties``.
USER_PROPERTY = "llm_pass_rate"

_PLAN_KEY = pytest.StashKey["RepeatPlan | None"]()
_VERDICT_KEY = pytest.StashKey["PassRate"]()


@dataclass(frozen=True)
class RepeatPlan:
    """The validated arguments of one test's ``@pytest.mark.llm``."""

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
        return self.repeat + 1  # unreachable: parse_marker refuses such plans


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_marker(marker: pytest.Mark) -> RepeatPlan:
    """Validate ``@pytest.mark.llm(...)``; raises ``ConfigError`` (a ``UsageError``) naming the
    argument and the valid range."""
    from llmassert._checks._intervals import VERDICTS
    from llmassert._checks._passrate import strict_unreachable

    valid = ", ".join(MARKER_ARGS)
    if marker.args:
        raise ConfigError(
            f"takes keyword arguments only ({valid}), got positional {marker.args!r}; "
            "write e.g. @pytest.mark.llm(repeat=10, pass_rate=0.8)"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_ARGS))
    if unknown:
        raise ConfigError(
            f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"valid arguments: {valid}"
        )
    repeat = marker.kwargs.get("repeat", 1)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise ConfigError(f"repeat must be an integer >= 1, got {repeat!r}")
    verdict = marker.kwargs.get("verdict", "rate")
    if verdict not in VERDICTS:
        raise ConfigError(
            f"verdict must be one of {', '.join(map(repr, VERDICTS))}, got {verdict!r}"
        )
    if verdict in ("pass^k", "pass@k") and "pass_rate" in marker.kwargs:
        decides = "every sample must pass" if verdict == "pass^k" else "one passing sample"
        raise ConfigError(
            f"pass_rate has no meaning with verdict={verdict!r} ({decides} decides); leave it out"
        )
    rate = marker.kwargs.get("pass_rate", 1.0)
    if not _is_number(rate) or not 0.0 < rate <= 1.0:
        raise ConfigError(
            f"pass_rate must be a fraction with 0 < pass_rate <= 1, got {rate!r} (e.g. 0.8 for 80%)"
        )
    confidence = marker.kwargs.get("confidence", 0.95)
    if not _is_number(confidence) or not 0.0 < confidence < 1.0:
        raise ConfigError(
            f"confidence must be a fraction with 0 < confidence < 1, got {confidence!r} (e.g. 0.95)"
        )
    concurrency = marker.kwargs.get("concurrency")
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1
    ):
        raise ConfigError(
            f"concurrency must be an integer >= 1, got {concurrency!r} (1 runs the samples one "
            "after another)"
        )
    early_stop = marker.kwargs.get("early_stop", False)
    if not isinstance(early_stop, bool):
        raise ConfigError(f"early_stop must be True or False, got {early_stop!r}")
    if verdict == "strict":
        problem = strict_unreachable(repeat, float(rate), float(confidence), noun="repeat")
        if problem is not None:
            raise ConfigError(problem)
    return RepeatPlan(repeat, float(rate), float(confidence), str(verdict), concurrency, early_stop)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llm(repeat=N, pass_rate=P, confidence=C, verdict='rate', concurrency=None, "
        "early_stop=False): run the test body N times as concurrent samples (fixtures set up "
        "once) and pass when at least a fraction P of the samples pass (verdict 'rate'), when the "
        "exact C interval's lower bound reaches P ('strict'), when all pass ('pass^k') or one "
        "does ('pass@k').",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("llm")
    if marker is None:
        return
    item.stash[_PLAN_KEY] = None
    try:
        plan = parse_marker(marker)
    except ConfigError as exc:
        problem = str(exc)
    else:
        item.stash[_PLAN_KEY] = plan
        return
    pytest.fail(f"invalid @pytest.mark.llm: {problem}", pytrace=False)


def _first_lines(exc: BaseException) -> list[str]:
    text = str(exc) or type(exc).__name__
    lines = text.splitlines() or [text]
    shown = [
        line if len(line) <= MAX_LINE_CHARS else line[: MAX_LINE_CHARS - 3] + "..."
        for line in lines[:MAX_LINES_PER_SAMPLE]
    ]
    if len(lines) > MAX_LINES_PER_SAMPLE:
        shown.append(f"... ({len(lines) - MAX_LINES_PER_SAMPLE} more lines)")
    return shown


def _where(exc: BaseException, item: pytest.Item) -> str:
    """``file:line`` of the failing line in the test module (else the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    path = str(item.path)
    frame = next((f for f in reversed(frames) if f.filename == path), frames[-1])
    name = item.path.name if frame.filename == path else frame.filename
    return f" at {name}:{frame.lineno}"


def _verdict_line(plan: RepeatPlan, summary: PassRate) -> str:
    return (
        f"{plan.describe()}: {summary.passed}/{summary.total} samples passed "
        f"({summary.rate:.0%}, {summary.interval()}), {summary.requirement()}"
    )


def _note(exc: BaseException, text: str) -> None:
    if sys.version_info >= (3, 11):
        exc.add_note(text)


def _sample_concurrency(item: pytest.Item, plan: RepeatPlan) -> int:
    """How many samples run at once: the marker's ``concurrency=``, else ``--llm-concurrency``
    / ``llm_concurrency``, else the endpoints' default in-flight limit (8). A test through the
    recording proxy runs its samples one after another: the proxy cannot tell them apart."""
    if "llm_proxy" in getattr(item, "fixturenames", ()):
        return 1
    if plan.concurrency is not None:
        return min(plan.concurrency, plan.repeat)
    configured = get_session(item.config).settings.concurrency
    if configured is None:
        from llmassert._models._endpoints import DEFAULT_MAX_CONCURRENCY

        configured = DEFAULT_MAX_CONCURRENCY
    return max(1, min(configured, plan.repeat))


#: Exceptions that end a sample's test at once, whatever the verdict (pytest.skip/fail too).
_FATAL = (Exception, pytest.fail.Exception, pytest.skip.Exception)


@dataclass
class _Settled:
    """The verdict is known after the first ``drawn`` samples (early stop)."""

    drawn: int
    why: str


class _Sampler:
    """Runs one test's samples (from any thread or task) and gives the verdict."""

    def __init__(self, item: pytest.Function, plan: RepeatPlan, concurrency: int) -> None:
        self.item = item
        self.plan = plan
        self.concurrency = concurrency
        self.needed = plan.needed()
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
    def _sample(self, index: int) -> Iterator[None]:
        from llmassert._models._sampling import sample_scope
        from llmassert._observe import observed_sample

        start = time.perf_counter()
        with sample_scope(index) as scope, observed_sample(index):
            try:
                yield
            except AssertionError as exc:
                self._done(index, False, scope, start, failure=exc)
            except _FATAL as exc:
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
        with self._sample(index):
            func(**kwargs)

    async def run_async(self, index: int, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        with self._sample(index):
            await func(**kwargs)

    # -- the verdict -----------------------------------------------------------------------

    def verdict(self) -> None:
        """Record the verdict on the item; raise the error of the earliest sample that raised
        one (if the verdict needed it), or ``LLMAssertionError`` when the verdict fails."""
        __tracebackhide__ = True
        from llmassert._checks._passrate import summarize

        plan, item = self.plan, self.item
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
        item.stash[_VERDICT_KEY] = summary
        samples = []
        for index in sorted(self.records):
            record = dict(self.records[index])
            if index > drawn:
                record["outcome"] = "not counted"
            samples.append(record)
        item.user_properties.append(
            (
                USER_PROPERTY,
                {
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
                    "stopped_early": None
                    if settled is None or drawn == plan.repeat
                    else (settled.why),
                    "samples": samples,
                },
            )
        )
        stop_line = None
        if settled is not None and drawn < plan.repeat:
            stop_line = f"stopped early after {drawn} of {plan.repeat} samples: {settled.why}"
            late = len(self.records) - drawn
            if late > 0:
                stop_line += f" ({late} more already running were awaited, not counted)"
        if summary:
            if stop_line is not None:
                item.add_report_section("call", "llmassert", stop_line)
            return
        lines = [_verdict_line(plan, summary)]
        if stop_line is not None:
            lines.append(stop_line)
        lines.append(f"failed samples ({len(failures)}):")
        for index, failure in failures[:MAX_SAMPLES_LISTED]:
            first, *rest = _first_lines(failure)
            where = _where(failure, item)
            lines.append(f"  sample {index}{where}: {type(failure).__name__}: {first}")
            lines += [f"    {line}" for line in rest]
        if len(failures) > MAX_SAMPLES_LISTED:
            lines.append(f"  ... and {len(failures) - MAX_SAMPLES_LISTED} more failed samples")
        raise LLMAssertionError("\n".join(lines), result=summary)


def _run_threads(sampler: _Sampler, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Samples on worker threads, at most ``sampler.concurrency`` at once. On Ctrl-C (or any
    exception here) samples not started are dropped and the running ones are awaited: no
    thread outlives the test."""
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


async def _run_tasks(sampler: _Sampler, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Samples as tasks on the running event loop (asyncio or trio, through anyio), at most
    ``sampler.concurrency`` at once. A cancelled test cancels and awaits them all."""
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


def _repeating(func: Callable[..., Any], sampler: _Sampler) -> Callable[..., Any]:
    """``func`` run once per sample, then the verdict; async when ``func`` is."""
    if inspect.iscoroutinefunction(func):

        async def run_async(**kwargs: Any) -> None:
            __tracebackhide__ = True
            if sampler.concurrency == 1:
                while (index := sampler.next_index()) is not None:
                    await sampler.run_async(index, func, kwargs)
            else:
                await _run_tasks(sampler, func, kwargs)
            sampler.verdict()

        return run_async

    def run(**kwargs: Any) -> None:
        __tracebackhide__ = True
        if sampler.concurrency == 1:
            while (index := sampler.next_index()) is not None:
                sampler.run_sync(index, func, kwargs)
        else:
            _run_threads(sampler, func, kwargs)
        sampler.verdict()

    return run


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    """Swap the test function for a loop over its samples before whichever implementation runs
    it sees it (pytest's own; pytest-asyncio wraps ``item.obj`` in its runner inside
    ``runtest``, so it runs our coroutine function once on the test's loop; anyio awaits it)."""
    plan = item.stash.get(_PLAN_KEY, None)
    if plan is None or plan.repeat == 1 or not isinstance(item, pytest.Function):
        return (yield)  # no marker, or one sample: pytest runs the test as usual
    original = item.obj
    item.obj = _repeating(original, _Sampler(item, plan, _sample_concurrency(item, plan)))
    try:
        return (yield)
    finally:
        item.obj = original


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when != "call" or _VERDICT_KEY not in item.stash:
        return report
    excinfo = call.excinfo
    if (
        excinfo is not None
        and isinstance(excinfo.value, LLMAssertionError)
        and excinfo.value.result is item.stash[_VERDICT_KEY]
    ):
        # the verdict is the whole story: no traceback into this plugin
        report.longrepr = excinfo.getrepr(style="value")
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if report.when != "call" or not report.passed:
        return None
    for name, value in report.user_properties:
        if name == USER_PROPERTY and isinstance(value, dict):
            word = f"PASSED ({value['passed']}/{value['total']} samples"
            word += ", stopped early)" if value.get("stopped_early") else ")"
            return "passed", ".", (word, {"green": True})
    return None
