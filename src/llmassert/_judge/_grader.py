"""Asking a judge model for a verdict: structured output, bounded retries, votes.

One verdict is one chat call at temperature 0 (omitted for reasoning models, which reject it)
with a seed (where the API takes one), asking for ``{"reason": ..., "score": ...}`` in the most
reliable structured form the endpoint offers:

* ``json_schema``: structured outputs (OpenAI ``response_format`` json_schema, Anthropic
  ``output_format``, vLLM / Ollama / llama.cpp guided decoding) - the default for
  OpenAI-compatible endpoints;
* ``tool``: a forced call of the tool ``submit_verdict`` whose parameters are the verdict
  schema - the default for Anthropic, where forced tool use is the best supported way;
* ``json``: JSON mode (``{"type": "json_object"}``), the verdict described in the prompt - the
  fallback.

With ``format="auto"`` an endpoint that rejects a form (HTTP 400 / 422) is asked in the next
one, and that endpoint is asked in the working form from then on. An answer that is not a
verdict (not JSON, no score, a score off the scale) is asked again with the reason it was
rejected, at most ``retries`` times; then :class:`~llmassert.JudgeError`. ``votes=k`` asks ``k``
times with distinct seeds, concurrently (each vote a sample, for record & replay), and
aggregates by mean score or by majority.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmassert._errors import JudgeError, ProviderError, UsageError
from llmassert._judge import _stats
from llmassert._judge._rubrics import Scale

if TYPE_CHECKING:
    from llmassert._models._model import Model
    from llmassert._response import Response

__all__ = ["AGGREGATES", "FORMATS", "TOOL_NAME", "Verdict", "Vote", "grade", "render_prompt"]

log = logging.getLogger("llmassert")

FORMATS = ("auto", "json_schema", "tool", "json")
AGGREGATES = ("mean", "majority")
TOOL_NAME = "submit_verdict"
#: The most characters of a rejected answer kept for the error message.
_SHOWN = 300

_lock = threading.Lock()
#: Endpoint (spec) -> the form that worked after a rejected one (``format="auto"``).
_working: dict[str, str] = {}


@dataclass(frozen=True)
class Vote:
    """One verdict of the judge."""

    #: Normalised to ``[0, 1]``.
    score: float
    #: The score as the judge gave it (``4`` on 1-5, a label).
    raw: object
    reason: str
    #: The structured-output form that produced it.
    format: str
    #: Calls it took (more than 1 when an answer was rejected and asked again).
    attempts: int
    responses: tuple[Response, ...]


@dataclass(frozen=True)
class Verdict:
    """The judge's decision on one output (all votes)."""

    score: float
    passed: bool
    reason: str
    votes: tuple[Vote, ...]
    judge: str
    aggregate: str
    threshold: float
    messages: tuple[Mapping[str, str], ...]

    @property
    def responses(self) -> tuple[Response, ...]:
        return tuple(r for vote in self.votes for r in vote.responses)

    @property
    def cost_usd(self) -> float | None:
        costs = [r.cost_usd for r in self.responses if not r.replayed]
        if any(c is None for c in costs):
            return None
        return float(sum(c for c in costs if c is not None))


def render_prompt(messages: Sequence[Mapping[str, str]]) -> str:
    """The judge prompt as one readable text (``--llm-verbose``, reports)."""
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)


def _auto_format(model: Model) -> str:
    with _lock:
        known = _working.get(model.spec)
    if known is not None:
        return known
    return "tool" if model.endpoint.wire == "anthropic" else "json_schema"


def _fallbacks(first: str) -> list[str]:
    order = ["json_schema", "tool", "json"]
    return [first] + [f for f in order if f != first]


