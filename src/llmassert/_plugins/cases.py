"""Case files as pytest tests: ``llm_*.yaml`` / ``llm_*.yml`` are collected, one item per case
and model (``llm_capitals.yaml::france[openai:gpt-4o-mini]``).

The requests of the items that will run (after ``-k``, ``-m``, ``--lf``, ``--deselect``) are
known when the run starts: they are fetched concurrently on a background event loop, in run
order and within each endpoint's in-flight limit, while the items consume them; each item then
only evaluates its checks. Under pytest-xdist each worker fetches the items scheduled on it.
In record mode ``none`` (pure replay) nothing is prefetched: a replay is as fast in the item.

A thin layer: the file format, templates, checks and messages live in :mod:`llmassert._cases`
(imported only when a case file is collected).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llmassert._errors import ConfigError, LLMAssertError, LLMAssertionError, UsageError
from llmassert._plugins.options import get_settings
from llmassert._plugins.state import get_session

if TYPE_CHECKING:
    from llmassert._cases._file import Case
    from llmassert._cases._prefetch import Job, Prefetcher
    from llmassert._checks._sampler import RepeatPlan
    from llmassert._models._model import Model
    from llmassert._response import Response

__all__ = ["CaseFailure", "CaseFileCollector", "CaseItem", "assert_case", "cases"]

#: The file names collected.
PATTERNS = ("llm_*.yaml", "llm_*.yml")

_STATE_KEY = pytest.StashKey["_CasesState"]()
_HELPER_KEY = pytest.StashKey[bool]()
#: The marker :func:`cases` puts on a test.
MARKER = "llm_cases"


class CaseFailure(LLMAssertionError):
    """A case's checks failed (the message is the whole story: no traceback)."""


