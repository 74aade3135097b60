"""Which recordings the last complete test run used, and which entries are therefore stale.

The pytest plugin writes ``<store>/.last-complete-run.json`` at the end of every *complete* run
(every test selected and run, none failed: see :func:`llmassert._plugins.recording` and the docs).
``llmassert recordings prune`` deletes the entries that run did not use, except entries written
after it (recorded by a later partial run) and entries first recorded by tests it skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from llmassert._errors import CorruptRecordingError
from llmassert._recording._store import RecordingStore, atomic_write_text

__all__ = ["MANIFEST_NAME", "RunUsage", "read_manifest", "stale_entries", "write_manifest"]

MANIFEST_NAME = ".last-complete-run.json"


@dataclass
class RunUsage:
    """What one complete run used."""

    used: set[str] = field(default_factory=set)
    skipped_tests: set[str] = field(default_factory=set)
    tests: int = 0
    finished_at: str = ""
    #: Seconds since the epoch (for comparing with file modification times).
    finished_ts: float = 0.0


def write_manifest(root: Path, usage: RunUsage) -> Path:
    now = datetime.now(timezone.utc)
    doc = {
        "llmassert_usage": 1,
        "finished_at": now.replace(microsecond=0).isoformat(),
        "finished_ts": now.timestamp(),
        "tests": usage.tests,
        "used": sorted(usage.used),
        "skipped_tests": sorted(usage.skipped_tests),
    }
    path = root / MANIFEST_NAME
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
    return path


def read_manifest(root: Path) -> RunUsage | None:
    path = root / MANIFEST_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        doc = None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("used"), list)
        or not isinstance(doc.get("finished_ts"), (int, float))
    ):
        raise CorruptRecordingError(
            f"usage manifest {path} cannot be read. Fix: delete it and run the whole test "
            "suite once (a complete run writes it again)."
        )
    return RunUsage(
        used={str(u) for u in doc["used"]},
        skipped_tests={str(t) for t in doc.get("skipped_tests", [])},
        tests=int(doc.get("tests", 0)),
        finished_at=str(doc.get("finished_at", "")),
        finished_ts=float(doc["finished_ts"]),
    )


def stale_entries(store: RecordingStore, usage: RunUsage) -> list[Path]:
    """Entries the complete run did not use (kept: newer files, entries of skipped tests)."""
    stale = []
    for path in store.entries():
        if store.relative(path) in usage.used:
            continue
        if path.stat().st_mtime > usage.finished_ts:
            continue
        if usage.skipped_tests and _recorded_by(store, path) in usage.skipped_tests:
            continue
        stale.append(path)
    return stale


def _recorded_by(store: RecordingStore, path: Path) -> str:
    try:
        recording = store.read(path)
    except CorruptRecordingError:
        return ""
    return recording.recorded_by if recording is not None else ""
