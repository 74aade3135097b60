"""The recording store: one human-readable JSON file per (request, occurrence).

Layout: ``<root>/<provider>/<model>/<digest>-0.json`` for the first of identical requests in a
test, ``<digest>-<occurrence>-<test>.json`` for its repeats, where ``digest`` is the request's
:class:`~llmassert._recording._key.RequestKey`, ``occurrence`` counts identical requests within
one test (samples of a repeated test included) and ``test`` is 8 hex characters of a hash of the
test id. So the first answer to a request is shared by every test that sends it (one recording,
one live call), while a test's repeats (``repeat=N`` samples, asking twice) are its own: another
test with the same prompt never replays them, and re-recording one test never changes another's.

Stores written before repeats were per test hold ``<digest>-<occurrence>.json`` repeats: such a
file still replays for the test that recorded it (its ``recorded_by``), never for another one.

Content-addressed files need no lock: xdist workers that record the same entry at the same time
each write a complete file to a temporary name and ``os.replace`` it (atomic on POSIX and
Windows), so the last writer wins and no reader ever sees half a file. A killed writer leaves at
most a ``.*.tmp`` file, which readers ignore and ``prune`` removes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmassert._errors import CorruptRecordingError
from llmassert._files import atomic_write_text
from llmassert._models._shape import completion_problem
from llmassert._recording._key import RequestKey, model_of, test_of
from llmassert._recording._secrets import Redaction, SecretScanner

__all__ = [
    "FORMAT_VERSION",
    "Recording",
    "RecordingStore",
    "atomic_write_text",
    "is_entry_name",
    "not_a_completion",
]

FORMAT_VERSION = 1
_GITIGNORE = "# written by llmassert: run manifests and interrupted writes are not recordings\n"
_GITIGNORE += ".last-complete-run.json\n.*.tmp\n"
_ENTRY_NAME = re.compile(r"^[0-9a-f]{24}-\d+(?:-[0-9a-f]{8})?\.json$")
_FIX = (
    "Fix: delete the file and record it again (`pytest --llm-record=once` re-records what is "
    "missing), or restore it from version control."
)


def is_entry_name(name: str) -> bool:
    """Whether a file name is a recording's (``<24 hex digest>-<occurrence>[-<test>].json``)."""
    return _ENTRY_NAME.match(name) is not None


def not_a_completion(
    request: Mapping[str, Any], status: int, body: Any, events: list[dict[str, Any]] | None
) -> str | None:
    """Why a 2xx answer to a completion request (chat completions, Responses, legacy
    completions, Anthropic messages; ``request`` is its canonical form) is not a completion, or
    ``None``: such an answer is never stored, and a stored one is corrupt rather than replayed
    as an empty reply."""
    if not 200 <= status < 300 or request.get("method", "POST") != "POST":
        return None
    if request.get("query"):
        return None
    return completion_problem(str(request.get("path", "")), body, events)


def test_tag(test: str) -> str:
    """The 8 hex characters that name a test in the file names of its repeated requests."""
    return hashlib.sha256(test_of(test).encode("utf-8")).hexdigest()[:8]


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return slug[:80] or "_"


