"""Run reports from pytest: one entry per test, collected where reports arrive (the controller,
under xdist), then the terminal summary, ``--llm-report PATH`` (JSON), ``--llm-html PATH`` (the
same report as one HTML page), ``--llm-baseline``, the JUnit properties and the GitHub step
summary.

A thin layer: what an entry holds is built by :mod:`llmassert._reports._collect` from the test's
observation (:mod:`llmassert._observe`: its model calls and check results, per sample); the
summary, comparison, rendering and baseline diff live in :mod:`llmassert._reports`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llmassert._errors import ConfigError
from llmassert._plugins.options import get_settings

if TYPE_CHECKING:
    from collections.abc import Generator, Sequence

    from llmassert._observe import TestObservation


__all__ = ["ENTRY_PROPERTY", "JUNIT_PROPERTIES"]

#: The name of the user property that carries a test's report entry to the controller.
ENTRY_PROPERTY = "llmassert_test"
#: The JUnit properties each LLM test gets (``--junitxml``).
JUNIT_PROPERTIES = ("llm_model", "llm_pass_rate", "llm_latency_s", "llm_cost_usd", "llm_calls")
#: The marker's user property (the verdict of a repeated test, with its samples).
_VERDICT_PROPERTY = "llm_pass_rate"
#: The user property that carries the calls of wider-scoped fixtures to the controller.
_FIXTURES_PROPERTY = "llmassert_fixture_calls"

_STATE_KEY = pytest.StashKey["_ReportState"]()
_OBSERVATION_KEY: pytest.StashKey[TestObservation] = pytest.StashKey()


@dataclass
class _ReportState:
    config: pytest.Config
    #: Whether entries are built at all (some output wants them).
    active: bool
    is_worker: bool
    report_path: Path | None
    html_path: Path | None
    baseline: dict[str, Any] | None
    baseline_path: str | None
    latency_margin: float
    cost_margin: float
    fail_on_regression: bool
    step_summary: str | None
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    workers: int = 0
    report: dict[str, Any] | None = None
    baseline_lines: list[str] = field(default_factory=list)
    #: Calls of module-, class-, package- or session-scoped fixtures set up in this process,
    #: not yet attached to a test report.
    pending: list[dict[str, Any]] = field(default_factory=list)
    #: Their groups, collected where reports arrive (the report's ``unattributed``).
    unattributed: list[dict[str, Any]] = field(default_factory=list)
    regressions: int = 0
    written: str | None = None
    written_html: str | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmassert")
    group.addoption(
        "--llm-latency-margin",
        default=None,
        type=float,
        metavar="FRACTION",
        help="With --llm-baseline: how much slower (median latency) a test or model may get "
        "before it is a regression (default 0.2, i.e. 20%%).",
    )
    group.addoption(
        "--llm-cost-margin",
        default=None,
        type=float,
        metavar="FRACTION",
        help="With --llm-baseline: how much dearer (cost) a test or model may get before it is "
        "a regression (default 0.2, i.e. 20%%).",
    )
    group.addoption(
        "--llm-fail-on-regression",
        action="store_true",
        default=False,
        help="With --llm-baseline: fail the run (exit status 1) when a regression is found.",
    )


def _margin(value: float | None, option: str) -> float:
    if value is None:
        return 0.2
    if not value >= 0:
        raise ConfigError(f"{option}: expected a fraction >= 0 (0.2 for 20%), got {value}")
    return float(value)


def _load_baseline(path: str, config: pytest.Config) -> dict[str, Any]:
    where = Path(config.invocation_params.dir) / path
    try:
        text = where.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"--llm-baseline {path}: cannot read it ({exc.strerror or exc}); give the JSON "
            "report of an earlier run (written with --llm-report PATH)"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"--llm-baseline {path}: not a JSON report ({exc}); give the JSON report of an "
            "earlier run (written with --llm-report PATH)"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ConfigError(
            f"--llm-baseline {path}: not an llmassert run report (no 'tests' list); give the "
            "JSON report of an earlier run (written with --llm-report PATH)"
        )
    from llmassert._reports._schema import validate_report

    try:
        validate_report(data)
    except (ValueError, ConfigError) as exc:
        raise ConfigError(f"--llm-baseline {path}: {exc}") from None
    return data


def _state_of(config: pytest.Config) -> _ReportState:
    settings = get_settings(config)
    report = config.getoption("--llm-report")
    baseline_path = config.getoption("--llm-baseline")
    is_worker = hasattr(config, "workerinput")
    latency_margin = _margin(config.getoption("--llm-latency-margin"), "--llm-latency-margin")
    cost_margin = _margin(config.getoption("--llm-cost-margin"), "--llm-cost-margin")
    fail = bool(config.getoption("--llm-fail-on-regression"))
    if fail and not baseline_path:
        raise ConfigError(
            "--llm-fail-on-regression: give the run to compare with, --llm-baseline PATH"
        )
    baseline = None
    if baseline_path and not is_worker:
        baseline = _load_baseline(baseline_path, config)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY") or None
    html = config.getoption("--llm-html")
    html_path = (Path(config.invocation_params.dir) / html) if html else None
    if html_path is not None and html_path.is_dir():
        raise ConfigError(
            f"--llm-html {html}: is a directory; give the HTML file to write, e.g. "
            f"--llm-html {Path(html) / 'report.html'}"
        )
    active = bool(
        settings.summary
        or report
        or html_path
        or baseline_path
        or step_summary
        or getattr(config.option, "xmlpath", None)
    )
    return _ReportState(
        config=config,
        active=active,
        is_worker=is_worker,
        report_path=(Path(config.invocation_params.dir) / report) if report else None,
        html_path=html_path,
        baseline=baseline,
        baseline_path=baseline_path,
        latency_margin=latency_margin,
        cost_margin=cost_margin,
        fail_on_regression=fail,
        step_summary=step_summary,
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        state = config.stash[_STATE_KEY] = _state_of(config)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if state.active and not state.is_worker:
        config.pluginmanager.register(_Collector(state), "llmassert-reports-collector")


def _state(config: pytest.Config) -> _ReportState | None:
    return config.stash.get(_STATE_KEY, None)


def pytest_sessionstart(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is not None:
        state.started = time.perf_counter()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodeready(node: Any) -> None:
    state = _state(node.config)
    if state is not None:
        state.workers += 1


# -- one entry per test --------------------------------------------------------------------


def _observe(item: pytest.Item) -> Generator[None, Any, Any]:
    state = _state(item.config)
    if state is None or not state.active:
        return (yield)
    from llmassert._observe import observing

    with observing(item.stash.get(_OBSERVATION_KEY, None)) as observation:
        item.stash[_OBSERVATION_KEY] = observation
        return (yield)


def _observe_fixture(fixturedef: Any, request: pytest.FixtureRequest) -> Generator[None, Any, Any]:
    """A wider-scoped fixture is observed on its own: its calls belong to no test (it serves
    several), so they are kept as one group of the run's ``unattributed`` calls."""
    state = _state(request.config)
    if state is None or not state.active:
        return (yield)
    from llmassert._observe import observing

    with observing() as observation:
        try:
            return (yield)
        finally:
            noted = [c for _, s in sorted(observation.samples.items()) for c in s.calls]
            if noted:
                from llmassert._reports._collect import fixture_group

                node = request.node
                state.pending.append(
                    fixture_group(
                        str(fixturedef.argname),
                        str(fixturedef.scope),
                        node.nodeid if node is not None else "",
                        noted,
                    )
                )


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: Any, request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    # The calls of a function-scoped fixture (the ``response`` of a ``llmassert.cases`` test)
    # belong to its test, noted with the test body's. Only the fixture itself is observed, not
    # the whole setup phase: requests other plugins queue there for later tests (case files'
    # prefetch) must not inherit this test's observation.
    item = request.node
    if not isinstance(item, pytest.Item):
        return (yield from _observe_fixture(fixturedef, request))
    return (yield from _observe(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _observe(item))


def _verdict(properties: list[tuple[str, object]]) -> dict[str, Any] | None:
    for name, value in properties:
        if name == _VERDICT_PROPERTY and isinstance(value, dict):
            return value
    return None


def _junit(entry: dict[str, Any], verdict: dict[str, Any] | None) -> list[tuple[str, object]]:
    calls = [
        c for s in entry["samples"] for c in s["calls"] if c.get("purpose", "model") == "model"
    ]
    properties: list[tuple[str, object]] = [("llm_model", entry["model"])]
    if verdict is not None and verdict.get("rate") is not None:
        properties.append(("llm_pass_rate", round(float(verdict["rate"]), 4)))
    elif entry["outcome"] in ("passed", "failed"):
        properties.append(("llm_pass_rate", 1.0 if entry["outcome"] == "passed" else 0.0))
    latencies = [c["latency_s"] for c in calls if c["latency_s"] is not None]
    if latencies:
        properties.append(("llm_latency_s", round(sum(latencies), 6)))
    costs = [c["cost_usd"] for c in calls if c["cost_usd"] is not None]
    if costs and len(costs) == len(calls):
        properties.append(("llm_cost_usd", round(sum(costs), 10)))
    properties.append(("llm_calls", len(calls)))
    return properties


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = _state(item.config)
    if state is None or not state.active:
        return report
    if state.pending and call.when != "teardown":  # JUnit writes the teardown's properties
        groups, state.pending = state.pending, []
        for group in groups:
            group["first_test"] = item.nodeid  # the test whose setup (or call) made them
        report.user_properties.append((_FIXTURES_PROPERTY, groups))
    if call.when == "teardown":
        # JUnit reads the teardown report's properties: the verdict as a number, not a dict
        report.user_properties = [
            (name, value)
            for name, value in report.user_properties
            if not (name == _VERDICT_PROPERTY and isinstance(value, dict))
        ]
        return report
    if call.when == "setup" and report.passed:
        return report
    from llmassert._reports._collect import entry_of

    verdict = _verdict(item.user_properties) if call.when == "call" else None
    entry = entry_of(item, report, call, item.stash.get(_OBSERVATION_KEY, None), verdict)
    report.user_properties.append((ENTRY_PROPERTY, entry))
    if entry["model"] or entry["samples"]:
        item.user_properties.extend(_junit(entry, verdict))
    return report


class _Collector:
    """Keeps the entries where reports arrive: the controller, under xdist."""

    def __init__(self, state: _ReportState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entries = self.state.entries
        for name, value in report.user_properties:
            if name == ENTRY_PROPERTY and isinstance(value, dict):
                entries[report.nodeid] = value
            elif name == _FIXTURES_PROPERTY and isinstance(value, list):
                self.state.unattributed.extend(g for g in value if isinstance(g, dict))
        if report.when == "teardown" and report.failed:
            entry = entries.get(report.nodeid)
            if entry is not None and entry["outcome"] != "error":
                from llmassert._reports._collect import MAX_MESSAGE_CHARS, masker

                entry["outcome"] = "error"
                text = f"error at teardown: {report.longreprtext}"
                entry["message"] = masker()(text)[:MAX_MESSAGE_CHARS]


# -- the end of the run --------------------------------------------------------------------


def _llm_ran(tests: list[dict[str, Any]], unattributed: Sequence[object] = ()) -> bool:
    return bool(unattributed) or any(t["model"] or t["samples"] for t in tests)


def _finish(session: pytest.Session, state: _ReportState) -> None:
    from llmassert._reports._write import build_report, write_report
    from llmassert._version import __version__

    settings = get_settings(session.config)
    tests = list(state.entries.values())
    llm_ran = _llm_ran(tests, state.unattributed)
    if state.report_path is None and state.html_path is None and not llm_ran:
        return  # nothing to show or write (and nothing of reports to import)
    report = build_report(
        tests,
        version=__version__,
        duration_s=time.perf_counter() - state.started,
        record_mode=settings.record_mode,
        workers=max(1, state.workers),
        models=settings.models,
        unattributed=state.unattributed,
    )
    state.report = report
    if state.report_path is not None:
        write_report(state.report_path, report)
        shown = os.path.relpath(state.report_path, session.config.invocation_params.dir)
        state.written = str(state.report_path) if shown.startswith("..") else shown
    if state.html_path is not None:
        _write_html(state.html_path, report)
        shown = os.path.relpath(state.html_path, session.config.invocation_params.dir)
        state.written_html = str(state.html_path) if shown.startswith("..") else shown
    if not llm_ran:
        return
    if state.step_summary:
        from llmassert._reports._render import markdown

        text = markdown(report)
        with open(state.step_summary, "a", encoding="utf-8") as handle:
            handle.write(text.rstrip("\n") + "\n\n")
    if state.baseline is not None:
        from llmassert._reports._baseline import diff_reports

        diff = diff_reports(
            state.baseline,
            report,
            latency_margin=state.latency_margin,
            cost_margin=state.cost_margin,
        )
        state.baseline_lines = list(diff.lines())
        state.regressions = len(diff.regressions)
        if (
            state.fail_on_regression
            and state.regressions
            and session.exitstatus == pytest.ExitCode.OK
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _write_html(path: Path, report: dict[str, Any]) -> None:
    """The HTML page of exactly what the JSON report holds (masked once more, as it is)."""
    from llmassert._reports._html import write_html
    from llmassert._reports._write import dumps

    write_html(json.loads(dumps(report)), path)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None or state.is_worker or not state.active:
        return
    _finish(session, state)


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = _state(config)
    if state is None or state.is_worker or state.report is None:
        return
    report = state.report
    settings = get_settings(config)
    verbosity = int(config.getoption("verbose") or 0)
    llm_ran = _llm_ran(report["tests"], report.get("unattributed") or [])
    if not settings.summary or verbosity < -1:
        lines: list[str] = []
    elif llm_ran:
        from llmassert._reports._render import terminal_lines

        lines = list(terminal_lines(report, max(-1, min(1, verbosity))))
    else:
        lines = []
    extra = []
    if state.written is not None and (lines or llm_ran):
        extra.append(f"llmassert report: {state.written}")
    if state.written_html is not None and (lines or llm_ran):
        extra.append(f"llmassert HTML report: {state.written_html}")
    if state.baseline_lines:
        first, *rest = state.baseline_lines
        extra.append(f"{first} (baseline {state.baseline_path})")
        extra += rest
        if state.fail_on_regression and state.regressions:
            extra.append("llmassert baseline: the run fails (--llm-fail-on-regression)")
    if not lines and not extra:
        return
    terminalreporter.write_sep("=", "llmassert")
    for line in lines + extra:
        terminalreporter.write_line(line)
