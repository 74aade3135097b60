"""Model fixtures: ``llm`` (parametrized over the configured models), ``llm_model`` (factory),
``llm_judge``, and the raw SDK clients ``openai_client`` / ``anthropic_client``.

Every model built here goes through the session's interceptors (record & replay) and the run's
spending guard, and tags its requests with the running test's node id.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from llmassert._errors import ConfigError
from llmassert._plugins.options import get_settings
from llmassert._plugins.state import get_session

if TYPE_CHECKING:
    from llmassert._models._budget import Budget
    from llmassert._models._endpoints import Endpoint
    from llmassert._models._model import Model

__all__ = ["build_model", "project_endpoints"]

_BUDGET_KEY = pytest.StashKey["Budget"]()
_LOG_LEVEL_KEY = pytest.StashKey[int]()
_FIRST_REFUSAL_KEY = pytest.StashKey[str]()

NO_MODEL_MESSAGE = (
    "no model under test is configured for the `llm` fixture. Name one per run with "
    "--llm-model SPEC (repeatable), or once in the ini / pyproject.toml, e.g.\n"
    "    [tool.pytest.ini_options]\n"
    '    llm_models = ["demo:prompted"]\n'
    "Specs: openai:gpt-4o-mini, anthropic:claude-3-5-haiku-latest, demo:prompted (offline "
    "demo), or a named endpoint from [tool.llmassert.endpoints]."
)
NO_JUDGE_MESSAGE = (
    "no judge model is configured for the `llm_judge` fixture. Pass --llm-judge-model SPEC or "
    'set llm_judge_model = "openai:gpt-4o-mini" in the ini / [tool.pytest.ini_options] '
    "(demo:finetuned works offline)."
)


class _Unconfigured:
    """Stands in for an unconfigured model: any use raises the how-to-configure message (the
    test itself is failed by ``pytest_runtest_call``; this covers fixtures that use it)."""

    def __init__(self, message: str) -> None:
        self._message = message

    def __getattr__(self, name: str) -> Any:
        raise ConfigError(self._message)

    def __repr__(self) -> str:
        return "<no model configured>"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmassert")
    group.addoption(
        "--llm-timeout",
        default=None,
        type=float,
        metavar="SECONDS",
        help="Seconds for each model call, retries included (default: the endpoint's "
        "timeout, 60 s).",
    )
    group.addoption(
        "--llm-verbose",
        action="store_true",
        default=False,
        help="Log every model request and response (secrets masked) on the 'llmassert' logger.",
    )
    parser.addini("llm_timeout", default="", help="Seconds for each model call, retries included.")


def _timeout(config: pytest.Config) -> float | None:
    value = config.getoption("--llm-timeout")
    source = "--llm-timeout"
    if value is None:
        raw = config.getini("llm_timeout")
        if not raw:
            return None
        source = "llm_timeout (ini)"
        try:
            value = float(str(raw))
        except ValueError:
            raise ConfigError(f"{source}: expected seconds > 0, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{source}: expected seconds > 0, got {value!r}")
    return float(value)


def pytest_configure(config: pytest.Config) -> None:
    try:
        _timeout(config)
        _check_specs(config)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("--llm-verbose"):
        logger = logging.getLogger("llmassert")
        config.stash[_LOG_LEVEL_KEY] = logger.level
        logger.setLevel(logging.DEBUG)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Cached SDK clients hold keep-alive sockets: close them when the run ends rather than
    # leave them to interpreter shutdown ("ResourceWarning: unclosed <socket ...>").
    clients = sys.modules.get("llmassert._models._clients")
    if clients is not None:
        clients.close_clients()
    health = sys.modules.get("llmassert._models._health")
    if health is not None:  # endpoints found down in this run may be up in the next one
        health.reset_health()
    level = config.stash.get(_LOG_LEVEL_KEY, None)
    if level is not None:  # --llm-verbose ends with the run (in-process runs share loggers)
        logging.getLogger("llmassert").setLevel(level)


def _check_specs(config: pytest.Config) -> None:
    """Parse every configured spec (models under test, judge) and the endpoint tables they may
    name once, at start-up: a typo is one usage error (exit 4), not one error per test.

    Cheap on purpose: only the spec and endpoint parsers are imported (no SDK, no recording
    stack), and only when a model is configured."""
    if config.getoption("help", False) or config.getoption("version", False):
        return
    settings = get_settings(config)
    specs = [(spec, settings.models_source) for spec in settings.models]
    if settings.judge_model:
        specs.append((settings.judge_model, settings.judge_model_source))
    if not specs:
        return
    from llmassert._errors import ModelSpecError
    from llmassert._models._endpoints import load_endpoints
    from llmassert._models._spec import parse_spec

    endpoints = load_endpoints(_pyproject(config))
    for spec, source in specs:
        try:
            parse_spec(spec, endpoints)
        except ModelSpecError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def _budget(config: pytest.Config) -> Budget:
    budget = config.stash.get(_BUDGET_KEY, None)
    if budget is None:
        from llmassert._models._budget import Budget

        settings = get_settings(config)
        budget = Budget(settings.max_cost_usd, settings.max_calls)
        config.stash[_BUDGET_KEY] = budget
    return budget


_PYPROJECT_KEY = pytest.StashKey["tuple[Path | None]"]()


def _pyproject(config: pytest.Config) -> Path | None:
    """The project's pyproject.toml: the ini file, or the nearest one above it / the rootdir
    (looked up once per session: every test that builds a model needs it)."""
    found = config.stash.get(_PYPROJECT_KEY, None)
    if found is None:
        inipath = config.inipath
        if inipath is not None and inipath.name == "pyproject.toml":
            found = (inipath,)
        else:
            from llmassert._models._endpoints import find_pyproject

            found = (find_pyproject(inipath.parent if inipath is not None else config.rootpath),)
        config.stash[_PYPROJECT_KEY] = found
    return found[0]


def _endpoints(config: pytest.Config) -> dict[str, Endpoint]:
    from llmassert._models._model import load_project

    return load_project(_pyproject(config))


def project_endpoints(config: pytest.Config) -> dict[str, Endpoint]:
    """The project's named endpoints (``[tool.llmassert.endpoints]``), prices applied."""
    return _endpoints(config)