def _params(model: Model, form: str, scale: Scale, seed: int) -> dict[str, Any]:
    from llmassert._models._openai import is_reasoning_model

    params: dict[str, Any] = {}
    endpoint = model.endpoint
    if not (endpoint.wire == "openai" and is_reasoning_model(endpoint, model.model)):
        params["temperature"] = 0
    if endpoint.wire == "openai" and endpoint.api == "chat":
        params["seed"] = seed
    schema = scale.schema()
    if form == "json_schema":
        params["json_schema"] = {"name": "verdict", "schema": schema, "strict": True}
    elif form == "tool":
        params["tools"] = [
            {
                "name": TOOL_NAME,
                "description": "Submit the verdict on the output: the reason, then the score.",
                "parameters": schema,
            }
        ]
        params["tool_choice"] = TOOL_NAME
    else:
        params["response_format"] = "json"
    return params


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def _loads(text: str) -> object:
    """The JSON object in ``text``: all of it, a fenced block, or the outermost ``{...}``."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    fenced = _FENCE.search(text)
    if fenced:
        try:
            return json.loads(fenced.group(1))
        except ValueError:
            pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        return json.loads(text[start : end + 1])
    raise ValueError("no JSON object found")


def _answer_text(response: Response, form: str) -> str:
    if form == "tool":
        for call in response.tool_calls:
            if call.name == TOOL_NAME:
                return call.arguments_json
    return response.text


def _read(response: Response, form: str, scale: Scale) -> tuple[str, Any, str | None]:
    """``(answer, (score, normalised, reason), problem)``; ``problem`` is ``None`` when the
    answer is a verdict."""
    answer = _answer_text(response, form)
    if response.refusal:
        return str(response.refusal), None, f"the judge refused: {response.refusal!r:.120}"
    called = any(c.name == TOOL_NAME for c in response.tool_calls)
    if form == "tool" and not called and not answer.strip():
        return answer, None, f"the judge did not call the tool {TOOL_NAME!r}"
    if not answer.strip():
        return answer, None, "the judge's answer is empty"
    try:
        data = _loads(answer)
    except ValueError as exc:
        return answer, None, f"not JSON ({exc})"
    if not isinstance(data, Mapping):
        return answer, None, f"expected a JSON object, got {type(data).__name__}"
    if "score" not in data:
        return answer, None, "the verdict has no 'score'"
    normalised = scale.normalise(data["score"])
    if normalised is None:
        return answer, None, f"the score {data['score']!r} is not {scale.describe()}"
    reason = data.get("reason")
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else "(no reason given)"
    return answer, (data["score"], normalised, reason), None


def _retry_message(problem: str, scale: Scale) -> dict[str, str]:
    return {
        "role": "user",
        "content": (
            f"That answer is not a valid verdict: {problem}. Answer again with only the verdict "
            f'object {{"reason": "...", "score": ...}}, the score being {scale.describe()}.'
        ),
    }


def _ask(
    model: Model,
    messages: Sequence[Mapping[str, str]],
    scale: Scale,
    form: str,
    retries: int,
    seed: int,
) -> Vote:
    auto = form == "auto"
    forms = _fallbacks(_auto_format(model)) if auto else [form]
    conversation: list[Mapping[str, str]] = list(messages)
    answers: list[str] = []
    problems: list[str] = []
    responses: list[Response] = []
    while True:
        current = forms[0]
        try:
            response = model.complete(conversation, **_params(model, current, scale, seed))
        except ProviderError as exc:
            if auto and exc.status in (400, 422) and len(forms) > 1:
                forms.pop(0)
                log.info(
                    "llmassert judge: %s rejected the %s verdict form (HTTP %s); asking in the "
                    "%s form from now on",
                    model.spec,
                    current,
                    exc.status,
                    forms[0],
                )
                with _lock:
                    _working[model.spec] = forms[0]
                continue
            raise
        responses.append(response)  # counted in the judge totals by the JudgeModel
        answer, verdict, problem = _read(response, current, scale)
        if verdict is not None:
            raw, normalised, reason = verdict
            return Vote(normalised, raw, reason, current, len(responses), tuple(responses))
        answers.append(answer)
        assert problem is not None
        problems.append(problem)
        log.debug("llmassert judge: %s gave no verdict (%s): %r", model.spec, problem, answer)
        if len(responses) > retries:
            break
        conversation = [
            *messages,
            {"role": "assistant", "content": answer or "(empty)"},
            _retry_message(problem, scale),
        ]
    _stats.count("judge", errors=1)
    from llmassert._checks._pii import redact_secrets

    shown = "\n".join(
        f"  - attempt {i}: {problem}; answer: {redact_secrets(answer)[:_SHOWN]!r}"
        for i, (answer, problem) in enumerate(zip(answers, problems, strict=True), 1)
    )
    raise JudgeError(
        f"judge {model.spec}: no readable verdict after {len(responses)} attempt(s) (the "
        f"output under test was not graded):\n{shown}\nThe judge must answer with "
        f'{{"reason": "...", "score": ...}}, the score being {scale.describe()}. Try another '
        "judge model, or format='tool' / 'json' if this endpoint handles structured outputs "
        "poorly.",
        judge=model.spec,
        attempts=len(responses),
        answers=tuple(answers),
        problems=tuple(problems),
    )


def grade(
    model: Model,
    messages: Sequence[Mapping[str, str]],
    scale: Scale,
    *,
    threshold: float,
    votes: int = 1,
    aggregate: str = "mean",
    form: str = "auto",
    retries: int = 2,
    seed: int = 0,
) -> Verdict:
    """The judge's verdict on the case in ``messages`` (see :mod:`llmassert._judge._rubrics`)."""
    if form not in FORMATS:
        raise UsageError(f"check 'judge': format must be one of {', '.join(FORMATS)}, got {form!r}")
    if log.isEnabledFor(logging.DEBUG):
        log.debug("llmassert judge %s prompt:\n%s", model.spec, render_prompt(messages))
    if votes == 1:
        cast = [_ask(model, messages, scale, form, retries, seed)]
    else:
        cast = _concurrent_votes(model, messages, scale, form, retries, seed, votes)
    _stats.count("judge", items=1)
    mean = sum(v.score for v in cast) / len(cast)
    if aggregate == "majority":
        passing = sum(1 for v in cast if v.score >= threshold)
        passed = passing * 2 > len(cast)
    else:
        passed = mean >= threshold
    agreeing = [v for v in cast if (v.score >= threshold) == passed] or list(cast)
    spokesman = min(agreeing, key=lambda v: abs(v.score - mean))
    return Verdict(
        score=mean,
        passed=passed,
        reason=spokesman.reason,
        votes=tuple(cast),
        judge=model.spec,
        aggregate=aggregate,
        threshold=threshold,
        messages=tuple(dict(m) for m in messages),
    )


def _concurrent_votes(
    model: Model,
    messages: Sequence[Mapping[str, str]],
    scale: Scale,
    form: str,
    retries: int,
    seed: int,
    votes: int,
) -> list[Vote]:
    """``votes`` verdicts with seeds ``seed .. seed + votes - 1``, each in its own sample scope
    (the sampling machinery of ``model.sample``: record & replay numbers each vote's calls on
    their own), fetched concurrently within the endpoint's in-flight limit."""
    from llmassert._models._sampling import sample_scope

    def one(index: int) -> Vote:
        with sample_scope(index):
            return _ask(model, messages, scale, form, retries, seed + index - 1)

    workers = max(1, min(votes, model.concurrency or votes))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmassert-judge")
    try:
        futures = [
            pool.submit(contextvars.copy_context().run, one, index) for index in range(1, votes + 1)
        ]
        wait(futures)
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
