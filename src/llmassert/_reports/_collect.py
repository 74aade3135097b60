"""Turning one pytest item (its report, its observation, its verdict) into a report TEST entry.

Runs in the process that ran the test (an xdist worker too): the entry is plain JSON data, so it
travels to the controller in the report's ``user_properties``. Texts that could hold a secret
(prompts, outputs, messages, check reasons) are masked here, before they leave the process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llmassert._reports._kinds import CHECK_KINDS, check_kind

if TYPE_CHECKING:
    import pytest

    from llmassert._observe import NotedCall, SampleNotes, TestObservation

__all__ = [
    "CHECK_KINDS",
    "MAX_MESSAGE_CHARS",
    "MAX_OUTPUT_CHARS",
    "call_record",
    "check_kind",
    "check_record",
    "entry_of",
    "fixture_group",
    "key_of",
    "masker",
    "model_of",
    "secret_values",
]

#: Outputs (and prompt parts) longer than this are cut, with a marker saying how much was cut.
MAX_OUTPUT_CHARS = 20_000
#: A failure message is cut at this length.
MAX_MESSAGE_CHARS = 2_000
#: A check's reason is cut at this length.
MAX_REASON_CHARS = 1_000


#: The words of pytest's outcomes in a report.
_OUTCOMES = ("passed", "failed", "skipped", "error", "xfailed", "xpassed")
#: Marks that say how pytest runs a test rather than what it is.
_PLUMBING_MARKS = frozenset({"parametrize", "usefixtures", "filterwarnings", "llm_cases"})


_cached_env: dict[Any, Any] | None = None
_cached_env_secrets: dict[str, str] = {}


#: pytest sets this variable for every phase of every test: it never holds a secret, and a
#: cache keyed on the whole environment would miss every time because of it.
_PHASE_VARIABLE = ("PYTEST_CURRENT_TEST", b"PYTEST_CURRENT_TEST")


def _same_env(raw: dict[Any, Any], cached: dict[Any, Any]) -> bool:
    """Whether the environment is the cached one, but for pytest's phase variable."""
    for name in _PHASE_VARIABLE:
        if name in raw and name in cached:
            cached[name] = raw[name]
    return raw == cached


def secret_values() -> list[str]:
    """The known secret values, longest first. The environment's secrets are computed again
    only when the environment changed (a test's monkeypatch): decoding every variable for every
    test entry would cost more than the rest of the entry."""
    global _cached_env, _cached_env_secrets
    from llmassert._secret_registry import env_secrets, registered_secrets

    raw = getattr(os.environ, "_data", None)  # CPython: the encoded variables, a plain dict
    if not isinstance(raw, dict):
        found = env_secrets()
    elif _cached_env is not None and _same_env(raw, _cached_env):
        found = _cached_env_secrets
    else:
        found = env_secrets()
        _cached_env, _cached_env_secrets = dict(raw), found
    values = set(found) | set(registered_secrets())
    return sorted(values, key=len, reverse=True)


def masker() -> Callable[[str], str]:
    """A function masking the session's known secrets (secret-named environment variables and
    every registered key) and API-key shapes in a text. Built once per test entry."""
    values: list[str] | None = None

    def mask(text: str) -> str:
        nonlocal values
        if not text:
            return text
        # imported on first use: a test without a model call or a check never needs them
        from llmassert._checks._pii import redact_secrets

        if values is None:
            values = secret_values()
        for value in values:
            if value in text:
                text = text.replace(value, "***")
        return redact_secrets(text)

    return mask


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [truncated: {len(text) - limit} more characters]"