@dataclass
class Recording:
    """One stored request/response pair."""

    digest: str
    occurrence: int
    request: Mapping[str, Any]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    #: Streamed responses: ``[{"event": str | None, "data": str}, ...]`` in order.
    events: list[dict[str, Any]] | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    recorded_at: str = ""
    recorded_by: str = ""
    redactions: list[str] = field(default_factory=list)
    #: Where it was read from or written to (not stored in the file).
    path: Path | None = None

    @property
    def model(self) -> str:
        return model_of(self.request)

    def to_json(self) -> str:
        response: dict[str, Any] = {"status": self.status, "headers": dict(self.headers)}
        if self.events is not None:
            response["events"] = self.events
        else:
            response["body"] = self.body
        response["latency_s"] = self.latency_s
        if self.ttft_s is not None:
            response["ttft_s"] = self.ttft_s
        doc: dict[str, Any] = {
            "llmassert_recording": FORMAT_VERSION,
            "key": self.digest,
            "occurrence": self.occurrence,
            "recorded_at": self.recorded_at,
            "recorded_by": self.recorded_by,
            "request": self.request,
            "response": response,
        }
        if self.redactions:
            doc["redactions"] = self.redactions
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, path: Path) -> Recording:
        try:
            doc = json.loads(text)
        except ValueError as exc:
            what = "is empty" if not text.strip() else f"is not valid JSON ({exc})"
            raise CorruptRecordingError(f"recording {path} {what}. {_FIX}") from None

        def bad(why: str) -> CorruptRecordingError:
            return CorruptRecordingError(
                f"recording {path} is not a valid recording: {why}. {_FIX}"
            )

        if not isinstance(doc, dict) or "llmassert_recording" not in doc:
            raise bad("no 'llmassert_recording' format field")
        if doc["llmassert_recording"] != FORMAT_VERSION:
            raise bad(
                f"format {doc['llmassert_recording']!r}, this llmassert reads {FORMAT_VERSION}"
            )
        request, response = doc.get("request"), doc.get("response")
        if not isinstance(request, dict):
            raise bad("'request' must be an object")
        if not isinstance(response, dict):
            raise bad("'response' must be an object")
        status = response.get("status")
        if not isinstance(status, int):
            raise bad("'response.status' must be an integer")
        events = response.get("events")
        if events is not None and not (
            isinstance(events, list)
            and all(isinstance(e, dict) and isinstance(e.get("data"), str) for e in events)
        ):
            raise bad("'response.events' must be a list of {event, data} objects")
        if events is None and "body" not in response:
            raise bad("'response' has neither 'body' nor 'events'")
        headers = response.get("headers") or {}
        if not isinstance(headers, dict):
            raise bad("'response.headers' must be an object")
        occurrence = doc.get("occurrence", 0)
        if not isinstance(occurrence, int):
            raise bad("'occurrence' must be an integer")
        return cls(
            digest=str(doc.get("key", "")),
            occurrence=occurrence,
            request=request,
            status=status,
            headers={str(k): str(v) for k, v in headers.items()},
            body=response.get("body"),
            events=events,
            latency_s=_number(response.get("latency_s")),
            ttft_s=_number(response.get("ttft_s")),
            recorded_at=str(doc.get("recorded_at", "")),
            recorded_by=str(doc.get("recorded_by", "")),
            redactions=[str(r) for r in doc.get("redactions", [])],
            path=path,
        )


def _sorted(value: Any) -> Any:
    """Keys sorted at every level: stable files, readable diffs."""
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


