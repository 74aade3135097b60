"""Model-graded checks in pytest: the session's judge and embeddings models, the graders' own
spending caps (``--llm-judge-max-calls``, ``--llm-judge-max-cost``: judge and embeddings
calls), and the summary line that counts judge and embeddings calls apart from the model under
test.

Grader calls count towards ``--llm-max-calls`` / ``--llm-max-cost`` too (the judge's budget
sits inside the run's). Nothing heavy is imported at start-up: the models are built on the
first check that needs one.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest

from llmassert._errors import ConfigError
from llmassert._plugins.options import get_settings
from llmassert._plugins.state import get_session

if TYPE_CHECKING:
    from llmassert._judge._config import Provider
    from llmassert._models._budget import Budget
    from llmassert._models._model import Model

__all__ = ["as_judge", "judge_budget"]

_JUDGE_BUDGET_KEY = pytest.StashKey["Budget"]()
_PREVIOUS_KEY = pytest.StashKey["Provider | None"]()
_OUTER_STATS_KEY = pytest.StashKey[dict[str, dict[str, Any]]]()
_WORKER_STATS_KEY = pytest.StashKey[list[dict[str, Any]]]()
_WORKER_OUTPUT = "llmassert_judge"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmassert")
    group.addoption(
        "--llm-judge-max-calls",
        default=None,
        type=int,
        metavar="N",
        help="Stop after this many live grader calls: judge and embeddings calls (they also "
        "count towards --llm-max-calls).",
    )
    group.addoption(
        "--llm-judge-max-cost",
        default=None,
        type=float,
        metavar="USD",
        help="Stop live grader calls (judge and embeddings) once they have cost this much (they "
        "also count towards --llm-max-cost).",
    )
    group.addoption(
        "--llm-embedding-model",
        default=None,
        metavar="SPEC",
        help="Embeddings model of semantic_similar checks, e.g. openai:text-embedding-3-small "
        "(demo:embed works offline).",
    )
    parser.addini(
        "llm_embedding_model", default="", help="Embeddings model spec of semantic_similar."
    )


def _caps(config: pytest.Config) -> tuple[float | None, int | None]:
    max_cost = config.getoption("--llm-judge-max-cost")
    if max_cost is not None and max_cost < 0:
        raise ConfigError(
            f"--llm-judge-max-cost: expected a non-negative amount in USD, got {max_cost}"
        )
    max_calls = config.getoption("--llm-judge-max-calls")
    if max_calls is not None and max_calls < 0:
        raise ConfigError(f"--llm-judge-max-calls: expected a whole number >= 0, got {max_calls}")
    return max_cost, max_calls


def _embedding_spec(config: pytest.Config) -> str | None:
    spec = config.getoption("--llm-embedding-model") or config.getini("llm_embedding_model")
    return str(spec).strip() or None if spec else None


def judge_budget(config: pytest.Config) -> Budget:
    """The graders' budget (judge and embeddings calls): their own caps, inside the run's
    spending guard."""
    budget = config.stash.get(_JUDGE_BUDGET_KEY, None)
    if budget is None:
        from llmassert._models._budget import Budget
        from llmassert._plugins.models import _budget

        max_cost, max_calls = _caps(config)
        budget = Budget(
            max_cost,
            max_calls,
            parent=_budget(config),
            options=("--llm-judge-max-cost", "--llm-judge-max-calls"),
        )
        config.stash[_JUDGE_BUDGET_KEY] = budget
    return budget


def as_judge(config: pytest.Config, model: Model) -> Model:
    """``model`` as the session's judge: its calls are judge calls (``Response.purpose``,
    the judge totals of the summary) and go through the judge's budget."""
    from llmassert._judge._judge_model import JudgeModel

    judge = JudgeModel.make(model)
    judge.budget = judge_budget(config)
    return judge


def _provider(config: pytest.Config) -> Provider:
    session = get_session(config)

    def context() -> str | None:
        return session.current_test

    def provide(kind: str, spec: str | None) -> Model | None:
        from llmassert._plugins.models import build_model

        settings = get_settings(config)
        if spec is None:
            spec = settings.judge_model if kind == "judge" else _embedding_spec(config)
        if not spec:
            return None
        model = build_model(config, spec, context)
        if kind == "judge":
            return as_judge(config, model)
        from llmassert._judge._embeddings import EmbeddingModel

        embedder = EmbeddingModel.like(model)
        embedder.budget = judge_budget(config)  # a grader call: the judge's caps, then the run's
        return embedder

    return provide


