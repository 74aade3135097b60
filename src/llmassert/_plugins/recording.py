"""Record & replay in pytest: the recording interceptor, the summary line, the usage manifest
for ``prune``, and the opt-in recording proxy (fixture ``llm_proxy``, marker
``@pytest.mark.llm_proxy``, ini ``llm_proxy = true``).

A run is *complete* (and then writes ``<store>/.last-complete-run.json`` for ``llmassert
recordings prune``) when: pytest exits with status 0 (no failures, errors or interruption); no
test was deselected (``-k``, ``-m``, ``--deselect``, ``--lf``, or a plugin); no ``-x`` /
``--maxfail`` / ``--sw`` / ``--co`` / ``--setup-only`` / ``--setup-plan``, no ``--ignore`` on
the command line; no test paths or node ids were given on the command line (unless they
are exactly the configured ``testpaths``); and the record mode is not ``off``.

Under pytest-xdist every worker records and replays on its own (content-addressed files need no
lock); the controller merges the workers' counts and used entries and writes summary and manifest.

The record & replay stack (recorder, store, secret scanner) is imported on the first model call
(or proxy use), not at start-up: a run that makes no model call never loads it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llmassert._plugins.options import get_settings
from llmassert._plugins.state import get_session

if TYPE_CHECKING:
    from collections.abc import Generator

    from llmassert._models._wire import Interceptor, WireRequest, WireResponse
    from llmassert._recording._interceptor import RecordingInterceptor
    from llmassert._recording._proxy import RecordingProxy
    from llmassert._recording._recorder import Recorder, RecordingStats

__all__ = ["PROXY_BASE_URL_ENV", "RecordingState", "get_recording_state", "llm_proxy"]

#: The base-URL variables ``llm_proxy`` points at the proxy, per route, read from the libraries'
#: source: the ``openai`` SDK and LiteLLM read ``OPENAI_BASE_URL``, LangChain
#: (``langchain-openai``) reads ``OPENAI_API_BASE`` first and LiteLLM second; the ``anthropic``
#: SDK reads ``ANTHROPIC_BASE_URL``, ``langchain-anthropic`` reads ``ANTHROPIC_API_URL`` first,
#: LiteLLM ``ANTHROPIC_API_BASE`` first. Every one is set, so whichever a library reads first
#: points at the proxy. The first one set when pytest starts is the default upstream.
PROXY_BASE_URL_ENV: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
    "anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_URL", "ANTHROPIC_API_BASE"),
}

_STATE_KEY = pytest.StashKey["RecordingState"]()
_PREVIOUS_DEFAULTS_KEY: pytest.StashKey[list[Interceptor]] = pytest.StashKey()
_WORKER_OUTPUT = "llmassert_recording"
_BUILD_LOCK = threading.Lock()


@dataclass
class RecordingState:
    """The run's record & replay objects (one per process: each xdist worker has its own).

    The recorder and its interceptor are built on first use (:attr:`recorder`), so a run that
    makes no model call never imports the record & replay stack."""

    config: pytest.Config
    upstreams: dict[str, str]
    proxy: RecordingProxy | None = None
    #: Counts (``RecordingStats.as_dict()``) and used entries merged from xdist workers.
    worker_stats: list[dict[str, Any]] = field(default_factory=list)
    worker_used: set[str] = field(default_factory=set)
    deselected: int = 0
    skipped: set[str] = field(default_factory=set)
    is_worker: bool = False
    _interceptor: RecordingInterceptor | None = None

    @property
    def started(self) -> bool:
        """Whether the recorder exists (some model call or proxy use needed it)."""
        return self._interceptor is not None

    @property
    def interceptor(self) -> RecordingInterceptor:
        if self._interceptor is not None:
            return self._interceptor
        # concurrent samples make their first calls together: build exactly one recorder
        with _BUILD_LOCK:
            return self._build_interceptor()

    def _build_interceptor(self) -> RecordingInterceptor:
        if self._interceptor is None:
            from llmassert._recording._interceptor import RecordingInterceptor
            from llmassert._recording._recorder import Recorder
            from llmassert._recording._store import RecordingStore

            settings = get_settings(self.config)
            session = get_session(self.config)
            recorder = Recorder(
                RecordingStore(settings.recordings_dir),
                settings.record_mode,
                current_test=lambda: session.current_test,
            )
            self._interceptor = RecordingInterceptor(recorder)
        return self._interceptor

    @property
    def recorder(self) -> Recorder:
        return self.interceptor.recorder

    @property
    def stats(self) -> RecordingStats:
        from llmassert._recording._recorder import RecordingStats

        merged = RecordingStats()
        if self.started:
            merged.merge(self.recorder.stats.as_dict())
        for stats in self.worker_stats:
            merged.merge(stats)
        return merged

    @property
    def used(self) -> set[str]:
        """Store entries this run replayed or recorded (all workers')."""
        return (self.recorder.used if self.started else set()) | self.worker_used

    def ensure_proxy(self) -> RecordingProxy:
        if self.proxy is None:
            from llmassert._recording._proxy import RecordingProxy

            self.proxy = RecordingProxy(self.recorder, upstreams=self.upstreams).start()
        return self.proxy


def get_recording_state(config: pytest.Config) -> RecordingState:
    """The run's :class:`RecordingState` (created in ``pytest_configure``)."""
    return config.stash[_STATE_KEY]


class _LazyRecording:
    """The session's record & replay interceptor, built on the first model call."""

    def __init__(self, state: RecordingState) -> None:
        self.state = state

    def call(
        self, request: WireRequest, send: Callable[[WireRequest], WireResponse]
    ) -> WireResponse:
        return self.state.interceptor.call(request, send)

    async def acall(
        self,
        request: WireRequest,
        send: Callable[[WireRequest], Awaitable[WireResponse]],
    ) -> WireResponse:
        return await self.state.interceptor.acall(request, send)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "llm_proxy",
        type="bool",
        default=False,
        help="Route every test's own OpenAI/Anthropic clients through the recording proxy "
        "(as if each test had @pytest.mark.llm_proxy).",
    )
    parser.addini(
        "llm_proxy_openai_upstream",
        default="",
        help="Where the recording proxy forwards OpenAI requests when recording "
        "(default: $OPENAI_BASE_URL, else $OPENAI_API_BASE, else https://api.openai.com/v1).",
    )
    parser.addini(
        "llm_proxy_anthropic_upstream",
        default="",
        help="Where the recording proxy forwards Anthropic requests when recording "
        "(default: $ANTHROPIC_BASE_URL, else $ANTHROPIC_API_URL, else $ANTHROPIC_API_BASE, "
        "else https://api.anthropic.com).",
    )