class RecordingStore:
    """The directory of recordings (``llm_recordings/`` beside the pytest config by default)."""

    def __init__(self, root: str | os.PathLike[str], scanner: SecretScanner | None = None) -> None:
        self.root = Path(root)
        self.scanner = scanner or SecretScanner()
        self._gitignore_done = False

    def folder_for(self, key: RequestKey) -> Path:
        """The directory of a request's recordings (``<provider>/<model>``)."""
        return self.root / _slug(key.provider) / _slug(key.model or "_no-model")

    def path_for(self, key: RequestKey, occurrence: int, test: str = "") -> Path:
        """Where occurrence ``occurrence`` of ``key`` in ``test`` (a test id or call context) is
        stored: occurrence 0 is shared by every test, later ones belong to their test."""
        name = f"{key.digest}-{occurrence}"
        if occurrence:
            name += f"-{test_tag(test)}"
        return self.folder_for(key) / f"{name}.json"

    def legacy_path_for(self, key: RequestKey, occurrence: int) -> Path:
        """Where stores written before repeats were per test kept occurrence ``occurrence``."""
        return self.folder_for(key) / f"{key.digest}-{occurrence}.json"

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def load(self, key: RequestKey, occurrence: int, test: str = "") -> Recording | None:
        """The stored recording, ``None`` when there is none; raises
        :class:`~llmassert.CorruptRecordingError` naming the file when it cannot be read, or
        when its answer is not a completion (see :meth:`read`).

        A repeat (``occurrence`` > 0) recorded before repeats were per test
        (``<digest>-<occurrence>.json``) is found too, but only by the test that recorded it."""
        recording = self.read(self.path_for(key, occurrence, test), missing_ok=True)
        if recording is None and occurrence:
            legacy = self.read(self.legacy_path_for(key, occurrence), missing_ok=True)
            if legacy is not None and test_of(legacy.recorded_by) == test_of(test):
                recording = legacy
        return recording

    def legacy_owner(self, key: RequestKey, occurrence: int) -> str | None:
        """The test that recorded a pre-per-test repeat of ``key`` (for miss messages), if any."""
        if not occurrence:
            return None
        try:
            legacy = self.read(self.legacy_path_for(key, occurrence), missing_ok=True)
        except CorruptRecordingError:
            return None
        return None if legacy is None else test_of(legacy.recorded_by)

    def read(self, path: Path, *, missing_ok: bool = False) -> Recording | None:
        """The recording in ``path``; a :class:`~llmassert.CorruptRecordingError` naming the file
        when it cannot be read or its answer is not a completion (a 2xx body without
        ``choices`` / ``output`` / ``content``, a stream with no completion event)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):  # (a file where a directory would be)
            if missing_ok:
                return None
            raise CorruptRecordingError(f"recording {path} does not exist") from None
        except UnicodeDecodeError:
            raise CorruptRecordingError(f"recording {path} is not UTF-8 text. {_FIX}") from None
        recording = Recording.from_json(text, path)
        why = not_a_completion(
            recording.request, recording.status, recording.body, recording.events
        )
        if why is not None:
            raise CorruptRecordingError(f"recording {path} is not a completion: {why}. {_FIX}")
        return recording

    def save(self, recording: Recording, key: RequestKey) -> list[Redaction]:
        """Redact secrets, then write atomically. Returns what was redacted."""
        where = f"recording {key.digest}-{recording.occurrence}"
        request, found = self.scanner.redact(_sorted(recording.request), f"{where} request")
        body, found_body = self.scanner.redact(recording.body, f"{where} response")
        events, found_events = self.scanner.redact_events(recording.events, f"{where} response")
        recorded_by, found_id = self.scanner.redact(recording.recorded_by, f"{where} test id")
        found += found_body + found_events + found_id
        redactions = sorted({r.what for r in found})
        safe = Recording(
            digest=key.digest,
            occurrence=recording.occurrence,
            request=request,
            status=recording.status,
            headers=self.scanner.redact(dict(recording.headers), where)[0],
            body=body,
            events=events,
            latency_s=recording.latency_s,
            ttft_s=recording.ttft_s,
            recorded_at=recording.recorded_at,
            recorded_by=recorded_by,
            redactions=redactions,
        )
        path = self.path_for(key, recording.occurrence, recording.recorded_by)
        self._ensure_gitignore()
        atomic_write_text(path, safe.to_json())
        recording.path = path
        return found

    def _ensure_gitignore(self) -> None:
        if self._gitignore_done:
            return
        target = self.root / ".gitignore"
        if not target.exists():
            atomic_write_text(target, _GITIGNORE)
        self._gitignore_done = True

    def entries(self) -> Iterator[Path]:
        """Every recording file, sorted (temporary and hidden files excluded)."""
        if not self.root.is_dir():
            return iter(())
        found = [p for p in self.root.rglob("*.json") if is_entry_name(p.name)]
        return iter(sorted(found))

    def stray_temp_files(self) -> list[Path]:
        """Leftovers of interrupted writes (safe to delete)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob(".*.tmp") if p.is_file())
