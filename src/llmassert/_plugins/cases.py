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
    from llmassert._models._model import Model
    from llmassert._plugins.marker import RepeatPlan
    from llmassert._response import Response

__all__ = ["CaseFailure", "CaseFileCollector", "CaseItem", "assert_case", "cases"]

#: The file names collected.
PATTERNS = ("llm_*.yaml", "llm_*.yml")
#: How many failing samples a repeated case's failure message lists.
MAX_SAMPLES_LISTED = 5

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
    jobs: dict[tuple[str, int], Job] = field(default_factory=dict)
    submitted: set[str] = field(default_factory=set)

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

    def prefetch(self, items: list[pytest.Item]) -> None:
        """Queue the calls of ``items`` (case items, and tests parametrized by ``cases``) not
        queued yet, in this order."""
        from llmassert._cases._prefetch import Job, Prefetcher
        from llmassert._models._limits import worker_share

        if self.prefetcher is None:
            _warm_imports(self.config)
            self.prefetcher = Prefetcher()
        jobs = []
        for item in items:
            target = _target(item)
            if target is None or item.nodeid in self.submitted:
                continue
            case, spec, repeat = target
            self.submitted.add(item.nodeid)
            model = self.model(spec)
            prompt, params = case.complete_args()
            for sample in range(1, repeat + 1):
                context = _context(item.nodeid, repeat, sample)
                job = Job(model, prompt, params, context, worker_share(model.concurrency))
                self.jobs[(item.nodeid, sample)] = job
                jobs.append(job)
        self.prefetcher.submit(jobs)

    def response(self, nodeid: str, case: Case, spec: str, repeat: int, sample: int) -> Response:
        """The response of one sample: prefetched, else fetched now."""
        __tracebackhide__ = True
        job = self.jobs.pop((nodeid, sample), None)
        if job is None:
            from llmassert._cases._prefetch import CONTEXT

            prompt, params = case.complete_args()
            token = CONTEXT.set(_context(nodeid, repeat, sample))
            try:
                return self.model(spec).complete(prompt, **params)
            finally:
                CONTEXT.reset(token)
        import concurrent.futures

        while not job.future.done():  # short waits: Ctrl-C is seen at once
            concurrent.futures.wait([job.future], timeout=0.2)
        prefetched = job.future.result()
        from llmassert._observe import note_call

        prompt, params = case.complete_args()
        note_call(prefetched, prompt, params.get("system"))  # made ahead, noted for this test
        return prefetched

    def close(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.close(cancel=True)
            self.prefetcher = None
        self.jobs.clear()


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
    from llmassert._plugins.marker import MARKER_ARGS, parse_marker

    kwargs: dict[str, Any] = {}
    if case.repeat is not None:
        kwargs["repeat"] = case.repeat
    if case.pass_rate is not None:
        kwargs["pass_rate"] = case.pass_rate
    try:
        return parse_marker(pytest.Mark("llm", (), kwargs, _ispytest=True))
    except ConfigError as exc:  # the schema keeps these in range; named all the same
        raise ConfigError(f"{case.where}: {exc} (valid: {', '.join(MARKER_ARGS)})") from None


class CaseItem(pytest.Item):
    """One case on one model: get the response(s), run the checks, give the verdict."""

    def __init__(self, *, case: Case, spec: str, plan: RepeatPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.spec = spec
        self.plan = plan

    def _response(self, sample: int) -> Response:
        __tracebackhide__ = True
        state = _state(self.config)
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
        head = f"case {case.id!r} on {self.spec}"
        if plan.repeat == 1:
            message = case_failure(case, self.spec, self._response(1))
            if message is not None:
                raise CaseFailure(message)
            return
        from llmassert._checks._passrate import pass_rate
        from llmassert._plugins.marker import USER_PROPERTY

        passed: list[bool] = []
        failed: list[tuple[int, list[str]]] = []
        from llmassert._observe import observed_sample

        for sample in range(1, plan.repeat + 1):
            with observed_sample(sample):
                response = self._response(sample)
                failures = failed_checks(run_checks(case, response))
            passed.append(not failures)
            if failures:
                failed.append((sample, failure_lines(response, failures)))
        summary = pass_rate(passed, plan.pass_rate, confidence=plan.confidence)
        self.user_properties.append(
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
                    "failed_samples": [index for index, _ in failed],
                },
            )
        )
        if summary:
            return
        lines = [f"{head}: {plan.describe()}: {summary}", *prompt_lines(case)]
        lines.append(f"failed samples ({len(failed)}):")
        for index, shown in failed[:MAX_SAMPLES_LISTED]:
            lines.append(f"  sample {index}: {shown[0]}")
            lines += [f"    {line}" for line in shown[1:]]
        if len(failed) > MAX_SAMPLES_LISTED:
            lines.append(f"  ... and {len(failed) - MAX_SAMPLES_LISTED} more failed samples")
        raise CaseFailure(_masked(lines))

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        error = excinfo.value
        if isinstance(error, CaseFailure):
            return str(error)
        if isinstance(error, LLMAssertError):
            return f"{type(error).__name__}: {error}"
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


def _target(item: pytest.Item) -> tuple[Case, str, int] | None:
    """``(case, model spec, samples)`` of a case item or a test parametrized by ``cases``."""
    if isinstance(item, CaseItem):
        return item.case, item.spec, item.plan.repeat
    callspec = getattr(item, "callspec", None)
    if callspec is None or _HELPER_KEY not in item.stash:
        return None
    case = callspec.params.get("case")
    if case is None or case.model is None:
        return None
    return case, case.model, case.repeat or 1


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


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    items = [item for item in session.items if _target(item) is not None]
    if items and _prefetching(session.config) and not hasattr(session.config, "workerinput"):
        _state(session.config).prefetch(items)
    try:
        return (yield)
    finally:
        state = session.config.stash.get(_STATE_KEY, None)
        if state is not None:
            state.close()  # -x, --maxfail, Ctrl-C: cancel what is still in flight


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
    case, spec, repeat = target
    state = _state(request.config)
    return [state.response(item.nodeid, case, spec, repeat, k) for k in range(1, repeat + 1)]