def _upstreams(config: pytest.Config) -> dict[str, str]:
    upstreams = {}
    for provider, names in PROXY_BASE_URL_ENV.items():
        value = config.getini(f"llm_proxy_{provider}_upstream") or next(
            (os.environ[name] for name in names if os.environ.get(name)), ""
        )
        if value:
            upstreams[provider] = value
    return upstreams


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llm_proxy: route the test's own OpenAI/Anthropic SDK clients through the llmassert "
        "recording proxy (OPENAI_BASE_URL, OPENAI_API_BASE, ANTHROPIC_BASE_URL, "
        "ANTHROPIC_API_URL and ANTHROPIC_API_BASE point at it during the test).",
    )
    state = RecordingState(
        config=config,
        upstreams=_upstreams(config),
        is_worker=hasattr(config, "workerinput"),
    )
    interceptor = _LazyRecording(state)
    get_session(config).interceptors.append(interceptor)
    # Models a test builds itself (llmassert.model(...)) obey the record mode too; the
    # previous defaults come back at the end of the run (pytester runs nest sessions).
    from llmassert._models._wire import set_default_interceptors

    previous_defaults = set_default_interceptors([interceptor])
    config.stash[_STATE_KEY] = state
    config.stash[_PREVIOUS_DEFAULTS_KEY] = previous_defaults
    config.pluginmanager.register(_SkipTracker(state), "llmassert-recording-skips")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE_KEY, None)
    previous_defaults = config.stash.get(_PREVIOUS_DEFAULTS_KEY, None)
    if previous_defaults is not None:
        from llmassert._models._wire import set_default_interceptors

        set_default_interceptors(previous_defaults)
    if state is not None and state.proxy is not None:
        state.proxy.stop()
        state.proxy = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    session = get_session(item.config)
    state = item.config.stash[_STATE_KEY]
    session.current_test = item.nodeid
    if state.proxy is not None:
        state.proxy.context = item.nodeid
    try:
        return (yield)
    finally:
        if state.started:
            state.recorder.forget_context(item.nodeid)
        session.current_test = None
        if state.proxy is not None:
            state.proxy.context = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.config.stash.get(_STATE_KEY, None)
    if state is None or state.proxy is None:
        return report
    misses = state.proxy.misses.pop(item.nodeid, None)
    if misses:
        text = "\n\n".join(misses)
        if report.passed:
            report.outcome = "failed"
            report.longrepr = (
                "the recording proxy had no recording for a request this test made "
                f"(the application may have swallowed the error):\n{text}"
            )
        else:
            report.sections.append(("llmassert recording proxy: missing recordings", text))
    return report