def pytest_configure(config: pytest.Config) -> None:
    try:
        _caps(config)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    spec = _embedding_spec(config)
    if spec and not (config.getoption("help", False) or config.getoption("version", False)):
        from llmassert._errors import ModelSpecError
        from llmassert._models._spec import parse_spec
        from llmassert._plugins.models import project_endpoints

        try:
            parse_spec(spec, project_endpoints(config))
        except ModelSpecError as exc:
            raise pytest.UsageError(f"--llm-embedding-model / llm_embedding_model: {exc}") from None
    from llmassert._judge import _config, _stats

    config.stash[_OUTER_STATS_KEY] = _stats.reset()
    embeddings = sys.modules.get("llmassert._judge._embeddings")  # never imported just for this
    if embeddings is not None:  # a run embeds afresh (or replays): no vectors from an earlier run
        embeddings.clear_cache()
    config.stash[_PREVIOUS_KEY] = _config.set_provider(_provider(config))
    config.stash[_WORKER_STATS_KEY] = []


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _PREVIOUS_KEY in config.stash:  # nested (pytester) runs restore the outer run's
        from llmassert._judge import _config, _stats

        _config.set_provider(config.stash[_PREVIOUS_KEY])
        _stats.restore(config.stash.get(_OUTER_STATS_KEY, {}))


_MISSING = {
    "judge": "no judge model is configured: pass --llm-judge-model SPEC or set llm_judge_model "
    "(demo:judge works offline), or give the check a model",
    "embedding": "no embeddings model is configured: pass --llm-embedding-model SPEC or set "
    "llm_embedding_model (demo:embed works offline), or give the check a model",
}


@pytest.hookimpl(trylast=True)  # after -k / -m deselection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A case file whose checks need the session's judge (or embeddings model) when none is
    configured is one usage error at collection, before any model call (prefetch included)."""
    cases = [(item, getattr(item, "case", None)) for item in items]
    cases = [(item, case) for item, case in cases if hasattr(case, "checks")]
    if not cases:
        return
    from llmassert._checks._judge import session_model_needed

    configured = {
        "judge": bool(get_settings(config).judge_model),
        "embedding": bool(_embedding_spec(config)),
    }
    for item, case in cases:
        for check in case.checks:  # type: ignore[union-attr]
            kind = session_model_needed(check)
            if kind is not None and not configured[kind]:
                where = getattr(case, "where", item.nodeid)
                raise pytest.UsageError(
                    f"{where}: case {getattr(case, 'id', '?')!r} has the check {check.name!r}, "
                    f"but {_MISSING[kind]}"
                )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        from llmassert._judge import _stats

        config.workeroutput[_WORKER_OUTPUT] = _stats.snapshot()  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    output = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if output:
        node.config.stash.setdefault(_WORKER_STATS_KEY, []).append(output)


def _totals(config: pytest.Config) -> dict[str, Any]:
    from llmassert._judge._stats import PurposeStats, snapshot

    merged: dict[str, PurposeStats] = {}
    for part in [snapshot(), *config.stash.get(_WORKER_STATS_KEY, [])]:
        for purpose, values in part.items():
            merged.setdefault(purpose, PurposeStats()).merge(values)
    return merged


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _money(stats: Any) -> str:
    cost = f"${stats.cost_usd:.6f}"
    if stats.unpriced:
        cost += f" (+{_n(stats.unpriced, 'live call')} of unknown price)"
    return cost


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not get_settings(config).summary:
        return
    if "llmassert._judge._stats" not in sys.modules:
        return  # no model-graded check ran: nothing to count (and nothing to import)
    totals = _totals(config)
    judge = totals.get("judge")
    if judge is not None and judge.calls:
        line = (
            f"llmassert judge: {_n(judge.calls, 'judge call')} ({judge.live} live, "
            f"{judge.replayed} replayed) for {_n(judge.items, 'verdict')}, cost {_money(judge)}, "
            f"{judge.latency_s:.2f} s, {judge.input_tokens + judge.output_tokens:,} tokens "
            "(not counted in the model under test's)"
        )
        if judge.errors:
            line += f"; {_n(judge.errors, 'judge error')} (no readable verdict)"
        terminalreporter.write_line(line, yellow=bool(judge.errors))
    embedding = totals.get("embedding")
    if embedding is not None and embedding.calls:
        terminalreporter.write_line(
            f"llmassert embeddings: {_n(embedding.items, 'text')} embedded in "
            f"{_n(embedding.calls, 'call')} "
            f"({embedding.live} live, {embedding.replayed} replayed), cost {_money(embedding)}, "
            f"{embedding.latency_s:.2f} s"
        )
