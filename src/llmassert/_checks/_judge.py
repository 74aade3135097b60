"""Model-graded checks: ``judge`` (a rubric graded by the judge model) and
``semantic_similar`` (cosine similarity of embeddings).

Both call a model, so both need one: the session's (``--llm-judge-model``,
``--llm-embedding-model``) or one given to the check (``model=``). The engine is
:mod:`llmassert._judge`, imported on first use.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from llmassert._checks._base import (
    Check,
    Outcome,
    args_repr,
    register,
    require_number,
    require_str,
)
from llmassert._checks._format import quote
from llmassert._checks._output import text_of
from llmassert._errors import LLMAssertError, UsageError

if TYPE_CHECKING:
    from llmassert._judge._rubrics import Rubric, Scale
    from llmassert._models._model import Model

__all__ = ["DEFAULT_THRESHOLD", "case_parts", "judge", "semantic_similar", "session_model_needed"]

#: The normalised score a judge verdict must reach by default (4 on the 1-5 scale).
DEFAULT_THRESHOLD = 0.75
#: The cosine similarity ``semantic_similar`` requires by default.
DEFAULT_MIN_SIMILARITY = 0.8

#: The running case's ``system`` / ``input`` (case files): what ``judge`` grades against when
#: the check does not say.
_CASE: contextvars.ContextVar[Mapping[str, str | None] | None] = contextvars.ContextVar(
    "llmassert_case_parts", default=None
)


@contextmanager
def case_parts(system: str | None, prompt: object) -> Iterator[None]:
    """Run checks of a case whose system prompt and input are these (``prompt``: a string or
    chat messages, whose last user message is the input)."""
    if isinstance(prompt, str):
        user: str | None = prompt
    else:
        users = [
            m.get("content")
            for m in prompt or ()  # type: ignore[attr-defined]
            if isinstance(m, Mapping) and m.get("role") == "user"
        ]
        user = str(users[-1]) if users else None
    token = _CASE.set({"system": system, "input": user})
    try:
        yield
    finally:
        _CASE.reset(token)


def _is_model(value: object) -> bool:
    """A spec or a Model (checked without importing the model stack)."""
    return isinstance(value, str) or callable(getattr(value, "complete", None))


def _optional_str(check: str, arg: str, value: object) -> str | None:
    return None if value is None else require_str(check, arg, value)


def _scale(value: object) -> Scale:
    from llmassert._judge._rubrics import Scale

    if value is None:
        return Scale()
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        low, high = int(value[0]), int(value[1])
        if low < high:
            return Scale(low, high)
    elif (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) >= 2
        and all(isinstance(v, str) and v.strip() for v in value)
        and len({v.strip().lower() for v in value}) == len(value)
    ):
        return Scale(labels=tuple(v.strip() for v in value))
    raise UsageError(
        "check 'judge': scale must be an integer range [low, high] (e.g. [1, 5]) or a list of "
        f'two or more distinct labels from worst to best (e.g. ["fail", "pass"]), got {value!r}'
    )


class _Judge(Check):
    name = "judge"

    def __init__(
        self,
        rubric: object,
        *,
        reference: object,
        input: object,
        context: object,
        system: object,
        threshold: object,
        scale: object,
        votes: object,
        aggregate: object,
        model: object,
        format: object,
        retries: object,
    ) -> None:
        super().__init__()
        from llmassert._judge._grader import AGGREGATES, FORMATS
        from llmassert._judge._rubrics import get_rubric

        self.rubric: Rubric = get_rubric(rubric)  # type: ignore[arg-type]
        self.parts: dict[str, str | None] = {
            "reference": _optional_str("judge", "reference", reference),
            "input": _optional_str("judge", "input", input),
            "context": _optional_str("judge", "context", context),
            "system": _optional_str("judge", "system", system),
        }
        self.threshold = (
            DEFAULT_THRESHOLD
            if threshold is None
            else require_number("judge", "threshold", threshold)
        )
        if not 0.0 <= self.threshold <= 1.0:
            raise UsageError(
                f"check 'judge': threshold is a normalised score between 0 and 1, got {threshold!r}"
            )
        self.scale = _scale(scale)
        self.votes = int(require_number("judge", "votes", votes, minimum=1, integer=True))
        if aggregate not in AGGREGATES:
            raise UsageError(
                f"check 'judge': aggregate must be one of {', '.join(AGGREGATES)}, "
                f"got {aggregate!r}"
            )
        self.aggregate = str(aggregate)
        if format not in FORMATS:
            raise UsageError(
                f"check 'judge': format must be one of {', '.join(FORMATS)}, got {format!r}"
            )
        self.format = str(format)
        self.retries = int(require_number("judge", "retries", retries, integer=True))
        if model is not None and not _is_model(model):
            raise UsageError(
                "check 'judge': model must be a spec such as 'openai:gpt-4o-mini' or an "
                f"llmassert.Model, got {model!r}"
            )
        self.model = model
        self._args = args_repr(
            self.rubric.name or rubric,
            reference=reference,
            threshold=threshold,
            votes=None if self.votes == 1 else self.votes,
        )

    def _rubric_shown(self) -> str:
        if self.rubric.name:
            return f"the rubric {self.rubric.name!r}"
        return f"the rubric {quote(self.rubric.text, 80)}"

    def expectation(self) -> str:
        return f"to meet {self._rubric_shown()} (judge score >= {self.threshold:.2f})"

    def negated_expectation(self) -> str:
        return f"not to meet {self._rubric_shown()} (judge score < {self.threshold:.2f})"

    def _case_parts(self) -> dict[str, str | None]:
        parts = dict(self.parts)
        running = _CASE.get()
        if running:
            for key in ("input", "system"):
                if parts.get(key) is None:
                    parts[key] = running.get(key)
        missing = [p for p in self.rubric.needs if not parts.get(p)]
        if missing:
            raise UsageError(
                f"check 'judge': the rubric {self.rubric.name!r} needs "
                f"{' and '.join(missing)}=...: pass "
                + ", ".join(f"{p}=..." for p in missing)
                + " to judge() (in a case file, input and system come from the case)"
            )
        return parts

    def judge_model(self) -> Model:
        from llmassert._judge._config import resolve

        return resolve("judge", self.model, "judge")

    def evaluate(self, output: object) -> Outcome:
        __tracebackhide__ = True
        from llmassert._judge._grader import grade, render_prompt
        from llmassert._judge._rubrics import judge_messages

        text = text_of(output, self.name)
        parts = self._case_parts()
        model = self.judge_model()  # a usage error when none is configured: before any call
        messages = judge_messages(self.rubric, self.scale, text, parts)
        try:
            verdict = grade(
                model,
                messages,
                self.scale,
                threshold=self.threshold,
                votes=self.votes,
                aggregate=self.aggregate,
                form=self.format,
                retries=self.retries,
            )
        except LLMAssertError as exc:  # one short block: the message, not the engine's frames
            raise exc.with_traceback(None)  # noqa: B904
        first = verdict.votes[0]
        if len(verdict.votes) == 1:
            score_text = f"score {self.scale.shown(first.raw)} = {verdict.score:.2f}"
        else:
            shown = ", ".join(self.scale.shown(v.raw) for v in verdict.votes)
            score_text = f"{verdict.aggregate} of {len(verdict.votes)} votes ({shown}) = "
            score_text += f"{verdict.score:.2f}"
        relation = ">=" if verdict.score >= self.threshold else "<"
        notes = [
            f"rubric: {quote(self.rubric.text, 300)}"
            if not self.rubric.name
            else f"rubric {self.rubric.name!r}: {quote(self.rubric.text, 120)}",
            f"judge ({verdict.judge}): {score_text} {relation} threshold {self.threshold:.2f}",
            f"judge reason: {quote(verdict.reason, 400)}",
        ]
        if self.aggregate == "majority" and len(verdict.votes) > 1:
            passing = sum(1 for v in verdict.votes if v.score >= self.threshold)
            notes.append(f"votes: {passing}/{len(verdict.votes)} reach the threshold (majority)")
        details: dict[str, Any] = {
            "judge": verdict.judge,
            "rubric": self.rubric.name or self.rubric.text,
            "judge_score": verdict.score,
            "judge_reason": verdict.reason,
            "judge_votes": [v.score for v in verdict.votes],
            "judge_format": first.format,
            "judge_calls": len(verdict.responses),
            "judge_cost_usd": verdict.cost_usd,
            "judge_prompt": render_prompt(verdict.messages),
        }
        return Outcome(
            verdict.passed,
            f"judge {score_text} ({relation} {self.threshold:.2f}): {verdict.reason}",
            notes=tuple(notes),
            score=verdict.score,
            value=verdict,
            details=details,
        )


@register("judge")
def judge(
    rubric: str,
    *,
    reference: str | None = None,
    input: str | None = None,
    context: str | None = None,
    system: str | None = None,
    threshold: float | None = None,
    scale: Sequence[int] | Sequence[str] | None = None,
    votes: int = 1,
    aggregate: str = "mean",
    model: str | Model | None = None,
    format: str = "auto",
    retries: int = 2,
) -> Check:
    """The judge model grades the output against ``rubric``: a criterion in plain words
    (``"answers politely and offers a refund"``) or a built-in rubric name (``factuality``,
    ``relevance``, ``follows_system_prompt``, ``politeness``, ``closed_qa``, ``grounded``,
    ``refusal``). ``reference``, ``input``, ``context`` and ``system`` are shown to the judge
    (in case files ``input`` and ``system`` default to the case's). The verdict's score on
    ``scale`` (default 1-5, or labels worst first) is normalised to [0, 1]; the check passes
    when it reaches ``threshold`` (default 0.75). ``votes=k`` asks k times with distinct seeds
    (``aggregate`` ``"mean"`` or ``"majority"``). ``model`` overrides the session's judge
    (``--llm-judge-model``); ``format`` picks the structured-output form (``auto``,
    ``json_schema``, ``tool``, ``json``); an unreadable verdict is asked again ``retries``
    times, then raises :class:`~llmassert.JudgeError`."""
    return _Judge(
        rubric,
        reference=reference,
        input=input,
        context=context,
        system=system,
        threshold=threshold,
        scale=scale,
        votes=votes,
        aggregate=aggregate,
        model=model,
        format=format,
        retries=retries,
    )


class _SemanticSimilar(Check):
    name = "semantic_similar"

    def __init__(self, reference: object, min_similarity: object, model: object) -> None:
        super().__init__()
        self.reference = require_str("semantic_similar", "reference", reference)
        self.min_similarity = (
            DEFAULT_MIN_SIMILARITY
            if min_similarity is None
            else require_number("semantic_similar", "min_similarity", min_similarity, minimum=-1)
        )
        if self.min_similarity > 1.0:
            raise UsageError(
                "check 'semantic_similar': min_similarity is a cosine similarity (at most 1), "
                f"got {min_similarity!r}"
            )
        if model is not None and not _is_model(model):
            raise UsageError(
                "check 'semantic_similar'': model must be a spec such as "
                f"'openai:text-embedding-3-small' or an llmassert.Model, got {model!r}"
            )
        self.model = model
        self._args = args_repr(reference, min_similarity=min_similarity)

    def expectation(self) -> str:
        return (
            f"to mean the same as {quote(self.reference, 60)} (cosine similarity of embeddings "
            f">= {self.min_similarity:.2f})"
        )

    def negated_expectation(self) -> str:
        return (
            f"not to mean the same as {quote(self.reference, 60)} (cosine similarity of "
            f"embeddings < {self.min_similarity:.2f})"
        )

    def evaluate(self, output: object) -> Outcome:
        from llmassert._judge._config import resolve

        __tracebackhide__ = True
        from llmassert._judge._embeddings import EmbeddingModel, cosine

        text = text_of(output, self.name)
        model = resolve("embedding", self.model, self.name)
        assert isinstance(model, EmbeddingModel)
        if not text.strip():
            return Outcome(False, "the output is empty (nothing to embed)", score=0.0)
        try:
            mine, theirs = model.embed([text, self.reference])
        except LLMAssertError as exc:
            raise exc.with_traceback(None)  # noqa: B904
        similarity = cosine(mine, theirs)
        relation = ">=" if similarity >= self.min_similarity else "<"
        summary = (
            f"cosine similarity {similarity:.3f} {relation} {self.min_similarity:.2f} "
            f"({model.spec}, {len(mine)} dimensions)"
        )
        return Outcome(
            similarity >= self.min_similarity,
            summary,
            score=max(0.0, min(1.0, similarity)),
            value=similarity,
            details={"embedding_model": model.spec, "similarity": similarity},
        )


@register("semantic_similar")
def semantic_similar(
    reference: str, *, min_similarity: float | None = None, model: str | Model | None = None
) -> Check:
    """The output means about the same as ``reference``: the cosine similarity of their
    embeddings (``--llm-embedding-model``, or ``model=``; OpenAI or OpenAI-compatible
    ``/v1/embeddings``) is at least ``min_similarity`` (default 0.8). Embeddings are cached in
    the run and recorded like every call; the lexical ``similar`` stays offline."""
    return _SemanticSimilar(reference, min_similarity, model)


def session_model_needed(check: Check) -> str | None:
    """``"judge"`` / ``"embedding"`` when ``check`` (or its negation) grades with the session's
    judge / embeddings model (none given to the check), else ``None``."""
    inner = getattr(check, "inner", check)
    if isinstance(inner, _Judge) and inner.model is None:
        return "judge"
    if isinstance(inner, _SemanticSimilar) and inner.model is None:
        return "embedding"
    if inner.name == "refusal" and getattr(inner, "judge", False) is True:
        return "judge" if getattr(inner, "judge_model", None) is None else None
    return None