@pytest.fixture
def llm_proxy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> RecordingProxy:
    """The recording proxy, started on first use; for this test the base-URL variables of the
    common client libraries (:data:`PROXY_BASE_URL_ENV`: ``OPENAI_BASE_URL``,
    ``OPENAI_API_BASE``, ``ANTHROPIC_BASE_URL``, ...) point at it (and, in record mode
    ``none``, placeholder ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` are set when absent), so
    clients the code under test builds itself (the SDKs, LangChain, LiteLLM) are recorded and
    replayed. The environment is restored afterwards."""
    state = request.config.stash[_STATE_KEY]
    proxy = state.ensure_proxy()
    proxy.context = request.node.nodeid
    routes = {"openai": proxy.openai_base_url, "anthropic": proxy.anthropic_base_url}
    for route, names in PROXY_BASE_URL_ENV.items():
        for name in names:
            monkeypatch.setenv(name, routes[route])
    if state.recorder.mode == "none":
        from llmassert._recording._secrets import PLACEHOLDER_KEY

        for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            if not os.environ.get(name):
                monkeypatch.setenv(name, PLACEHOLDER_KEY)
    return proxy


@pytest.fixture(autouse=True)
def _llmassert_proxy_on_demand(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("llm_proxy") is not None or request.config.getini(
        "llm_proxy"
    ):
        request.getfixturevalue("llm_proxy")


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_STATE_KEY].deselected += len(items)


