"""The run report's JSON Schema (``report.schema.json``, shipped in the package), validation
with messages naming the JSON path, loading report files, and :func:`finalize`: the one place a
report is assembled from its test entries, used by the pytest plugin and by ``merge`` alike so
that a merged report equals a single run."""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from llmassert._errors import UsageError
from llmassert._reports._compare import compare_models
from llmassert._reports._facts import model_calls, unattributed_calls
from llmassert._reports._summary import summarize_models

__all__ = [
    "SCHEMA_FILE",
    "SCHEMA_VERSION",
    "finalize",
    "grader_totals",
    "json_path",
    "load_report",
    "load_schema",
    "to_json",
    "validate_report",
]

#: The version this llmassert writes and reads.
SCHEMA_VERSION = 1
#: The schema's file name inside the package (``llmassert/_reports/``).
SCHEMA_FILE = "report.schema.json"


@functools.lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The report JSON Schema (from the installed package)."""
    text = resources.files("llmassert._reports").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


def json_path(path: Iterable[Any]) -> str:
    """``$.tests[3].outcome`` for the path ``["tests", 3, "outcome"]``."""
    text = "$"
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text


def _where(file: str | Path | None) -> str:
    return f"{file}: " if file is not None else ""


def validate_report(report: Mapping[str, Any], file: str | Path | None = None) -> None:
    """Raise :class:`~llmassert._errors.UsageError` naming the JSON path of the first problem
    (and ``file`` when given) unless ``report`` matches the report schema."""
    errors = sorted(_validator().iter_errors(report), key=lambda e: list(map(str, e.path)))
    if errors:
        from jsonschema.exceptions import best_match

        error = best_match(errors)
        assert error is not None
        raise UsageError(
            f"{_where(file)}not a valid llmassert report (schema version {SCHEMA_VERSION}): "
            f"at {json_path(error.absolute_path)}: {error.message}"
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (reports use null for unknown numbers)")


def load_report(path: str | Path) -> dict[str, Any]:
    """Read and validate a report file; one clear :class:`UsageError` for a missing file,
    text that is not JSON, another schema version (with the fix) or a schema violation."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{file}: no such report file (write one with pytest --llm-report {file})"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"{file}: is a directory, not a report file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: cannot read the report: {exc}") from None
    try:
        report = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{file}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "expected a report written by pytest --llm-report"
        ) from None
    except ValueError as exc:
        raise UsageError(f"{file}: {exc}") from None
    if not isinstance(report, dict):
        raise UsageError(
            f"{file}: not an llmassert report (the top level is a {type(report).__name__}, "
            "not an object)"
        )
    version = report.get("schema_version")
    if version != SCHEMA_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > 1:
            fix = "upgrade llmassert to read it (pip install -U llmassert)"
        elif version is None:
            fix = "is it a report written by pytest --llm-report?"
        else:
            fix = "re-run the tests with this llmassert to write a current report"
        raise UsageError(
            f"{file}: report schema_version is {json.dumps(version)}, this llmassert reads "
            f"version {SCHEMA_VERSION}: {fix}"
        )
    validate_report(report, file)
    return report


def to_json(report: Mapping[str, Any]) -> str:
    """The report as JSON text (strict: NaN and infinity are refused, not written)."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def grader_totals(
    tests: Sequence[Mapping[str, Any]],
    purpose: str,
    unattributed: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The totals of the grader calls of ``purpose`` (``judge``, ``embedding``) of ``tests``
    (and of the ``unattributed`` fixture calls): ``calls``, ``cost_usd`` (the sum of the known
    costs, ``None`` when none is known), ``latency_s_total``, ``replayed_calls`` and
    ``cost_unknown_calls``."""
    calls = [call for test in tests for call in model_calls(test, purpose)]
    calls += [c for c in unattributed_calls(unattributed) if c.get("purpose", "model") == purpose]
    costs = [
        float(c["cost_usd"])
        for c in calls
        if isinstance(c.get("cost_usd"), int | float) and not isinstance(c["cost_usd"], bool)
    ]
    latencies = [
        float(c["latency_s"])
        for c in calls
        if isinstance(c.get("latency_s"), int | float) and not isinstance(c["latency_s"], bool)
    ]
    return {
        "calls": len(calls),
        "cost_usd": math.fsum(costs) if costs else None,
        "latency_s_total": math.fsum(latencies),
        "replayed_calls": sum(1 for c in calls if c.get("replayed")),
        "cost_unknown_calls": len(calls) - len(costs),
    }


def _group_key(group: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(group.get("nodeid", "")), str(group.get("fixture", "")), str(group.get("first_test"))


def _sort_key(test: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(test.get("key", "")), str(test.get("model", "")), str(test.get("nodeid", ""))


def finalize(tests: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> dict[str, Any]:
    """The complete report from its test entries and the session's ``meta``: tests sorted by
    ``(key, model, nodeid)``, the per-model summary, the comparisons and the grader totals
    (``judge``, ``embedding``).

    ``meta`` keys (all optional): ``created_at`` (default now, UTC), ``duration_s`` (default
    0), ``tool`` (default this llmassert), ``run`` with ``record_mode``, ``workers``,
    ``shards`` (default 1) and ``models`` (default: the models of the tests, in order of first
    appearance), ``unattributed`` (the groups of calls made by wider-scoped fixtures, sorted
    here by scope node, fixture and first test)."""
    from llmassert._version import __version__

    entries = sorted((dict(t) for t in tests), key=_sort_key)
    unattributed = sorted((dict(g) for g in meta.get("unattributed") or ()), key=_group_key)
    run = dict(meta.get("run") or {})
    models = list(
        run.get("models")
        or dict.fromkeys(str(t["model"]) for t in sorted(entries, key=_sort_key) if t.get("model"))
    )
    run["models"] = models
    run.setdefault("record_mode", None)
    run.setdefault("workers", 1)
    run.setdefault("shards", 1)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": dict(meta.get("tool") or {"name": "llmassert", "version": __version__}),
        "created_at": str(meta.get("created_at") or _now()),
        "duration_s": float(meta.get("duration_s") or 0.0),
        "run": run,
        "tests": entries,
        "models": summarize_models(entries, models, unattributed),
        "comparisons": compare_models(entries, models),
        "judge": grader_totals(entries, "judge", unattributed),
        "embedding": grader_totals(entries, "embedding", unattributed),
        "unattributed": unattributed,
    }
