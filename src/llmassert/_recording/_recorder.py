"""The record-mode logic shared by the in-process interceptor and the recording proxy.

For each call: compute the request key, number it (the n-th identical request within the same
test, its samples included, gets occurrence n; :meth:`Recorder.decide` is the one place that
numbers calls), then, by record mode::

    mode   stored response exists     no stored response
    none   replay it                  miss: fail, naming the request and the command to record it
    once   replay it                  call live and store it
    all    call live and overwrite    call live and store it
    off    call live, store untouched call live, store untouched
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from llmassert._errors import ConfigError, RecordingMissingError
from llmassert._models._occurrence import OUTSIDE_A_TEST, SAMPLE_MARK, Occurrences, test_of
from llmassert._models._sampling import occurrence_of, split_context
from llmassert._recording._key import RequestKey, describe_prompt
from llmassert._recording._nearest import nearest_recording
from llmassert._recording._secrets import Redaction, filter_headers
from llmassert._recording._store import Recording, RecordingStore, not_a_completion
from llmassert._settings import RECORD_MODES

__all__ = ["SAMPLE_MARK", "Decision", "Recorder", "RecordingStats", "as_recorder"]

log = logging.getLogger("llmassert")

# A context ``<test id>#sample=<n>`` (SAMPLE_MARK) names one sample of a repeated test. Each
# sample numbers its own calls (its own Occurrences scope), mapped to store occurrences by
# llmassert._models._sampling.occurrence_of: sample k's first call is k - 1, so the k-th
# sample's call gets its own recording instead of replaying the first sample's answer.

#: Statuses that are never stored: transient failures and credential problems say nothing about
#: the model and would be replayed forever (5xx are never stored either).
_NOT_STORED = frozenset({401, 403, 407, 408, 409, 429})


@dataclass
class RecordingStats:
    """Counts for the end-of-session summary (mergeable across xdist workers)."""

    replayed: int = 0
    recorded: int = 0
    live: int = 0
    missing: int = 0
    #: Live calls the mode said to store that could not be stored (counted in ``live`` too): a
    #: stream the upstream broke off, a write that failed. A replay of the run would miss them.
    not_stored: int = 0
    #: Calls that reached the network and failed (an error status or exception; counted in
    #: ``live``, or in ``recorded`` for a deterministic 4xx that is stored), and retries: extra
    #: attempts of calls, successful or not.
    failed: int = 0
    retries: int = 0
    #: Calls that failed at once without a request (their endpoint was known to be
    #: unreachable): not live, not counted as reaching the network.
    unsent: int = 0
    #: Human-readable descriptions of misses, calls not stored and redactions (capped).
    missing_details: list[str] = field(default_factory=list)
    not_stored_details: list[str] = field(default_factory=list)
    redactions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "replayed": self.replayed,
            "recorded": self.recorded,
            "live": self.live,
            "missing": self.missing,
            "not_stored": self.not_stored,
            "failed": self.failed,
            "retries": self.retries,
            "unsent": self.unsent,
            "missing_details": list(self.missing_details),
            "not_stored_details": list(self.not_stored_details),
            "redactions": list(self.redactions),
        }

    def merge(self, other: dict[str, Any]) -> None:
        self.replayed += int(other.get("replayed", 0))
        self.recorded += int(other.get("recorded", 0))
        self.live += int(other.get("live", 0))
        self.missing += int(other.get("missing", 0))
        self.not_stored += int(other.get("not_stored", 0))
        self.failed += int(other.get("failed", 0))
        self.retries += int(other.get("retries", 0))
        self.unsent += int(other.get("unsent", 0))
        self.missing_details.extend(other.get("missing_details", []))
        self.not_stored_details.extend(other.get("not_stored_details", []))
        self.redactions.extend(other.get("redactions", []))

    @property
    def total(self) -> int:
        return self.replayed + self.recorded + self.live + self.missing + self.unsent

    @property
    def network_calls(self) -> int:
        """Calls that reached the network (each retry of a call not included)."""
        return self.recorded + self.live


@dataclass(frozen=True)
class Decision:
    """What to do with one call: ``replay`` (``recording`` set), ``live``, or ``missing``."""

    action: str
    key: RequestKey
    occurrence: int
    context: str
    #: Store the live response afterwards (modes once/all).
    store: bool = False
    recording: Recording | None = None
    #: The number taken from the counter (the sample's own count inside a sample, where
    #: ``occurrence`` is mapped by :func:`~llmassert._models._sampling.occurrence_of`).
    own: int | None = None


def describe_call(decision: Decision) -> str:
    """One line naming a call: model, API path, prompt, test."""
    key = decision.key
    prompt = describe_prompt(key.canonical.get("body"))
    streamed = ", streamed" if key.stream else ""
    return (
        f"model {key.model or '?'} ({key.provider} {key.path}{streamed}), prompt {prompt!r}, "
        f"test {decision.context}"
    )


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (shorter messages)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Recorder:
    """Decides replay / live / miss per call, writes recordings, counts, tracks usage.

    Thread-safe: the proxy calls it from its own thread while tests call it from theirs.
    """

    def __init__(
        self,
        store: RecordingStore,
        mode: str,
        *,
        current_test: Callable[[], str | None] | None = None,
    ) -> None:
        if mode not in RECORD_MODES:
            raise ConfigError(
                f"invalid record mode {mode!r}; valid values are: {', '.join(RECORD_MODES)}"
            )
        self.store = store
        self.mode = mode
        self._current_test = current_test or (lambda: None)
        self._lock = threading.Lock()
        self._occurrences = Occurrences()
        #: llmassert's own live calls in flight, by (test, request digest): the proxy forwards
        #: these untouched instead of recording them a second time.
        self._in_process: Counter[tuple[str, str]] = Counter()
        self.stats = RecordingStats()
        #: Store-relative paths of every entry this run replayed or recorded (for prune).
        self.used: set[str] = set()

    def context_for(self, explicit: str | None) -> str:
        if explicit and explicit.startswith(SAMPLE_MARK):
            # a sample of a model without a context of its own, outside any test
            return (self._current_test() or OUTSIDE_A_TEST) + explicit
        return explicit or self._current_test() or OUTSIDE_A_TEST

    def _pair(self, key: RequestKey, context: str | None) -> tuple[str, str]:
        return test_of(self.context_for(context)), key.digest

    @contextmanager
    def in_process_call(self, decision: Decision) -> Iterator[None]:
        """Mark one of llmassert's own live calls as in flight while it is sent (see
        :meth:`is_in_process`)."""
        pair = self._pair(decision.key, decision.context)
        with self._lock:
            self._in_process[pair] += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_process[pair] -= 1
                if self._in_process[pair] <= 0:
                    del self._in_process[pair]

    def is_in_process(self, key: RequestKey, context: str | None) -> bool:
        """Whether this request (its body key, as :func:`key_for_wire` computes it) is one of
        llmassert's own live calls in flight for the same test: it is recorded in-process, so the
        proxy it reaches (a model whose SDK client read ``OPENAI_BASE_URL`` while a test used
        ``llm_proxy``) must not record it again."""
        pair = self._pair(key, context)
        with self._lock:
            return self._in_process[pair] > 0

    def _counted(self, key: RequestKey, context: str) -> tuple[tuple[str, str], tuple[int, ...]]:
        """The counter a call takes its number from: its sample's own (``<test>#sample=<k>``,
        so concurrent samples never take each other's numbers), else its test's."""
        test, indices = split_context(context)
        return ((context if indices else test), key.digest), indices

    def decide(self, key: RequestKey, context: str | None = None) -> Decision:
        ctx = self.context_for(context)
        counter, indices = self._counted(key, ctx)
        own = self._occurrences.take(*counter)
        occurrence = occurrence_of(indices, own)
        if self.mode == "off":
            return Decision("live", key, occurrence, ctx, own=own)
        if self.mode == "all":
            return Decision("live", key, occurrence, ctx, store=True, own=own)
        recording = self.store.load(key, occurrence, ctx)
        if recording is not None:
            return Decision("replay", key, occurrence, ctx, recording=recording, own=own)
        if self.mode == "none":
            return Decision("missing", key, occurrence, ctx, own=own)
        return Decision("live", key, occurrence, ctx, store=True, own=own)

    # -- outcomes ---------------------------------------------------------------------------

    def replayed(self, decision: Decision) -> Recording:
        recording = decision.recording
        assert recording is not None
        assert recording.path is not None
        with self._lock:
            self.stats.replayed += 1
            self.used.add(self.store.relative(recording.path))
        return recording

    def live_done(
        self,
        decision: Decision,
        *,
        status: int,
        headers: dict[str, str],
        body: Any = None,
        events: list[dict[str, Any]] | None = None,
        latency_s: float | None = None,
        ttft_s: float | None = None,
        retries: int = 0,
    ) -> list[Redaction]:
        """Count a finished live call (and the ``retries`` it took) and store it when the mode
        says so (never a transient or credential failure, nor a 2xx that is not a completion).
        A recording that cannot be written is counted as not stored (see :meth:`not_stored`);
        the caller still gets its answer."""
        with self._lock:
            self.stats.retries += retries
            if status >= 400:
                self.stats.failed += 1
        stored = decision.store and status < 500 and status not in _NOT_STORED
        if (
            stored
            and (why := not_a_completion(decision.key.canonical, status, body, events)) is not None
        ):
            log.warning(
                "llmassert: not recording the answer to %s %s: it is not a completion (%s)",
                decision.key.provider,
                decision.key.path,
                why,
            )
            stored = False
        if not stored:
            if decision.store:
                self.abandon(decision)
            with self._lock:
                self.stats.live += 1
            return []
        recording = Recording(
            digest=decision.key.digest,
            occurrence=decision.occurrence,
            request=decision.key.canonical,
            status=status,
            headers=filter_headers(headers),
            body=body,
            events=events,
            latency_s=latency_s,
            ttft_s=ttft_s,
            recorded_at=_now(),
            recorded_by=decision.context,
        )
        try:
            found = self.store.save(recording, decision.key)
        except OSError as exc:
            where = _shown(self.store.path_for(decision.key, decision.occurrence))
            self.not_stored(decision, f"could not write {where} ({exc.strerror or exc})")
            return []
        with self._lock:
            self.stats.recorded += 1
            assert recording.path is not None
            self.used.add(self.store.relative(recording.path))
            for redaction in found:
                if len(self.stats.redactions) < 50:
                    self.stats.redactions.append(redaction.describe())
        return found

    def failed(self, decision: Decision, attempts: int = 1) -> None:
        """Count a live call that failed after ``attempts`` attempts (a provider error: it
        reached, or tried to reach, the network). Nothing is stored; its occurrence number is
        given back, so a retry takes it."""
        self.abandon(decision)
        with self._lock:
            if attempts <= 0:  # failed at once, no request sent (an endpoint known down)
                self.stats.unsent += 1
                return
            self.stats.live += 1
            self.stats.failed += 1
            self.stats.retries += max(attempts - 1, 0)

    def not_stored(self, decision: Decision, why: str) -> None:
        """Count a live call that reached the network but could not be stored although the
        mode said to store it (``why``: e.g. the upstream broke its stream off): the summary
        names it and the run fails, since a replay would miss it. Its occurrence number is given
        back, so a retry takes it."""
        if decision.store:
            self.abandon(decision)
        with self._lock:
            self.stats.live += 1
            if not decision.store:
                return
            self.stats.not_stored += 1
            if len(self.stats.not_stored_details) < 50:
                self.stats.not_stored_details.append(f"{describe_call(decision)}: {why}")

    def missing(self, decision: Decision) -> RecordingMissingError:
        """Count a miss and build the error that names the request and how to record it."""
        message = self.missing_message(decision)
        with self._lock:
            self.stats.missing += 1
            if len(self.stats.missing_details) < 50:
                self.stats.missing_details.append(message.splitlines()[0])
        return RecordingMissingError(message)

    def missing_message(self, decision: Decision) -> str:
        key = decision.key
        prompt = describe_prompt(key.canonical.get("body"))
        where = decision.context
        lines = [
            f"no recording for this request (record mode 'none'): model "
            f"{key.model or '?'} ({key.provider} {key.path}"
            f"{', streamed' if key.stream else ''}), prompt {prompt!r}, test {where}",
        ]
        test = test_of(where)
        _, indices = split_context(where)
        if indices:
            own = decision.own or 0
            lines.append(
                f"  this is sample {'.'.join(map(str, indices))}'s identical request #{own + 1} "
                "(each sample's calls have their own recordings; the test now draws more "
                "samples, or a sample repeats the request more often)"
            )
        elif decision.occurrence:
            lines.append(
                f"  this is identical request #{decision.occurrence + 1} in the test; the "
                f"recordings hold {decision.occurrence} (the test now repeats it more often)"
            )
        if decision.occurrence:
            owner = self.store.legacy_owner(key, decision.occurrence)
            if owner is not None and owner != test:
                lines.append(
                    f"  the store holds this repeat as recorded by {owner}, from before repeats "
                    "were per test; it is that test's, so record this test's own:"
                )
        target = "" if test.startswith("<") else " " + shlex.quote(test)
        lines.append(f"  record it with: pytest --llm-record=once{target}")
        expected = _shown(self.store.path_for(key, decision.occurrence, where))
        lines.append(f"  expected file: {expected} (key {key.digest})")
        nearest = nearest_recording(self.store, key, where)
        if nearest is not None and nearest.recording.path is not None:
            lines.extend(nearest.lines(_shown(nearest.recording.path)))
        # The request may quote a secret (a prompt with a key in it): never show it.
        masked, _ = self.store.scanner.redact("\n".join(lines), "a miss message")
        return str(masked)

    def abandon(self, decision: Decision) -> None:
        """A live call failed and nothing was stored: give its occurrence number back, so the
        retry that follows takes it (and replays line up with what was recorded)."""
        counter, _ = self._counted(decision.key, decision.context)
        own = decision.occurrence if decision.own is None else decision.own
        self._occurrences.give_back(*counter, own)

    def forget_context(self, context: str) -> None:
        """Drop occurrence counters of a finished test, its samples' included (keeps memory flat
        in long runs)."""
        self._occurrences.forget(context)


def as_recorder(target: Recorder | RecordingStore | str | os.PathLike[str], mode: str) -> Recorder:
    """A :class:`Recorder` from a recorder, a store, or a store directory."""
    if isinstance(target, Recorder):
        return target
    store = target if isinstance(target, RecordingStore) else RecordingStore(target)
    return Recorder(store, mode)
