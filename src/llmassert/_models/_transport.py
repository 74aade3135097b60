"""One live attempt through the SDK: the exact JSON body in, the raw JSON (or SSE events) out.

The SDK's own ``client.post(path, cast_to=httpx2.Response, body=...)`` is used, so auth, base
URLs, Azure deployment routing and headers are the SDK's, while the body sent is exactly the
``WireRequest.body`` (what recordings store) and the answer is the raw HTTP response.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from llmassert._models._clients import async_client, sync_client
from llmassert._models._endpoints import Endpoint
from llmassert._models._error_map import (
    CallTarget,
    invalid_body_error,
    map_sdk_error,
    safe_headers,
    stream_error,
)
from llmassert._models._sse import SSEDecoder
from llmassert._models._wire import WireRequest, WireResponse

__all__ = ["TokenPredicate", "asend_once", "request_url", "send_once"]

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

    return {
        "path": _client_path(endpoint, request.path),
        "cast_to": httpx2.Response,
        "body": dict(request.body),
        "options": {"timeout": timeout},
        "stream": bool(request.body.get("stream")),
    }


def _raise_mapped(exc: BaseException, target: CallTarget) -> None:
    mapped = map_sdk_error(exc, target)
    if mapped is not exc:
        raise mapped from exc


def _json_body(response: Any, target: CallTarget) -> Any:
    try:
        return response.json()
    except ValueError:
        raise invalid_body_error(target, response.status_code, response.text) from None


def _plain(response: Any, target: CallTarget, started: float) -> WireResponse:
    return WireResponse(
        status=response.status_code,
        body=_json_body(response, target),
        headers=safe_headers(response.headers),
        latency_s=time.perf_counter() - started,
    )


class _Events:
    """Collects a stream's SSE events and the time its first output token arrived."""

    def __init__(self, first_token: TokenPredicate, started: float) -> None:
        self.first_token = first_token
        self.started = started
        self.events: list[dict[str, Any]] = []
        self.ttft: float | None = None
        self._decoder = SSEDecoder()

    def feed(self, line: str) -> None:
        event = self._decoder.feed(line)
        if event is not None:
            self._add(event)

    def _add(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self.ttft is None and self.first_token(event):
            self.ttft = time.perf_counter() - self.started

    def finish(self, response: Any, target: CallTarget) -> WireResponse:
        tail = self._decoder.flush()
        if tail is not None:
            self._add(tail)
        error = stream_error(target, self.events)
        if error is not None:
            raise error
        return WireResponse(
            status=response.status_code,
            events=tuple(self.events),
            headers=safe_headers(response.headers),
            latency_s=time.perf_counter() - self.started,
            ttft_s=self.ttft,
        )


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
    collected = _Events(first_token, started)
    with sync_client(endpoint, target.label) as client:
        try:
            response = client.post(**_post_args(endpoint, request, timeout))
            if not stream:
                return _plain(response, target, started)
            try:
                for line in response.iter_lines():
                    collected.feed(line)
            finally:
                response.close()
        except Exception as exc:
            _raise_mapped(exc, target)
            raise
    return collected.finish(response, target)


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
    collected = _Events(first_token, started)
    try:
        try:
            response = await client.post(**_post_args(endpoint, request, timeout))
            if not stream:
                return _plain(response, target, started)
            try:
                async for line in response.aiter_lines():
                    collected.feed(line)
            finally:
                await response.aclose()
        except Exception as exc:
            _raise_mapped(exc, target)
            raise
    finally:
        if owned:
            await client.close()
    return collected.finish(response, target)
