"""``@pytest.mark.llm(repeat=N, pass_rate=P, confidence=C)``: repeated sampling with a
pass-rate verdict.

Fixtures are set up once per test item; the test body runs ``repeat`` times. An
``AssertionError`` in a sample (``LLMAssertionError`` included) is a failed sample; any other
exception fails the whole test at once (a usage, provider or recording error is not a model
failure). The test passes when the observed pass rate is at least ``pass_rate``; the verdict
carries a Wilson score interval at ``confidence``::

    llm(repeat=10, pass_rate=0.8): 7/10 samples passed (70%, 95% CI 40%-89%), required >= 80%

Each sample runs with the record & replay context ``<nodeid>#sample=<n>``; samples share the
test's occurrence counter, so the k-th sample replays the k-th recorded answer. The verdict is
kept in ``item.user_properties`` as ``("llm_pass_rate", {...})`` for reports.
"""

from __future__ import annotations

import inspect
import sys
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

    from llmassert._checks._passrate import PassRate

__all__ = ["MARKER_ARGS", "USER_PROPERTY", "RepeatPlan", "parse_marker"]

#: The keyword arguments ``@pytest.mark.llm`` accepts, with their defaults.
MARKER_ARGS: dict[str, float] = {"repeat": 1, "pass_rate": 1.0, "confidence": 0.95}
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

    def describe(self) -> str:
        text = f"llm(repeat={self.repeat}, pass_rate={self.pass_rate:g}"
        if self.confidence != MARKER_ARGS["confidence"]:
            text += f", confidence={self.confidence:g}"
        return text + ")"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_marker(marker: pytest.Mark) -> RepeatPlan:
    """Validate ``@pytest.mark.llm(...)``; raises ``ConfigError`` (a ``UsageError``) naming the
    argument and the valid range."""
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
    return RepeatPlan(repeat, float(rate), float(confidence))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llm(repeat=N, pass_rate=P, confidence=C): run the test body N times (fixtures set up "
        "once) and pass when at least a fraction P of the samples pass; the verdict reports a "
        "C confidence interval (default 0.95).",
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
        f"({summary.rate:.0%}, {summary.confidence:.0%} CI {summary.low:.0%}-{summary.high:.0%}), "
        f"required >= {summary.required:.0%}"
    )


def _note(exc: BaseException, text: str) -> None:
    if sys.version_info >= (3, 11):
        exc.add_note(text)


class _Sampler:
    """Runs one test's samples and gives the verdict (shared by the sync and async loops)."""

    def __init__(self, item: pytest.Function, plan: RepeatPlan) -> None:
        self.item = item
        self.plan = plan
        self.session = get_session(item.config)
        self.results: list[bool] = []
        self.failures: list[tuple[int, AssertionError]] = []

    @contextmanager
    def sample(self, index: int) -> Iterator[None]:
        from llmassert._recording._recorder import SAMPLE_MARK

        previous = self.session.current_test
        self.session.current_test = f"{self.item.nodeid}{SAMPLE_MARK}{index}"
        try:
            yield
        except AssertionError as exc:
            self.results.append(False)
            self.failures.append((index, exc))
        except Exception as exc:
            _note(exc, f"(raised in sample {index} of {self.plan.describe()})")
            raise
        else:
            self.results.append(True)
        finally:
            self.session.current_test = previous

    def verdict(self) -> None:
        """Record the verdict on the item; raise ``LLMAssertionError`` when it fails."""
        __tracebackhide__ = True
        from llmassert._checks._passrate import pass_rate

        plan, item = self.plan, self.item
        summary = pass_rate(self.results, plan.pass_rate, confidence=plan.confidence)
        item.stash[_VERDICT_KEY] = summary
        item.user_properties.append(
            (
                USER_PROPERTY,
                {
                    "repeat": plan.repeat,
                    "passed": summary.passed,
                    "total": summary.total,
                    "rate": summary.rate,
                    "required": summary.required,
                    "confidence": summary.confidence,
                    "ci_low": summary.low,
                    "ci_high": summary.high,
                    "failed_samples": [index for index, _ in self.failures],
                },
            )
        )
        if summary:
            return
        lines = [_verdict_line(plan, summary), f"failed samples ({len(self.failures)}):"]
        for index, failure in self.failures[:MAX_SAMPLES_LISTED]:
            first, *rest = _first_lines(failure)
            where = _where(failure, item)
            lines.append(f"  sample {index}{where}: {type(failure).__name__}: {first}")
            lines += [f"    {line}" for line in rest]
        if len(self.failures) > MAX_SAMPLES_LISTED:
            lines.append(f"  ... and {len(self.failures) - MAX_SAMPLES_LISTED} more failed samples")
        raise LLMAssertionError("\n".join(lines), result=summary)


def _repeating(func: Callable[..., Any], sampler: _Sampler) -> Callable[..., Any]:
    """``func`` run once per sample, then the verdict; async when ``func`` is."""
    indices = range(1, sampler.plan.repeat + 1)
    if inspect.iscoroutinefunction(func):

        async def run_async(**kwargs: Any) -> None:
            for index in indices:
                with sampler.sample(index):
                    await func(**kwargs)
            sampler.verdict()

        return run_async

    def run(**kwargs: Any) -> None:
        for index in indices:
            with sampler.sample(index):
                func(**kwargs)
        sampler.verdict()

    return run


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Swap the test function for a loop over its samples while whichever implementation runs
    it (pytest's own, or an async plugin's: pytest-asyncio hands over a sync wrapper by now,
    anyio awaits the coroutine function) calls it."""
    plan = pyfuncitem.stash.get(_PLAN_KEY, None)
    if plan is None or plan.repeat == 1:
        return (yield)  # no marker, or one sample: pytest runs the test as usual
    original = pyfuncitem.obj
    pyfuncitem.obj = _repeating(original, _Sampler(pyfuncitem, plan))
    try:
        return (yield)
    finally:
        pyfuncitem.obj = original


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
            word = f"PASSED ({value['passed']}/{value['total']} samples)"
            return "passed", ".", (word, {"green": True})
    return None