def _content(value: object) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _prompt(noted: NotedCall, mask: Callable[[str], str]) -> str | list[dict[str, str]]:
    prompt, system = noted.prompt, noted.system
    if isinstance(prompt, str) and system is None:
        return _cut(mask(prompt), MAX_OUTPUT_CHARS)
    messages: list[dict[str, str]] = []
    if system is not None:
        content = _cut(mask(_content(system)), MAX_OUTPUT_CHARS)
        messages.append({"role": "system", "content": content})
    if isinstance(prompt, str):
        messages.append({"role": "user", "content": _cut(mask(prompt), MAX_OUTPUT_CHARS)})
    elif isinstance(prompt, Iterable):
        for message in prompt:
            if isinstance(message, Mapping):
                role = str(message.get("role", "user"))
                content = _content(message.get("content", ""))
            else:
                role, content = "user", _content(message)
            messages.append({"role": role, "content": _cut(mask(content), MAX_OUTPUT_CHARS)})
    return messages


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None  # no NaN


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def call_record(noted: NotedCall, mask: Callable[[str], str]) -> dict[str, Any]:
    """The report's CALL record of one noted call."""
    response = noted.response
    usage = getattr(response, "usage", None)
    purpose = getattr(response, "purpose", "model") or "model"
    return {
        "model": str(getattr(response, "spec", "") or getattr(response, "model", "") or ""),
        "purpose": str(purpose),
        "prompt": _prompt(noted, mask),
        "output": _cut(mask(str(getattr(response, "text", "") or "")), MAX_OUTPUT_CHARS),
        "finish_reason": getattr(response, "finish_reason", None),
        "latency_s": _number(getattr(response, "latency_s", None)),
        "ttft_s": _number(getattr(response, "ttft_s", None)),
        "input_tokens": _count(getattr(usage, "input_tokens", None)),
        "output_tokens": _count(getattr(usage, "output_tokens", None)),
        "cost_usd": _number(getattr(response, "cost_usd", None)),
        "replayed": bool(getattr(response, "replayed", False)),
        "retries": _count(getattr(response, "retries", 0)) or 0,
    }


def check_record(result: Any, mask: Callable[[str], str]) -> dict[str, Any]:
    """The report's CHECK record of one check result."""
    name = str(getattr(result, "check", "") or "check")
    negated = name.startswith("not_")
    base = name[4:] if negated else name
    return {
        "name": base,
        "negated": negated,
        "kind": check_kind(base),
        "passed": bool(getattr(result, "passed", False)),
        "score": _number(getattr(result, "score", None)),
        "reason": _cut(mask(str(getattr(result, "reason", "") or "")), MAX_REASON_CHARS),
    }


def _callspec(item: pytest.Item) -> Any:
    return getattr(item, "callspec", None)


def _is_case_item(item: pytest.Item) -> bool:
    return hasattr(item, "case") and isinstance(getattr(item, "spec", None), str)


def model_of(item: pytest.Item, calls: Sequence[Mapping[str, Any]] = ()) -> str:
    """The spec of the model under test: a case item's model, the ``llm`` fixture's parameter,
    a ``llmassert.cases`` test's case model, else the one model the test's calls went to
    (``""`` when none, or several)."""
    if _is_case_item(item):
        return str(item.spec)  # type: ignore[attr-defined]
    callspec = _callspec(item)
    if callspec is not None:
        param = callspec.params.get("llm")
        if isinstance(param, str):
            return param
        case = callspec.params.get("case")
        model = getattr(case, "model", None)
        if isinstance(model, str) and model:
            return model
    used = {str(c["model"]) for c in calls if c.get("purpose", "model") == "model" and c["model"]}
    return used.pop() if len(used) == 1 else ""


def key_of(item: pytest.Item, model: str) -> str:
    """The node id without the model parameter (pairs a test across models); a case item's is
    ``<file>::<case id>``."""
    if _is_case_item(item):
        parent = item.parent.nodeid if item.parent is not None else str(item.path.name)
        return f"{parent}::{item.case.id}"  # type: ignore[attr-defined]
    callspec = _callspec(item)
    nodeid = item.nodeid
    if callspec is None or not model:
        return nodeid
    ids = list(getattr(callspec, "_idlist", None) or [callspec.id])
    case = callspec.params.get("case")
    case_id = getattr(case, "id", None)
    for position, part in enumerate(ids):
        if part == model:
            del ids[position]
            break
        if isinstance(case_id, str) and part == f"{case_id}-{model}":
            ids[position] = case_id
            break
    else:
        return nodeid
    name = item.name
    original = getattr(item, "originalname", None) or name.partition("[")[0]
    if not nodeid.endswith(name):
        return nodeid
    base = nodeid[: len(nodeid) - len(name)] + original
    return f"{base}[{'-'.join(ids)}]" if ids else base


def _outcome(report: pytest.TestReport) -> str:
    xfail = hasattr(report, "wasxfail")
    if report.when != "call":
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "error" if report.failed else "passed"
    if report.passed:
        return "xpassed" if xfail else "passed"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return "failed"


def _message(report: pytest.TestReport, call: pytest.CallInfo[None] | None) -> str | None:
    if report.passed and not hasattr(report, "wasxfail"):
        return None
    text = ""
    if report.skipped:
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            text = str(longrepr[2]).removeprefix("Skipped: ")
        else:
            text = str(getattr(report, "wasxfail", "") or longrepr or "")
    elif call is not None and call.excinfo is not None:
        error = call.excinfo.value
        text = f"{type(error).__name__}: {error}".rstrip(": ")
    else:
        text = report.longreprtext
    return text or None