def build_model(
    config: pytest.Config, spec: str, context: Callable[[], str | None], **overrides: Any
) -> Model:
    """A model as the fixtures build it: the session's endpoints, interceptors (record &
    replay), spending guard, concurrency and timeout; ``context`` names the running test."""
    from llmassert._models._model import Model

    settings = get_settings(config)
    session = get_session(config)
    timeout = _timeout(config)
    if timeout is not None:
        overrides.setdefault("timeout", timeout)
    return Model(
        spec,
        endpoints=_endpoints(config),
        interceptors=session.interceptors,
        context=context,
        budget=_budget(config),
        concurrency=settings.concurrency,
        **overrides,
    )


def _build(request: pytest.FixtureRequest, spec: str, **overrides: Any) -> Model:
    session = get_session(request.config)
    nodeid = request.node.nodeid

    def context() -> str | None:
        return session.current_test or nodeid

    return build_model(request.config, spec, context, **overrides)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A spending guard's refusal is a short failure, never a traceback: the first test it
    stops shows the whole message (with the advice), every later one a single line pointing
    at it. Those tests fail, never skip: a capped run must not look green."""
    report = yield
    excinfo = call.excinfo
    if excinfo is None or not report.failed:
        return report
    from llmassert._errors import BudgetExceededError

    if not excinfo.errisinstance(BudgetExceededError):
        return report
    first = item.config.stash.get(_FIRST_REFUSAL_KEY, None)
    if first is None:
        item.config.stash[_FIRST_REFUSAL_KEY] = item.nodeid
        report.longrepr = f"BudgetExceededError: {excinfo.value}"
    else:
        headline = str(excinfo.value).split(". ", 1)[0]
        report.longrepr = f"BudgetExceededError: {headline}; first refused in {first}"
    return report


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "llm" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "llm" in names:
            return  # the test picks its own models: @pytest.mark.parametrize("llm", [...])
    models = get_settings(metafunc.config).models
    if models:
        metafunc.parametrize("llm", list(models), ids=list(models), indirect=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    names = getattr(item, "fixturenames", ())
    settings = get_settings(item.config)
    callspec = getattr(item, "callspec", None)
    picked = callspec is not None and "llm" in callspec.params
    if "llm" in names and not settings.models and not picked:
        pytest.fail(NO_MODEL_MESSAGE, pytrace=False)
    if "llm_judge" in names and not settings.judge_model:
        pytest.fail(NO_JUDGE_MESSAGE, pytrace=False)


@pytest.fixture
def llm(request: pytest.FixtureRequest) -> Model | Any:
    """The model under test: the test runs once per ``--llm-model`` / ``llm_models`` entry and
    its id shows the spec (``test_x[demo:prompted]``). With no model configured the test fails
    with a message saying how to configure one."""
    spec = getattr(request, "param", None)
    if spec is None:
        return _Unconfigured(NO_MODEL_MESSAGE)  # pytest_runtest_call fails the test
    return _build(request, spec)


@pytest.fixture
def llm_model(request: pytest.FixtureRequest) -> Callable[..., Model]:
    """Factory: ``llm_model("openai:gpt-4o-mini", timeout=10)`` -> a configured Model."""

    def factory(spec: str, **overrides: Any) -> Model:
        return _build(request, spec, **overrides)

    return factory


@pytest.fixture
def llm_judge(request: pytest.FixtureRequest) -> Model | Any:
    """The judge model (``--llm-judge-model`` / ``llm_judge_model``): its calls are judge calls
    (``Response.purpose == "judge"``, the judge's caps and summary line)."""
    spec = get_settings(request.config).judge_model
    if not spec:
        return _Unconfigured(NO_JUDGE_MESSAGE)  # pytest_runtest_call fails the test
    from llmassert._plugins.judge import as_judge

    return as_judge(request.config, _build(request, spec))


def _sdk_endpoint(config: pytest.Config, wire: str) -> tuple[Endpoint, str]:
    """The endpoint the raw client talks to: the first configured model of that wire format,
    else the provider's defaults (its SDK environment variables)."""
    from llmassert._models._endpoints import builtin_endpoint
    from llmassert._models._spec import parse_spec

    endpoints = _endpoints(config)
    for spec in get_settings(config).models:
        parsed = parse_spec(spec, endpoints)
        if parsed.endpoint.wire == wire:
            endpoint = parsed.endpoint
            if endpoint.provider == "demo":
                from dataclasses import replace

                from llmassert._models._demo import demo_base_url

                endpoint = replace(endpoint, base_url=demo_base_url(parsed.model))
            return endpoint, spec
    return builtin_endpoint(wire), wire


def _raw_client(config: pytest.Config, wire: str) -> Any:
    from llmassert._models._clients import raw_client

    endpoint, label = _sdk_endpoint(config, wire)
    return raw_client(endpoint, label)


@pytest.fixture(scope="session")
def openai_client(pytestconfig: pytest.Config) -> Iterator[Any]:
    """A raw ``openai.OpenAI`` client (``AzureOpenAI`` for an Azure endpoint) for the first
    configured OpenAI-family model (or the SDK's environment defaults). It keeps the SDK's own
    retry defaults (llmassert's retry layer is not involved)."""
    client = _raw_client(pytestconfig, "openai")
    yield client
    client.close()


@pytest.fixture(scope="session")
def anthropic_client(pytestconfig: pytest.Config) -> Iterator[Any]:
    """A raw ``anthropic.Anthropic`` client for the first configured Anthropic model (or the
    SDK's environment defaults), with the SDK's own retry defaults."""
    client = _raw_client(pytestconfig, "anthropic")
    yield client
    client.close()
