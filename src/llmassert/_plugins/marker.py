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

import inspect
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from llmassert._errors import ConfigError, LLMAssertionError
from llmassert._plugins.state import get_session

if TYPE_CHECKING:
    from collections.abc import Generator

    from llmassert._checks._passrate import PassRate
    from llmassert._checks._sampler import RepeatPlan, Sampler

__all__ = ["USER_PROPERTY", "parse_marker"]

#: The key of the verdict in ``item.user_properties`` (``llmassert._checks._sampler``'s, kept
#: here too: the plugin loads in every run, the checks package only when a test needs it).
USER_PROPERTY = "llm_pass_rate"


#: How many lines of each failing sample the failure message lists.
MAX_LINES_PER_SAMPLE = 6
MAX_LINE_CHARS = 300

_PLAN_KEY = pytest.StashKey["RepeatPlan | None"]()
_VERDICT_KEY: pytest.StashKey[PassRate] = pytest.StashKey()


def parse_marker(marker: pytest.Mark) -> RepeatPlan:
    """Validate ``@pytest.mark.llm(...)``; raises ``ConfigError`` (a ``UsageError``) naming the
    argument and the valid range."""
    from llmassert._checks._sampler import parse_plan

    return parse_plan(marker.kwargs, marker.args)


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


def _sample_concurrency(item: pytest.Item, plan: RepeatPlan) -> int:
    """How many samples run at once: the marker's ``concurrency=``, else ``--llm-concurrency``
    / ``llm_concurrency``, else the endpoints' default in-flight limit (8). A test through the
    recording proxy runs its samples one after another: the proxy cannot tell them apart."""
    if "llm_proxy" in getattr(item, "fixturenames", ()):
        return 1
    from llmassert._checks._sampler import sample_concurrency

    return sample_concurrency(plan, get_session(item.config).settings.concurrency)


#: Exceptions that end a sample's test at once, whatever the verdict (pytest.skip/fail too).
_FATAL = (Exception, pytest.fail.Exception, pytest.skip.Exception)


def _verdict(item: pytest.Item, sampler: Sampler) -> None:
    """Record the verdict on the item; raise the error of the earliest sample that raised one
    (if the verdict needed it), or ``LLMAssertionError`` when the verdict fails."""
    __tracebackhide__ = True
    conclusion = sampler.conclude()
    item.stash[_VERDICT_KEY] = conclusion.summary
    item.user_properties.append((USER_PROPERTY, conclusion.record))
    if conclusion:
        if conclusion.stop_line is not None:
            item.add_report_section("call", "llmassert", conclusion.stop_line)
        return

    def describe(index: int, failure: AssertionError) -> list[str]:
        first, *rest = _first_lines(failure)
        return [f"{_where(failure, item)}: {type(failure).__name__}: {first}", *rest]

    raise LLMAssertionError(conclusion.message(describe), result=conclusion.summary)


def _repeating(item: pytest.Item, func: Callable[..., Any], sampler: Sampler) -> Callable[..., Any]:
    """``func`` run once per sample, then the verdict; async when ``func`` is."""
    from llmassert._checks._sampler import run_tasks, run_threads

    if inspect.iscoroutinefunction(func):

        async def run_async(**kwargs: Any) -> None:
            __tracebackhide__ = True
            await run_tasks(sampler, func, kwargs)
            _verdict(item, sampler)

        return run_async

    def run(**kwargs: Any) -> None:
        __tracebackhide__ = True
        run_threads(sampler, func, kwargs)
        _verdict(item, sampler)

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
    from llmassert._checks._sampler import Sampler

    sampler = Sampler(plan, _sample_concurrency(item, plan), fatal=_FATAL)
    item.obj = _repeating(item, original, sampler)
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
