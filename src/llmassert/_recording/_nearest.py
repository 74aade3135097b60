"""Why a request does not replay: the closest stored request and what changed.

Only run on a miss, and bounded: at most :data:`MAX_SCANNED` files of the request's own
``<provider>/<model>`` folder are read, at most :data:`MAX_FIELDS` changed fields are shown, each
on one line of at most :data:`MAX_LINE` characters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmassert._errors import CorruptRecordingError
from llmassert._recording._key import RequestKey, test_of
from llmassert._recording._store import Recording, RecordingStore, is_entry_name

__all__ = ["MAX_FIELDS", "MAX_SCANNED", "Nearest", "changed_fields", "nearest_recording"]

#: Files read to find the closest stored request (the newest first).
MAX_SCANNED = 400
#: Changed fields shown under a miss.
MAX_FIELDS = 5
#: Longest line of the diff.
MAX_LINE = 160
_ABSENT = object()


def _flatten(value: Any, at: str, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and value:
        for name in sorted(value, key=str):
            _flatten(value[name], f"{at}.{name}" if at else str(name), out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(item, f"{at}[{index}]", out)
    else:
        out[at] = value


def _fields(canonical: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("method", "path", "query", "headers", "body"):
        if part in canonical:
            _flatten(canonical[part], part, out)
    return out


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(field, stored value, new value)`` for every field of two canonical requests that
    differs (``body.messages[1].content``, ``body.temperature``...); a missing side is
    :data:`_ABSENT`."""
    before, after = _fields(old), _fields(new)
    return [
        (name, before.get(name, _ABSENT), after.get(name, _ABSENT))
        for name in sorted(before.keys() | after.keys())
        if before.get(name, _ABSENT) != after.get(name, _ABSENT)
    ]


def _text_distance(old: Mapping[str, Any], new: Mapping[str, Any]) -> float:
    from rapidfuzz.distance import Indel

    a = json.dumps(old, sort_keys=True, ensure_ascii=False)[:4000]
    b = json.dumps(new, sort_keys=True, ensure_ascii=False)[:4000]
    return float(Indel.normalized_distance(a, b))


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    return json.dumps(value, ensure_ascii=False)


def _clip(text: str, start: int, width: int) -> str:
    """``width`` characters of ``text`` around ``start`` (where it starts to differ)."""
    if len(text) <= width:
        return text
    begin = max(0, min(start - width // 3, len(text) - width))
    piece = text[begin : begin + width]
    return ("..." if begin else "") + piece + ("..." if begin + width < len(text) else "")


def _change_line(name: str, old: Any, new: Any) -> str:
    a, b = _show(old), _show(new)
    budget = max(20, (MAX_LINE - len(name) - 12) // 2)
    if len(a) > budget or len(b) > budget:
        start = 0
        while start < min(len(a), len(b)) and a[start] == b[start]:
            start += 1
        a, b = _clip(a, start, budget), _clip(b, start, budget)
    return f"{name}: {a} -> {b}"[: MAX_LINE + 20]


@dataclass(frozen=True)
class Nearest:
    """The closest stored request to one that missed, and how it differs."""

    recording: Recording
    changes: list[tuple[str, Any, Any]]
    same_test: bool

    def lines(self, where: str, indent: str = "  ") -> list[str]:
        """The lines shown under a miss; ``where`` is how to show the recording's file."""
        who = "" if self.same_test else f", recorded by {test_of(self.recording.recorded_by)}"
        count = len(self.changes)
        out = [
            f"{indent}closest stored request: {where}{who}; {count} field"
            f"{'s' if count != 1 else ''} changed (stored -> now):"
        ]
        for name, old, new in self.changes[:MAX_FIELDS]:
            out.append(f"{indent}  {_change_line(name, old, new)}")
        if count > MAX_FIELDS:
            out.append(f"{indent}  ... and {count - MAX_FIELDS} more")
        return out


def nearest_recording(store: RecordingStore, key: RequestKey, context: str) -> Nearest | None:
    """The stored request of the same model (and test, when it has any) closest to ``key``:
    fewest changed fields, then the smallest text difference. ``None`` when there is none or
    when the request itself is stored (only its number of repeats changed)."""
    folder = store.folder_for(key)
    if not folder.is_dir():
        return None
    try:
        paths = [p for p in folder.iterdir() if is_entry_name(p.name)]
        paths.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    test = test_of(context)
    mine: list[Recording] = []
    others: list[Recording] = []
    for path in paths[:MAX_SCANNED]:
        if path.name.startswith(f"{key.digest}-"):
            return None  # the same request: the repeat count changed, said above
        try:
            recording = store.read(path)
        except (CorruptRecordingError, OSError):
            continue
        if recording is None or recording.request.get("path") != key.path:
            continue
        (mine if test_of(recording.recorded_by) == test else others).append(recording)
    candidates, same_test = (mine, True) if mine else (others, False)
    best: tuple[int, float, Recording, list[tuple[str, Any, Any]]] | None = None
    for recording in candidates:
        changes = changed_fields(recording.request, key.canonical)
        if best is not None and len(changes) > best[0]:
            continue
        distance = _text_distance(recording.request, key.canonical)
        if best is None or (len(changes), distance) < (best[0], best[1]):
            best = (len(changes), distance, recording, changes)
    if best is None:
        return None
    return Nearest(recording=best[2], changes=best[3], same_test=same_test)
