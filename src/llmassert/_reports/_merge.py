"""Merging the reports of CI shards into the report of one run.

A suite split across machines (a CI matrix, pytest-split, pytest-xdist on several hosts) writes
one report per shard; :func:`merge_reports` joins them. The merged report *equals a single run*
of the same tests: the same test entries, and — because the summary and the comparison are
computed by the same :func:`~llmassert._reports._schema.finalize` from the joined entries, with
bootstrap seeds derived from the data — the same per-model summary and comparison. Only the
run's metadata differs: ``run.shards`` is the number of shard reports (summed when merging
merged reports), ``run.workers`` the sum of their workers, ``duration_s`` the longest shard's
(shards run side by side), ``created_at`` the latest.

A node id in two shards is an error naming both files (a test belongs to one shard), unless
the two entries are identical but for timings (an overlapping shard re-ran it; one is kept).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from llmassert._errors import UsageError
from llmassert._reports._schema import SCHEMA_VERSION, finalize

__all__ = ["TIMING_FIELDS", "comparable", "merge_reports", "without_timings"]

#: Fields that measure time (or when): they differ between two runs of the same tests.
TIMING_FIELDS = frozenset(
    {
        "duration_s",
        "latency_s",
        "ttft_s",
        "created_at",
        "latency_s_total",
        "latency_p50_s",
        "latency_p95_s",
        "ttft_p50_s",
        "ttft_p95_s",
        "latency_median_ratio",
    }
)
_LATENCY_PHRASE = re.compile(r"; median latency[^;]*")


def without_timings(value: Any) -> Any:
    """``value`` (a report or a part of one) with every timing field removed, recursively, and
    the latency phrase of verdict lines dropped."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if k in TIMING_FIELDS:
                continue
            out[k] = (
                _LATENCY_PHRASE.sub("", v)
                if k == "verdict" and isinstance(v, str)
                else (without_timings(v))
            )
        return out
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def comparable(report: Mapping[str, Any]) -> dict[str, Any]:
    """What "equal to a single run" compares: the test entries, the per-model summary and the
    comparisons, without timings."""
    stripped: dict[str, Any] = without_timings(
        {
            "tests": report.get("tests"),
            "models": report.get("models"),
            "comparisons": report.get("comparisons"),
        }
    )
    return stripped


def _name(names: Sequence[str] | None, i: int) -> str:
    return names[i] if names is not None and i < len(names) else f"report #{i + 1}"


def merge_reports(
    reports: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None
) -> dict[str, Any]:
    """One report from the shard ``reports`` (``names``: their file names, for messages)."""
    if not reports:
        raise UsageError("merge: no report to merge")
    for i, report in enumerate(reports):
        version = report.get("schema_version")
        if version != SCHEMA_VERSION:
            first = reports[0].get("schema_version")
            detail = (
                f"{_name(names, 0)} has schema_version {first}, {_name(names, i)} has {version}"
                if i
                else f"{_name(names, i)} has schema_version {version}"
            )
            raise UsageError(
                f"merge: cannot merge reports of different schema versions ({detail}); this "
                f"llmassert writes and reads version {SCHEMA_VERSION}: re-run the shards with "
                "one llmassert version"
            )
    tests: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for i, report in enumerate(reports):
        for test in report.get("tests") or ():
            nodeid = str(test.get("nodeid"))
            seen = tests.get(nodeid)
            if seen is None:
                tests[nodeid] = (i, test)
            elif without_timings(seen[1]) != without_timings(test):
                raise UsageError(
                    f"merge: the test {nodeid} is in both {_name(names, seen[0])} "
                    f"({seen[1].get('outcome')}) and {_name(names, i)} ({test.get('outcome')}) "
                    "with different results: each test belongs to one shard (are two shards "
                    "running the same tests?)"
                )
    runs = [r.get("run") or {} for r in reports]
    models = list(dict.fromkeys(m for run in runs for m in run.get("models") or ()))
    modes = {run.get("record_mode") for run in runs}
    created = [str(r["created_at"]) for r in reports if r.get("created_at")]
    meta = {
        "created_at": max(created) if created else None,
        "duration_s": max(float(r.get("duration_s") or 0.0) for r in reports),
        "run": {
            "record_mode": modes.pop() if len(modes) == 1 else "mixed",
            "workers": sum(int(run.get("workers") or 1) for run in runs),
            "shards": sum(int(run.get("shards") or 1) for run in runs),
            "models": models,
        },
        # each shard set its wider-scoped fixtures up itself: all those calls were made
        "unattributed": [g for r in reports for g in r.get("unattributed") or ()],
    }
    return finalize((test for _, test in tests.values()), meta)
