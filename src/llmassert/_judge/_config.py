"""Which model grades: the session's judge (installed by the pytest plugin) or one given per
check. Also the embeddings model of ``semantic_similar``.

The plugin installs a *provider* for the length of a run (``set_provider``): a function from a
spec (or ``None`` for the configured one) to a model built like the fixtures' models (record &
replay, the run's spending guard plus the judge's own caps). Outside pytest a spec is built
with :func:`llmassert.model`; a :class:`~llmassert.Model` given per check is used as it is
(a copy of it, whose calls count as judge calls).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from llmassert._errors import UsageError

if TYPE_CHECKING:
    from llmassert._models._model import Model

__all__ = [
    "NO_EMBEDDING_MODEL",
    "NO_JUDGE",
    "Provider",
    "resolve",
    "set_provider",
]

#: ``(kind, spec)`` -> model; ``kind`` is ``"judge"`` or ``"embedding"``, ``spec`` ``None``
#: for the configured one. Returns ``None`` when none is configured.
Provider = Callable[[str, "str | None"], "Model | None"]

NO_JUDGE = (
    "no judge model is configured. Pass --llm-judge-model SPEC (or set llm_judge_model in the "
    "ini / [tool.pytest.ini_options]), or give one to the check: judge(..., "
    "model='openai:gpt-4o-mini'). demo:judge works offline (a heuristic stand-in, not a real "
    "judge)."
)
NO_EMBEDDING_MODEL = (
    "no embeddings model is configured. Pass --llm-embedding-model SPEC (or set "
    "llm_embedding_model in the ini), e.g. openai:text-embedding-3-small, or give one to the "
    "check: semantic_similar(..., model='openai:text-embedding-3-small'). demo:embed works "
    "offline."
)

_lock = threading.Lock()
_provider: Provider | None = None
_built: dict[tuple[str, str], Model] = {}


def set_provider(provider: Provider | None) -> Provider | None:
    """Install the run's provider (``None`` to remove it); returns the previous one."""
    global _provider
    with _lock:
        previous, _provider = _provider, provider
        _built.clear()
    return previous


def _own(model: Model, kind: str) -> Model:
    """``model`` as a judge / embeddings model: itself when it is one, else a copy (a model
    given to a check is left as it was)."""
    if kind == "embedding":
        from llmassert._judge._embeddings import EmbeddingModel

        return model if isinstance(model, EmbeddingModel) else EmbeddingModel.like(model)
    from llmassert._judge._judge_model import JudgeModel

    return model if isinstance(model, JudgeModel) else JudgeModel.like(model)


def resolve(kind: str, given: object, check: str) -> Model:
    """The model of a check: ``given`` (a spec or a Model) or the configured one; a usage
    error naming the option when there is none. Never makes a call."""
    from llmassert._models._model import Model

    if isinstance(given, Model):
        return _own(given, kind)
    if given is not None and (not isinstance(given, str) or not given.strip()):
        raise UsageError(
            f"check {check!r}: model must be a spec such as 'openai:gpt-4o-mini' or an "
            f"llmassert.Model, got {given!r}"
        )
    spec = given.strip() if isinstance(given, str) else None
    with _lock:
        provider = _provider
        cached = _built.get((kind, spec or ""))
    if cached is not None:
        return cached
    built: Model | None
    if provider is not None:
        built = provider(kind, spec)
    elif spec is not None:
        from llmassert._models._model import model as build

        built = build(spec)
    else:
        built = None
    if built is None:
        raise UsageError(f"check {check!r}: {NO_JUDGE if kind == 'judge' else NO_EMBEDDING_MODEL}")
    built = _own(built, kind)
    with _lock:
        _built.setdefault((kind, spec or ""), built)
        return _built[(kind, spec or "")]