def _sample_outcome(checks: Sequence[Mapping[str, Any]]) -> str:
    return "failed" if any(not c["passed"] for c in checks) else "passed"


def _samples(
    observation: TestObservation | None,
    verdict: Mapping[str, Any] | None,
    outcome: str,
    duration: float,
    error: bool,
    mask: Callable[[str], str],
) -> list[dict[str, Any]]:
    noted: dict[int, SampleNotes] = dict(observation.samples) if observation is not None else {}
    records: dict[int, Mapping[str, Any]] = {}
    if verdict is not None:
        for record in verdict.get("samples") or ():
            if isinstance(record, Mapping) and isinstance(record.get("index"), int):
                records[int(record["index"])] = record
    samples = []
    for index in sorted(set(noted) | set(records)):
        notes = noted.get(index)
        calls = [call_record(c, mask) for c in notes.calls] if notes is not None else []
        checks = [check_record(c, mask) for c in notes.checks] if notes is not None else []
        record = records.get(index)
        if record is not None:
            sample_outcome = str(record.get("outcome", "passed"))
            sample_duration = _number(record.get("duration_s")) or 0.0
        elif verdict is None and index == 1:  # the test's only sample
            sample_outcome = {
                "passed": "passed",
                "xpassed": "passed",
                "failed": "error" if error else "failed",
                "xfailed": "failed",
            }.get(outcome, "error" if outcome == "error" else "not counted")
            sample_duration = duration
        else:
            sample_outcome, sample_duration = _sample_outcome(checks), 0.0
        samples.append(
            {
                "index": index,
                "outcome": sample_outcome,
                "duration_s": round(sample_duration, 6),
                "calls": calls,
                "checks": checks,
            }
        )
    return samples


def _repeat(item: pytest.Item, verdict: Mapping[str, Any] | None) -> int:
    if verdict is not None and isinstance(verdict.get("repeat"), int):
        return int(verdict["repeat"])
    plan = getattr(item, "plan", None)
    repeat = getattr(plan, "repeat", None)
    if isinstance(repeat, int):
        return repeat
    marker = item.get_closest_marker("llm")
    value = marker.kwargs.get("repeat") if marker is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _verdict_entry(verdict: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    return {
        "mode": str(verdict.get("verdict", "rate")),
        "passed": _count(verdict.get("passed")) or 0,
        "total": _count(verdict.get("total")) or 0,
        "rate": _number(verdict.get("rate")),
        "required": _number(verdict.get("required")),
        "confidence": _number(verdict.get("confidence")),
        "ci_low": _number(verdict.get("ci_low")),
        "ci_high": _number(verdict.get("ci_high")),
        "stopped_early": verdict.get("stopped_early") or None,
    }


def entry_of(
    item: pytest.Item,
    report: pytest.TestReport,
    call: pytest.CallInfo[None] | None,
    observation: TestObservation | None,
    verdict: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The report's TEST entry of ``item``, from the report of its call phase (or of the setup
    phase, when setup failed or skipped). ``verdict`` is what a repeated test's sampler kept
    (the ``llm_pass_rate`` user property: the verdict and each sample's outcome)."""
    mask = masker()
    outcome = _outcome(report)
    error = (
        call is not None
        and call.excinfo is not None
        and not isinstance(call.excinfo.value, AssertionError)
    )
    duration = float(report.duration) if report.when == "call" else 0.0
    samples = _samples(observation, verdict, outcome, duration, error, mask)
    calls = [c for s in samples for c in s["calls"]]
    model = model_of(item, calls)
    message = _message(report, call)
    marks = sorted({m.name for m in item.iter_markers()} - _PLUMBING_MARKS)
    return {
        "nodeid": item.nodeid,
        "key": key_of(item, model),
        "model": model,
        "outcome": outcome if outcome in _OUTCOMES else "error",
        "kind": "case" if _is_case_item(item) else "test",
        "duration_s": round(duration, 6),
        "message": None if message is None else _cut(mask(message), MAX_MESSAGE_CHARS),
        "markers": marks,
        "repeat": _repeat(item, verdict),
        "verdict": _verdict_entry(verdict),
        "samples": samples,
    }


def fixture_group(name: str, scope: str, nodeid: str, calls: Sequence[NotedCall]) -> dict[str, Any]:
    """One group of the report's ``unattributed`` calls: the calls a wider-scoped fixture made
    while it was set up (``first_test`` is filled in by the plugin: the test being set up)."""
    mask = masker()
    return {
        "fixture": name,
        "scope": scope,
        "nodeid": nodeid,
        "first_test": None,
        "calls": [call_record(c, mask) for c in calls],
    }
