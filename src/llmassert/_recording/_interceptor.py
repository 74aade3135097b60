"""The in-process record & replay interceptor for llmassert's own model calls.

Replays come straight from the store: no SDK, no HTTP. ``demo:`` models (and named endpoints
with ``provider = "demo"``) bypass the store (they are local and deterministic).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from llmassert._errors import ProviderError
from llmassert._models._wire import WireRequest, WireResponse
from llmassert._recording._key import key_for_wire
from llmassert._recording._recorder import Decision, Recorder, as_recorder
from llmassert._recording._store import RecordingStore

__all__ = ["RecordingInterceptor"]


def _bypass(request: WireRequest) -> bool:
    return request.local or request.spec.startswith("demo:")


class RecordingInterceptor:
    """Records and replays model calls (an interceptor for :class:`llmassert.Model`).

    ``store``: a directory (e.g. ``"llm_recordings"``), a :class:`RecordingStore`, or a
    ``Recorder``; ``mode``: ``none``, ``once`` (default), ``all`` or ``off``. Library use::

        llm = llmassert.model("openai:gpt-4o-mini",
                              interceptors=[RecordingInterceptor("llm_recordings")])
    """

    def __init__(
        self, store: Recorder | RecordingStore | str | os.PathLike[str], mode: str = "once"
    ) -> None:
        self.recorder = as_recorder(store, mode)

    def _replay(self, decision: Decision) -> WireResponse:
        recording = self.recorder.replayed(decision)
        events = tuple(recording.events) if recording.events is not None else None
        return WireResponse(
            status=recording.status,
            body=recording.body,
            events=events,
            headers=dict(recording.headers),
            latency_s=recording.latency_s,
            ttft_s=recording.ttft_s,
            replayed=True,
        )

    def _after_live(self, decision: Decision, response: WireResponse) -> WireResponse:
        events: list[dict[str, Any]] | None = None
        if response.events is not None:
            events = [dict(e) for e in response.events]
        self.recorder.live_done(
            decision,
            status=response.status,
            headers=dict(response.headers),
            body=response.body,
            events=events,
            latency_s=response.latency_s,
            ttft_s=response.ttft_s,
            retries=response.retries,
        )
        return response

    def _decide(self, request: WireRequest) -> WireResponse | Decision:
        """A replayed response, or the decision for a live call (a miss raises)."""
        decision = self.recorder.decide(key_for_wire(request), request.context)
        if decision.action == "replay":
            return self._replay(decision)
        if decision.action == "missing":
            raise self.recorder.missing(decision)
        return decision

    @contextmanager
    def _sending(self, decision: Decision) -> Iterator[None]:
        """Around a live send: marked in flight (for the proxy); a failure gives the occurrence
        number back, and a provider error (the call reached, or tried to reach, the network)
        is counted with its attempts. Failures before sending (a missing key, a spending guard)
        are not counted."""
        try:
            with self.recorder.in_process_call(decision):
                yield
        except ProviderError as exc:
            self.recorder.failed(decision, exc.attempts)
            raise
        except BaseException:
            self.recorder.abandon(decision)
            raise

    def call(
        self, request: WireRequest, send: Callable[[WireRequest], WireResponse]
    ) -> WireResponse:
        if _bypass(request):
            return send(request)
        outcome = self._decide(request)
        if isinstance(outcome, WireResponse):
            return outcome
        with self._sending(outcome):
            response = send(request)
        return self._after_live(outcome, response)

    async def acall(
        self,
        request: WireRequest,
        send: Callable[[WireRequest], Awaitable[WireResponse]],
    ) -> WireResponse:
        if _bypass(request):
            return await send(request)
        outcome = self._decide(request)
        if isinstance(outcome, WireResponse):
            return outcome
        with self._sending(outcome):
            response = await send(request)
        return self._after_live(outcome, response)