@dataclass
class _CasesState:
    """The run's case-file models and prefetcher (one per process)."""

    config: pytest.Config
    models: dict[str, Model] = field(default_factory=dict)
    prefetcher: Prefetcher | None = None
    #: The prefetch jobs not consumed yet, by ``(node id, sample)``.
    jobs: dict[tuple[str, int], Job] = field(default_factory=dict)
    #: How many samples of each item have been queued (or fetched in the item).
    queued: dict[str, int] = field(default_factory=dict)
    progress: _Progress | None = None

    def model(self, spec: str) -> Model:
        found = self.models.get(spec)
        if found is None:
            from llmassert._cases._prefetch import CONTEXT
            from llmassert._plugins.models import build_model

            session = get_session(self.config)

            def context() -> str | None:
                return CONTEXT.get() or session.current_test

            found = self.models[spec] = build_model(self.config, spec, context)
        return found

    def start(self) -> Prefetcher:
        if self.prefetcher is None:
            from llmassert._cases._prefetch import Prefetcher

            _warm_imports(self.config)
            self.prefetcher = Prefetcher()
            self.progress = _Progress.create(self.config)
        return self.prefetcher

    def prefetch(self, items: Sequence[pytest.Item]) -> None:
        """Queue the calls of ``items`` (case items, and tests parametrized by ``cases``) not
        queued yet, in this order: every sample, or the first ``window`` of an item that draws
        its samples as it goes (``early_stop``, or a case's own ``concurrency``)."""
        jobs: list[Job] = []
        for item in items:
            target = _target(item)
            if target is None or item.nodeid in self.queued:
                continue
            case, spec, repeat, window = target
            jobs += self._jobs(item.nodeid, case, spec, repeat, window or repeat)
        if jobs:
            self.start().submit(jobs)

    def _jobs(
        self, nodeid: str, case: Case, spec: str, repeat: int, upto: int, *, urgent: bool = False
    ) -> list[Job]:
        """New jobs for the samples of ``nodeid`` up to ``upto`` not queued yet."""
        from llmassert._cases._prefetch import Job
        from llmassert._models._limits import worker_share

        first = self.queued.get(nodeid, 0) + 1
        last = min(upto, repeat)
        self.queued[nodeid] = max(last, first - 1)
        if first > last:
            return []
        model = self.model(spec)
        prompt, params = case.complete_args()
        limit = worker_share(model.concurrency)
        jobs = []
        for sample in range(first, last + 1):
            context = _context(nodeid, repeat, sample)
            job = Job(model, prompt, params, context, limit, urgent=urgent)
            self.jobs[(nodeid, sample)] = job
            jobs.append(job)
        return jobs

    def ensure(self, nodeid: str, case: Case, spec: str, repeat: int, upto: int) -> None:
        """Queue, ahead of everything queued, the samples of ``nodeid`` up to ``upto`` (an item
        drawing its samples as it goes keeps its window in flight)."""
        if self.prefetcher is None:
            return
        jobs = self._jobs(nodeid, case, spec, repeat, upto, urgent=True)
        if jobs:
            self.prefetcher.submit(jobs)

    def discard(self, nodeid: str) -> None:
        """Drop the samples of ``nodeid`` it did not use (an early stop): those not started are
        never sent; one already in flight finishes and is stored, not counted."""
        for sample in range(1, self.queued.get(nodeid, 0) + 1):
            job = self.jobs.pop((nodeid, sample), None)
            if job is not None:
                job.future.cancel()

    def response(self, nodeid: str, case: Case, spec: str, repeat: int, sample: int) -> Response:
        """The response of one sample: prefetched (or fetched now on the prefetch loop, ahead of
        the queued calls), else - no prefetching in this run - fetched in the item."""
        __tracebackhide__ = True
        job = self.jobs.pop((nodeid, sample), None)
        if job is None and self.prefetcher is not None:
            self.ensure(nodeid, case, spec, repeat, sample)
            job = self.jobs.pop((nodeid, sample), None)
        if job is None:
            from llmassert._cases._prefetch import CONTEXT

            prompt, params = case.complete_args()
            token = CONTEXT.set(_context(nodeid, repeat, sample))
            try:
                return self.model(spec).complete(prompt, **params)
            finally:
                CONTEXT.reset(token)
        if not job.future.done():
            self._wait(job)
        job.warn()
        from llmassert._models._sampling import note_response
        from llmassert._observe import note_call

        prefetched = note_response(job.future.result())  # counted in the running sample
        prompt, params = case.complete_args()
        note_call(prefetched, prompt, params.get("system"))  # made ahead, noted for this test
        return prefetched

    def _wait(self, job: Job) -> None:
        import concurrent.futures

        progress, prefetcher = self.progress, self.prefetcher

        try:
            while not job.future.done():  # short waits: Ctrl-C is seen at once
                concurrent.futures.wait([job.future], timeout=0.1)
                if progress is not None and prefetcher is not None and not job.future.done():
                    progress.show(prefetcher)
        finally:
            if progress is not None:
                progress.clear()

    def close(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.close(cancel=True)
            self.prefetcher = None
        if self.progress is not None:
            self.progress.clear()
        self.jobs.clear()


class _Progress:
    """One status line while an item waits for prefetched requests, after the item's place on
    the terminal line: ``[llmassert: 32 in flight, 64/200 fetched]``, erased before the item's
    result is written (the terminal's saved cursor position)."""

    SAVE, RESTORE_AND_ERASE = "\x1b7", "\x1b8\x1b[K"

    def __init__(self, reporter: Any, capture: Any) -> None:
        self._tw = reporter._tw
        self._file = getattr(self._tw, "_file", None)
        self._capture = capture
        self._last = ""
        self._shown = False

    @classmethod
    def create(cls, config: pytest.Config) -> _Progress | None:
        """A display when ``--llm-progress`` says so: ``on``, or ``auto`` on a terminal and
        without ``-q``; never on an xdist worker (its output does not reach the terminal)."""
        mode = get_settings(config).progress

        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if mode == "off" or reporter is None or hasattr(config, "workerinput"):
            return None
        if mode == "auto" and (
            config.get_verbosity() < 0 or not reporter.isatty() or os.environ.get("TERM") == "dumb"
        ):
            return None
        display = cls(reporter, config.pluginmanager.get_plugin("capturemanager"))
        return display if display._file is not None else None

    def show(self, prefetcher: Prefetcher) -> None:
        text = (
            f" [llmassert: {prefetcher.in_flight} in flight, "
            f"{prefetcher.finished}/{prefetcher.submitted} fetched]"
        )
        room = self._tw.fullwidth - self._tw.width_of_current_line - 1
        if room < len(text):
            text = text[: max(room, 0)]
        if self._shown and text == self._last:
            return
        # written past the terminal writer: the line's content (and its width) stays pytest's
        self._write((self.RESTORE_AND_ERASE if self._shown else self.SAVE) + text)
        self._shown, self._last = True, text

    def clear(self) -> None:
        if self._shown:
            self._write(self.RESTORE_AND_ERASE)
            self._shown = False

    def _write(self, text: str) -> None:
        """Write to the terminal itself, around pytest's capture of the item's output."""
        file = self._file
        assert file is not None
        if self._capture is None:
            file.write(text)
            file.flush()
            return
        with self._capture.global_and_fixture_disabled():
            file.write(text)
            file.flush()


#: Modules a call may import on first use; never first imported on the prefetch thread.
_SKIPPED_MODULES = ("_proxy", "_cli")


def _warm_imports(config: pytest.Config) -> None:
    """Import, on the main thread, what the calls import lazily (and build the recorder):
    pytest rewrites llmassert's modules as they are imported, and CPython's AST is not safe to
    use from two threads at once ("AST constructor recursion depth mismatch")."""
    import importlib
    import pkgutil

    for package in ("llmassert._models", "llmassert._recording"):
        module = importlib.import_module(package)
        for info in pkgutil.iter_modules(module.__path__):
            if info.name not in _SKIPPED_MODULES:
                importlib.import_module(f"{package}.{info.name}")
    from llmassert._plugins.recording import get_recording_state

    try:
        state = get_recording_state(config)
    except KeyError:
        return
    state.interceptor  # noqa: B018 (builds the recorder and its store now)


def _state(config: pytest.Config) -> _CasesState:
    state = config.stash.get(_STATE_KEY, None)
    if state is None:
        state = config.stash[_STATE_KEY] = _CasesState(config)
    return state


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and any(
        fnmatch.fnmatchcase(file_path.name, pattern) for pattern in PATTERNS
    ):
        collector: CaseFileCollector = CaseFileCollector.from_parent(parent, path=file_path)
        return collector
    return None


class CaseFileCollector(pytest.File):
    """One ``llm_*.yaml`` file: its cases × models."""

    def collect(self) -> Iterator[CaseItem]:
        from llmassert._cases._file import load_case_file
        from llmassert._errors import ModelSpecError
        from llmassert._models._spec import parse_spec
        from llmassert._plugins.models import project_endpoints

        shown = self.nodeid or self.path.name
        loaded = load_case_file(self.path, shown=shown)
        settings = get_settings(self.config)
        models = loaded.models or settings.models
        if not models:
            raise ConfigError(
                f"{shown}: no model to run the cases on: add models: [SPEC, ...] to the file, "
                "or name one for the run with --llm-model SPEC (or llm_models in the ini), "
                "e.g. demo:prompted"
            )
        if loaded.models:
            endpoints = project_endpoints(self.config)
            for index, spec in enumerate(loaded.models):
                try:
                    parse_spec(spec, endpoints)
                except ModelSpecError as exc:
                    line = loaded.tree["models"].lines[index]
                    raise ConfigError(f"{shown}:{line}: models[{index}]: {exc}") from None
        for case in loaded.cases():
            plan = _plan(case)
            for spec in models:
                name = f"{case.id}[{spec}]"
                # The node id given as a string: pytest parses it as it parses the ids it
                # reads back (--lf, --deselect), "case" and "[model]" as name and params.
                item = CaseItem.from_parent(
                    self,
                    name=name,
                    nodeid=f"{self.nodeid}::{name}",
                    case=case,
                    spec=spec,
                    plan=plan,
                )
                for mark in case.marks:
                    try:
                        item.add_marker(mark)
                    except (
                        AttributeError,
                        pytest.PytestUnknownMarkWarning,
                        pytest.fail.Exception,
                    ) as exc:
                        raise ConfigError(f"{case.where}: marks: {exc}") from None
                yield item

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | Any:
        if isinstance(excinfo.value, UsageError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _plan(case: Case) -> RepeatPlan:
    try:
        return case.plan()
    except ConfigError as exc:  # validated when the case was read; named all the same
        raise ConfigError(f"{case.where}: case {case.id!r}: {exc}") from None


class _SampleFailed(AssertionError):
    """One sample's checks failed: ``lines`` are its output and failing checks."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class CaseItem(pytest.Item):
    """One case on one model: get the response(s), run the checks, give the verdict.

    A repeated case draws its samples through the sampler of ``@pytest.mark.llm`` (every
    verdict mode, early stop, the same ``llm_pass_rate`` property); its requests are fetched
    concurrently on the prefetch loop, so its samples are judged one after another here."""

    def __init__(self, *, case: Case, spec: str, plan: RepeatPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.spec = spec
        self.plan = plan
        from llmassert._checks._sampler import sample_concurrency

        #: Samples in flight at once (as the marker's ``concurrency``).
        self.concurrency = sample_concurrency(plan, get_settings(self.config).concurrency)
        #: Samples fetched ahead when the item draws them as it goes (``None``: all ahead).
        self.window = self.concurrency if plan.early_stop or plan.concurrency is not None else None

    def _response(self, sample: int) -> Response:
        __tracebackhide__ = True
        state = _state(self.config)
        if self.window is not None:  # keep the window in flight: this sample and the next
            state.ensure(
                self.nodeid, self.case, self.spec, self.plan.repeat, sample + self.window - 1
            )
        return state.response(self.nodeid, self.case, self.spec, self.plan.repeat, sample)

    def runtest(self) -> None:
        __tracebackhide__ = True
        from llmassert._cases._verdict import (
            case_failure,
            failed_checks,
            failure_lines,
            prompt_lines,
            run_checks,
        )

        case, plan = self.case, self.plan
        if plan.repeat == 1:
            message = case_failure(case, self.spec, self._response(1))
            if message is not None:
                raise CaseFailure(message)
            return
        from llmassert._checks._sampler import USER_PROPERTY, Sampler

        sampler = Sampler(plan, self.concurrency)
        try:
            while (index := sampler.next_index()) is not None:
                with sampler.sample(index):
                    response = self._response(index)
                    failures = failed_checks(run_checks(case, response))
                    if failures:
                        raise _SampleFailed(failure_lines(response, failures))
        finally:
            _state(self.config).discard(self.nodeid)
        conclusion = sampler.conclude()
        self.user_properties.append((USER_PROPERTY, conclusion.record))
        if conclusion:
            if conclusion.stop_line is not None:
                self.add_report_section("call", "llmassert", conclusion.stop_line)
            return

        def describe(index: int, failure: AssertionError) -> list[str]:
            lines = failure.lines if isinstance(failure, _SampleFailed) else [str(failure)]
            return [f": {lines[0]}", *lines[1:]]

        message = conclusion.message(
            describe, head=f"case {case.id!r} on {self.spec}: ", context=prompt_lines(case)
        )
        raise CaseFailure(_masked([message]))

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        error = excinfo.value
        if isinstance(error, CaseFailure):
            return str(error)
        if isinstance(error, LLMAssertError):
            notes = getattr(error, "__notes__", None) or []  # which sample raised it
            return "\n".join([f"{type(error).__name__}: {error}", *map(str, notes)])
        if type(error).__name__ == "TemplateMismatchError":  # the endpoint's bound template
            return f"{type(error).__name__}: {error}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        file, _, line = self.case.where.rpartition(":")
        inside = file == (self.parent.nodeid if self.parent else "") and line.isdigit()
        return self.path, (int(line) - 1 if inside else None), f"case {self.case.id} [{self.spec}]"


def _context(nodeid: str, repeat: int, sample: int) -> str:
    """The record & replay context of one sample (a plain test's, when there is one)."""
    if repeat == 1:
        return nodeid
    from llmassert._recording._recorder import SAMPLE_MARK

    return f"{nodeid}{SAMPLE_MARK}{sample}"


def _target(item: pytest.Item) -> tuple[Case, str, int, int | None] | None:
    """``(case, model spec, samples, window)`` of a case item or a test parametrized by
    ``cases``; ``window`` is how many samples to fetch ahead when the item draws its samples as
    it goes (``None``: all of them)."""
    if isinstance(item, CaseItem):
        return item.case, item.spec, item.plan.repeat, item.window
    callspec = getattr(item, "callspec", None)
    if callspec is None or _HELPER_KEY not in item.stash:
        return None
    case = callspec.params.get("case")
    if case is None or case.model is None:
        return None
    return case, case.model, case.repeat or 1, None


def _masked(lines: list[str]) -> str:
    from llmassert._checks._pii import redact_secrets

    return redact_secrets("\n".join(lines))


def _scheduled(config: pytest.Config) -> list[int]:
    """The indices (into ``session.items``) of the items pytest-xdist has scheduled on this
    worker and not run yet: its next item and its queue."""
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "torun"):
            indices = [getattr(plugin, "nextitem_index", None)]
            with plugin.torun.lock() as queue:
                indices += list(queue)
            return [index for index in indices if isinstance(index, int)]
    return []


def _prefetching(config: pytest.Config) -> bool:
    settings = get_settings(config)
    return settings.record_mode != "none" and not config.option.collectonly


def _prefetch_all(session: pytest.Session) -> None:
    """Queue the calls of every case item that will run (not on an xdist worker: it fetches
    what it is handed, see :func:`pytest_runtest_setup`)."""
    config = session.config
    if hasattr(config, "workerinput") or not _prefetching(config):
        return
    if session.testsfailed and not config.option.continue_on_collection_errors:
        return  # collection errors: the run stops before the first item
    items = [item for item in session.items if _target(item) is not None]
    if items:
        _state(config).prefetch(items)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Start fetching as soon as the items are chosen (after ``-k``, ``-m``, ``--lf``,
    ``--deselect`` and every plugin's ``pytest_collection_modifyitems``)."""
    _prefetch_all(session)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    _prefetch_all(session)  # items a later plugin added (the others are queued already)
    try:
        return (yield)
    finally:
        _close(session.config)  # -x, --maxfail, Ctrl-C: cancel what is still in flight


def _close(config: pytest.Config) -> None:
    state = config.stash.get(_STATE_KEY, None)
    if state is not None:
        state.close()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    _close(session.config)  # a run that ended before its run loop (Ctrl-C while starting)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under xdist: queue this item's calls and those of the items scheduled after it."""
    if _target(item) is None or not hasattr(item.config, "workerinput"):
        return
    if not _prefetching(item.config):
        return
    ahead: list[pytest.Item] = [item]
    items = item.session.items
    for index in _scheduled(item.config):
        if 0 <= index < len(items) and _target(items[index]) is not None:
            ahead.append(items[index])
    _state(item.config).prefetch(ahead)


# -- the same from Python ----------------------------------------------------------------


def cases(
    source: str | os.PathLike[str] | Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    prompt: str | None = None,
    system: str | None = None,
    models: Sequence[str] | None = None,
) -> pytest.MarkDecorator:
    """Run a test once per case and model of a case file, with the case and its response::

        @llmassert.cases("llm_capitals.yaml")
        def test_capitals(case, response):
            assert_contains(response, case.vars["capital"])
            assert_case(case, response)          # the file's own checks, if you want them

    ``source`` is a case file (relative to the test module), a mapping with the case-file keys,
    or a list of cases (with ``prompt`` / ``system`` here). ``models`` overrides the file's
    ``models`` (default: the session's models). The responses are fetched concurrently before
    the tests run, as for collected case files; ``responses`` gives every sample of a case with
    ``repeat``.
    """
    if isinstance(source, Sequence) and not isinstance(source, str):
        data: Any = {"cases": list(source)}
        if prompt is not None:
            data["prompt"] = prompt
        if system is not None:
            data["system"] = system
        source = data
    elif prompt is not None or system is not None:
        raise UsageError("llmassert.cases: prompt= and system= go with a list of cases")
    return pytest.mark.llm_cases(source, models=tuple(models) if models else None)


def assert_case(case: Case, response: Response) -> None:
    """Assert that every check of ``case`` passes on ``response`` (the message of a failing
    collected case)."""
    __tracebackhide__ = True
    from llmassert._cases._verdict import case_failure

    message = case_failure(case, case.model or "the model", response)
    if message is not None:
        raise CaseFailure(message)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(source, models=None): run the test per case and model of a case file "
        "(use llmassert.cases(...)); the test gets `case` and `response`.",
    )


def _load_helper(metafunc: pytest.Metafunc, marker: pytest.Mark) -> Any:
    from llmassert._cases._file import case_data, load_case_file

    source = marker.args[0] if marker.args else None
    base = metafunc.definition.path.parent
    where = f"llmassert.cases() on {metafunc.definition.nodeid}"
    if isinstance(source, Mapping):
        return case_data(source, base, where)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        path = path if path.is_absolute() else base / path
        shown = os.path.relpath(path, metafunc.config.rootpath)
        return load_case_file(path, shown=shown)
    raise UsageError(f"{where}: give a case file path, a mapping or a list of cases")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    from dataclasses import replace

    try:
        loaded = _load_helper(metafunc, marker)
        models = (
            marker.kwargs.get("models") or loaded.models or get_settings(metafunc.config).models
        )
        if not models:
            raise ConfigError(
                f"{metafunc.definition.nodeid}: no model to run the cases on: pass "
                "models=[...] to llmassert.cases, add models: to the file, or name one for the "
                "run with --llm-model SPEC"
            )
        params = [
            pytest.param(
                replace(case, model=spec),
                id=f"{case.id}-{spec}",
                marks=[getattr(pytest.mark, mark) for mark in case.marks],
            )
            for case in loaded.cases()
            for spec in models
        ]
    except UsageError as exc:
        problem = str(exc)
    else:
        metafunc.parametrize("case", params)
        return
    pytest.fail(problem, pytrace=False)  # a collection error of this module, message only


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker(MARKER) is not None:
            item.stash[_HELPER_KEY] = True


@pytest.fixture
def response(request: pytest.FixtureRequest) -> Response:
    """The response to this test's case (tests parametrized by ``llmassert.cases``): already
    fetched when the run started."""
    return _responses(request)[0]


@pytest.fixture
def responses(request: pytest.FixtureRequest) -> list[Response]:
    """Every sample's response to this test's case (``repeat`` of them)."""
    return _responses(request)


def _responses(request: pytest.FixtureRequest) -> list[Response]:
    __tracebackhide__ = True
    item = request.node
    target = _target(item) if isinstance(item, pytest.Item) else None
    if target is None:
        raise UsageError(
            "the response fixture belongs to tests parametrized by @llmassert.cases(...)"
        )
    case, spec, repeat, _ = target
    state = _state(request.config)
    return [state.response(item.nodeid, case, spec, repeat, k) for k in range(1, repeat + 1)]
