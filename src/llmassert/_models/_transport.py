"""One live attempt through the SDK: the exact JSON body in, the raw JSON (or SSE events) out.

The SDK's own ``client.post(path, cast_to=httpx2.Response, body=...)`` is used, so auth, base
URLs, Azure deployment routing and headers are the SDK's, while the body sent is exactly the
``WireRequest.body`` (what recordings store) and the answer is the raw HTTP response.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from llmassert._models._clients import async_client, sync_client
from llmassert._models._endpoints import Endpoint
from llmassert._models._error_map import (
    CallTarget,
    invalid_body_error,
    is_replayable,
    map_sdk_error,
    not_a_completion_error,
    safe_headers,
    sdk_status_parts,
    stream_error,
    stream_overrun_error,
)
from llmassert._models._shape import completion_problem
from llmassert._models._sse import SSEDecoder
from llmassert._models._wire import WireRequest, WireResponse

__all__ = ["TokenPredicate", "asend_once", "error_reply", "request_url", "send_once"]

#: Says whether an SSE event carries the first output token (for time-to-first-token).
TokenPredicate = Callable[[Mapping[str, Any]], bool]


def _client_path(endpoint: Endpoint, path: str) -> str:
    # OpenAI-family base URLs end in /v1 (or Azure's /openai): drop the version prefix.
    if endpoint.wire == "openai" and path.startswith("/v1/"):
        return path[3:]
    return path


def request_url(endpoint: Endpoint, base_url: str, path: str) -> str:
    """The URL a request goes to (for logs and messages)."""
    return base_url.rstrip("/") + _client_path(endpoint, path)


def _post_args(endpoint: Endpoint, request: WireRequest, timeout: float) -> dict[str, Any]:
    """``client.post`` arguments: the exact body, the raw HTTP response back (SSE when
    streamed), this call's timeout."""
    import httpx2

    options: dict[str, Any] = {"timeout": timeout}
    if endpoint.provider == "demo":  # the demo numbers its answers per test (never sent elsewhere)
        from llmassert._models._demo import context_headers

        options["headers"] = context_headers(request.context)
    return {
        "path": _client_path(endpoint, request.path),
        "cast_to": httpx2.Response,
        "body": dict(request.body),
        "options": options,
        "stream": bool(request.body.get("stream")),
    }


def _raise_mapped(exc: BaseException, target: CallTarget, started: float) -> None:
    """Raise the llmassert error for an SDK exception, ``from None`` (the SDK's exception is
    its ``sdk_error``). A deterministic 4xx also carries its answer (see :func:`error_reply`)."""
    mapped = map_sdk_error(exc, target)
    if mapped is exc:
        return
    parts = sdk_status_parts(exc)
    if parts is not None and is_replayable(mapped):
        status, headers, body = parts
        mapped._llmassert_reply = WireResponse(  # type: ignore[attr-defined]
            status=status,
            body=body,
            headers=safe_headers(headers),
            latency_s=time.perf_counter() - started,
            sdk_error=exc,
        )
    raise mapped from None


def error_reply(error: BaseException) -> WireResponse | None:
    """The answer behind a deterministic 4xx error of a live attempt (to be recorded, and
    raised again as the same error by the model, live and on replay), or ``None``. Taken only
    from the final outcome of a live call: an attempt llmassert answers itself by sending
    again is never seen by the interceptors."""
    reply = getattr(error, "_llmassert_reply", None)
    return reply if isinstance(reply, WireResponse) else None


def _check(request: WireRequest, target: CallTarget, wire: WireResponse) -> WireResponse:
    """``wire`` when it is a completion; a 2xx that is not one (a broken gateway, ``choices:
    []``, an empty stream) is an error, so it is never stored nor parsed as an empty reply."""
    why = completion_problem(request.path, wire.body, wire.events)
    if why is None:
        return wire
    if wire.events is not None:
        start = " ".join(str(e.get("data", "")) for e in wire.events[:5])
    else:
        start = json.dumps(wire.body, default=str)
    raise not_a_completion_error(target, wire.status, why, start, wire.headers)


def _json_body(response: Any, target: CallTarget) -> Any:
    try:
        return response.json()
    except ValueError:
        raise invalid_body_error(target, response.status_code, response.text) from None


def _plain(request: WireRequest, response: Any, target: CallTarget, started: float) -> WireResponse:
    wire = WireResponse(
        status=response.status_code,
        body=_json_body(response, target),
        headers=safe_headers(response.headers),
        latency_s=time.perf_counter() - started,
    )
    return _check(request, target, wire)


class _Events:
    """Collects a stream's SSE events and the time its first output token arrived."""

    def __init__(self, first_token: TokenPredicate, started: float, timeout: float) -> None:
        self.first_token = first_token
        self.started = started
        #: The attempt's time is up at this ``perf_counter`` reading.
        self.deadline = started + timeout
        self.events: list[dict[str, Any]] = []
        self.ttft: float | None = None
        self._decoder = SSEDecoder()

    def feed(self, line: str, target: CallTarget) -> None:
        event = self._decoder.feed(line)
        if event is not None:
            self._add(event)
        if time.perf_counter() > self.deadline:
            # Still streaming when the call's time is up: cut it (a stall is cut by the read
            # timeout, which is the time left when the attempt started).
            raise stream_overrun_error(target, time.perf_counter() - self.started)

    def _add(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self.ttft is None and self.first_token(event):
            self.ttft = time.perf_counter() - self.started

    def finish(self, request: WireRequest, response: Any, target: CallTarget) -> WireResponse:
        tail = self._decoder.flush()
        if tail is not None:
            self._add(tail)
        error = stream_error(target, self.events)
        if error is not None:
            raise error
        wire = WireResponse(
            status=response.status_code,
            events=tuple(self.events),
            headers=safe_headers(response.headers),
            latency_s=time.perf_counter() - self.started,
            ttft_s=self.ttft,
        )
        return _check(request, target, wire)


def send_once(
    endpoint: Endpoint,
    target: CallTarget,
    request: WireRequest,
    timeout: float,
    first_token: TokenPredicate,
) -> WireResponse:
    """One live attempt (no retries here: see :mod:`llmassert._models._retry`)."""
    stream = bool(request.body.get("stream"))
    started = time.perf_counter()
    collected = _Events(first_token, started, timeout)
    with sync_client(endpoint, target.label) as client:
        try:
            response = client.post(**_post_args(endpoint, request, timeout))
            if not stream:
                return _plain(request, response, target, started)
            try:
                for line in response.iter_lines():
                    collected.feed(line, target)
            finally:
                response.close()
        except Exception as exc:
            _raise_mapped(exc, target, started)
            raise
    return collected.finish(request, response, target)


async def asend_once(
    endpoint: Endpoint,
    target: CallTarget,
    request: WireRequest,
    timeout: float,
    first_token: TokenPredicate,
) -> WireResponse:
    """The async form of :func:`send_once` (its client never outlives the running loop)."""
    client, owned = async_client(endpoint, target.label)
    stream = bool(request.body.get("stream"))
    started = time.perf_counter()
    collected = _Events(first_token, started, timeout)
    try:
        try:
            response = await client.post(**_post_args(endpoint, request, timeout))
            if not stream:
                return _plain(request, response, target, started)
            try:
                async for line in response.aiter_lines():
                    collected.feed(line, target)
            finally:
                await response.aclose()
        except Exception as exc:
            _raise_mapped(exc, target, started)
            raise
    finally:
        if owned:
            await client.close()
    return collected.finish(request, response, target)
