"""Assembling the run report from its test entries, and writing it (atomically, secrets masked)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_VERSION", "build_report", "dumps", "write_report"]

SCHEMA_VERSION = 1


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_models(configured: Sequence[str], tests: Sequence[Mapping[str, Any]]) -> list[str]:
    """The run's models: the configured ones, then any other a test ran on (first seen first)."""
    models = list(dict.fromkeys(m for m in configured if m))
    for test in tests:
        model = test.get("model")
        if model and model not in models:
            models.append(str(model))
    return models


def _finalize(tests: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    from llmassert._reports._schema import finalize

    return finalize(tests, meta)


def build_report(
    tests: list[dict[str, Any]],
    *,
    version: str,
    duration_s: float,
    record_mode: str,
    workers: int,
    models: Sequence[str],
    unattributed: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The whole report (``schema_version`` 1) of a run's test entries (and of the calls of
    wider-scoped fixtures, ``unattributed``)."""
    meta: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "llmassert", "version": version},
        "created_at": _utc_now(),
        "duration_s": round(duration_s, 3),
        "run": {
            "record_mode": record_mode,
            "workers": workers,
            "shards": 1,
            "models": run_models(models, tests),
        },
        "unattributed": [dict(group) for group in unattributed],
    }  # finalize adds the per-model summary, the comparisons and the grader totals
    return _finalize(tests, meta)


def dumps(report: Mapping[str, Any]) -> str:
    """The report as JSON text, with the session's known secret values masked once more. The
    entries' texts are masked (values and key shapes) where they are built; this pass catches a
    known secret anywhere else (a node id, a marker) at the cost of a substring search per
    secret, not of a key-shape scan of the whole text."""
    from llmassert._reports._collect import secret_values

    # compact: the C encoder (``indent`` would switch to the pure-Python one)
    text = json.dumps(report, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for value in secret_values():
        if value in text:
            text = text.replace(value, "***")
    return text + "\n"


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    """Write the report to ``path`` atomically."""
    from llmassert._files import atomic_write_text

    atomic_write_text(path, dumps(report))