class _SkipTracker:
    """Collects skipped tests where reports arrive (the controller, under xdist)."""

    def __init__(self, state: RecordingState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped:
            self.state.skipped.add(report.nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    output = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if not output:
        return
    state = node.config.stash[_STATE_KEY]
    state.worker_stats.append(output["stats"])
    state.worker_used.update(output["used"])
    state.deselected += int(output["deselected"])


def _incomplete_reasons(
    session: pytest.Session, exitstatus: int, state: RecordingState
) -> list[str]:
    config = session.config
    reasons: list[str] = []
    if exitstatus != 0:
        reasons.append(f"exit status {exitstatus}")
    option = config.option
    for name, label in (
        ("keyword", "-k"),
        ("markexpr", "-m"),
        ("deselect", "--deselect"),
        ("lf", "--lf"),
        ("stepwise", "--sw"),
    ):
        if getattr(option, name, None):
            reasons.append(label)
    if getattr(option, "maxfail", 0):
        reasons.append("-x/--maxfail")
    for name, label in (("collectonly", "--co"), ("setuponly", "--setup-only")):
        if getattr(option, name, False):
            reasons.append(label)
    if getattr(option, "setupplan", False):
        reasons.append("--setup-plan")
    if any(a.startswith(("--ignore", "--ignore-glob")) for a in config.invocation_params.args):
        reasons.append("--ignore on the command line")
    if state.deselected:
        reasons.append(f"{state.deselected} tests deselected")
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        testpaths = [str((config.rootpath / p).resolve()) for p in config.getini("testpaths")]
        given = [str(Path(a.split("::")[0]).resolve()) for a in config.args]
        if "::" in " ".join(config.args) or sorted(given) != sorted(testpaths):
            reasons.append("test paths or node ids given on the command line")
    if get_settings(config).record_mode == "off":
        reasons.append("record mode off")
    return reasons


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        return
    if state.proxy is not None:
        state.proxy.drain()  # streams still being read from their upstream are stored first
    if state.is_worker:
        workeroutput: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
        workeroutput[_WORKER_OUTPUT] = {
            "stats": state.recorder.stats.as_dict() if state.started else {},
            "used": sorted(state.used),
            "deselected": state.deselected,
        }
        return
    # A call the mode said to store is not in the store: a replay of this run (CI) would miss
    # it, so the run is not green (the summary names the calls).
    unstored = (state.started or bool(state.worker_stats)) and state.stats.not_stored > 0
    if unstored and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if _incomplete_reasons(session, int(session.exitstatus), state):
        return
    root = get_settings(config).recordings_dir
    used = state.used
    if not root.is_dir() and not used:
        return
    from llmassert._recording._usage import RunUsage, write_manifest

    usage = RunUsage(used=used, skipped_tests=set(state.skipped), tests=session.testscollected)
    write_manifest(root, usage)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(_STATE_KEY, None)
    if state is None or state.is_worker:
        return
    if not state.started and not state.worker_stats:
        return  # no model call in this run: nothing to count (and nothing to import)
    stats = state.stats
    if stats.not_stored:  # shown even with --no-llm-summary: it is why the run failed
        them = "it" if stats.not_stored == 1 else "them"
        terminalreporter.write_line(
            f"llmassert recordings: {_count(stats.not_stored, 'call')} could not be stored, so "
            f"a replay (CI) would miss {them}; the run fails:",
            red=True,
        )
        for detail in stats.not_stored_details[:5]:
            terminalreporter.write_line(f"  not stored: {detail}")
    if stats.total == 0 or not get_settings(config).summary:
        return
    settings = get_settings(config)
    try:
        where = os.path.relpath(settings.recordings_dir, config.invocation_params.dir)
    except ValueError:  # pragma: no cover - another drive on Windows
        where = str(settings.recordings_dir)
    line = (
        f"llmassert recordings: {stats.replayed} replayed, {stats.recorded} recorded, "
        f"{stats.live} live, {stats.missing} missing "
        f"(record mode {settings.record_mode}, {settings.record_mode_source}; store {where})"
    )
    terminalreporter.write_line(line, red=bool(stats.missing), yellow=bool(stats.live))
    for detail in stats.missing_details[:5]:
        terminalreporter.write_line(f"  missing: {detail}")
    if stats.retries or stats.failed:
        calls, retries = stats.network_calls, stats.retries
        terminalreporter.write_line(
            f"llmassert recordings: {_count(calls + retries, 'request')} reached the network "
            f"({_count(calls, 'call')} + {_count(retries, 'retry', 'retries')}); "
            f"{stats.failed} of the calls failed",
            yellow=True,
        )
    if stats.unsent:
        terminalreporter.write_line(
            f"llmassert recordings: {_count(stats.unsent, 'call')} failed at once without a "
            "request (the endpoint was unreachable; see the first failure)",
            yellow=True,
        )
    if stats.redactions:
        terminalreporter.write_line(
            f"llmassert recordings: redacted {len(stats.redactions)} secret(s) before writing: "
            + "; ".join(sorted(set(stats.redactions))[:5]),
            yellow=True,
        )
