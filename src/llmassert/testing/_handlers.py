"""The test server's HTTP side: routes, the request pipeline, SSE framing and fault injection.

Pipeline for every request: count it in flight, parse the body, describe it with the API's wire
module, record it (secrets fingerprinted), check the API key, pick the rule and fault, wait
(held replies, latency), inject the fault (hang, reset, failure), render the reply (JSON body or
SSE stream with per-event delays, malformed bodies, mid-stream errors).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import secrets
import socket
import struct
import time
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from llmassert.testing._fault import Fault
from llmassert.testing._headers import safe_headers, safe_query
from llmassert.testing._reply import ErrorReply, Reply
from llmassert.testing._request import ServerRequest
from llmassert.testing._rules import Rule, RuleFailure, resolve_reply
from llmassert.testing._wire import SSEEvent, WireFormat

if TYPE_CHECKING:
    from llmassert.testing._server import LLMServer

__all__ = ["WIRE_MODULES", "build_app"]

#: api -> the module implementing its wire format.
WIRE_MODULES: dict[str, str] = {
    "chat.completions": "llmassert.testing._wire_openai_chat",
    "completions": "llmassert.testing._wire_openai_completions",
    "embeddings": "llmassert.testing._wire_openai_embeddings",
    "models": "llmassert.testing._wire_openai_models",
    "responses": "llmassert.testing._wire_responses",
    "messages": "llmassert.testing._wire_anthropic",
}

# (method, path under /v1, api)
_ROUTES = (
    ("POST", "/chat/completions", "chat.completions"),
    ("POST", "/completions", "completions"),
    ("POST", "/embeddings", "embeddings"),
    ("POST", "/responses", "responses"),
    ("POST", "/messages", "messages"),
    ("GET", "/models", "models"),
    ("GET", "/models/{model_id:.+}", "models"),
)
_PREFIXES = ("/v1", "/openai/v1", "/anthropic/v1")
#: Azure OpenAI's deployment-based paths (``AzureOpenAI(azure_endpoint=server.url, ...)``).
_AZURE_PREFIX = "/openai/deployments/{deployment}"
_AZURE_APIS = ("chat.completions", "completions", "embeddings")

_modules: dict[str, ModuleType | None] = {}


def _wire(api: str) -> WireFormat | None:
    if api not in _modules:
        try:
            _modules[api] = importlib.import_module(WIRE_MODULES[api])
        except ImportError:
            _modules[api] = None
    return cast("WireFormat | None", _modules[api])


def build_app(server: LLMServer) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    for prefix in _PREFIXES:
        for method, path, api in _ROUTES:
            app.router.add_route(method, prefix + path, _Handler(server, api).handle)
    for method, path, api in _ROUTES:
        if api in _AZURE_APIS:
            app.router.add_route(method, _AZURE_PREFIX + path, _Handler(server, api).handle)
    app.router.add_route("*", "/{tail:.*}", _not_served)
    return app


async def _not_served(request: web.Request) -> web.Response:
    """Unknown paths: a 404 in the OpenAI error shape that says what is served (and the usual
    mistake: a base URL without ``/v1``)."""
    served = ", ".join(f"{m} /v1{p}" for m, p, _ in _ROUTES if "{" not in p)
    hint = ""
    tail = request.path.rstrip("/")
    if any(tail == p or tail.endswith("/" + p.lstrip("/")) for _, p, _ in _ROUTES):
        hint = (
            " The path lacks the /v1 prefix: an OpenAI client's base_url must end in /v1 "
            "(use server.openai_base_url); an Anthropic client's is the bare server URL."
        )
    message = (
        f"The llmassert test server does not serve {request.method} {request.path}.{hint} "
        f"It serves: {served} (also under /openai/v1 and /anthropic/v1)."
    )
    # An Anthropic client (it always sends anthropic-version) gets Anthropic's error shape.
    provider = "anthropic" if "anthropic-version" in request.headers else "openai"
    request_id = _request_id(provider)
    from llmassert.testing import _wire_anthropic, _wire_openai_errors

    errors = _wire_anthropic if provider == "anthropic" else _wire_openai_errors
    _, body, _ = errors.render_error(ErrorReply(status=404, message=message))
    if "request_id" in body:
        body = {**body, "request_id": request_id}
    return web.Response(
        body=_dumps(body),
        status=404,
        content_type="application/json",
        headers={_id_header(provider): request_id},
    )


def _request_id(provider: str) -> str:
    if provider == "anthropic":
        return "req_" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")
    return "req_" + secrets.token_hex(16)


def _id_header(provider: str) -> str:
    return "request-id" if provider == "anthropic" else "x-request-id"


def _offered_keys(request: web.Request) -> list[str]:
    keys = []
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        keys.append(auth[7:].strip())
    for name in ("x-api-key", "api-key"):
        value = request.headers.get(name)
        if value is not None:
            keys.append(value.strip())
    return keys


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _abort(request: web.Request) -> None:
    """Reset the TCP connection (RST, not a clean close) without answering."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Dropped(Exception):
    """The connection was dropped on purpose (reset fault, hang at shutdown)."""


class _Flight:
    """One request's place in the in-flight count. A stream leaves just before its last bytes
    go out, so a client that immediately sends its next request is never counted twice."""

    def __init__(self, server: LLMServer) -> None:
        self._server = server
        self._token: int | None = server._enter()

    def leave(self) -> None:
        if self._token is not None:
            self._server._leave(self._token)
            self._token = None


class _Handler:
    def __init__(self, server: LLMServer, api: str) -> None:
        self.server = server
        self.api = api

    async def handle(self, request: web.Request) -> web.StreamResponse:
        server = self.server
        flight = _Flight(server)
        try:
            return await self._handle(request, flight)
        except _Dropped:
            # The transport is gone; aiohttp writes nothing for a closed connection.
            return web.Response(status=499)
        finally:
            flight.leave()

    def _provider(self, request: web.Request, wire: WireFormat | None) -> str:
        if self.api != "models":
            return wire.PROVIDER if wire is not None else "openai"
        if request.path.startswith("/anthropic/"):
            return "anthropic"
        if request.path.startswith("/openai/"):
            return "openai"
        return "anthropic" if "anthropic-version" in request.headers else "openai"

    def _error_wire(self, provider: str, wire: WireFormat | None) -> WireFormat | None:
        if provider == "anthropic" and (wire is None or wire.PROVIDER != "anthropic"):
            return _wire("messages")
        return wire if wire is not None else _wire("chat.completions")

    async def _handle(self, request: web.Request, flight: _Flight) -> web.StreamResponse:
        server = self.server
        wire = _wire(self.api)
        provider = self._provider(request, wire)
        request_id = _request_id(provider)
        error_wire = self._error_wire(provider, wire)

        body: Any = None
        body_error: str | None = None
        if request.method == "POST":
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except (ValueError, UnicodeDecodeError):
                body_error = (
                    "We could not parse the JSON body of your request. The test server expects "
                    "a JSON object."
                )
            if body_error is None and not isinstance(body, Mapping):
                body_error = "The request body must be a JSON object."
        view = wire.describe(body) if wire is not None and body_error is None else None
        model = view.model if view is not None else None
        if self.api == "models":
            model = request.match_info.get("model_id")
        elif not model and view is not None:
            model = request.match_info.get("deployment")  # Azure: the deployment names it
        sreq = ServerRequest(
            method=request.method,
            path=request.path,
            provider=provider,
            api=self.api,
            headers=safe_headers(request.headers.items()),
            body=body,
            model=model,
            messages=view.messages if view is not None else (),
            prompt=view.prompt if view is not None else "",
            stream=view.stream if view is not None else False,
            received_at=time.time(),
            request_id=request_id,
            query=safe_query(request.query.items()),
        )
        server._record(sreq)

        def error(err: ErrorReply) -> web.Response:
            return self._error_response(error_wire, err, provider, request_id)

        if wire is None:
            return error(
                ErrorReply(
                    status=501,
                    message=f"The test server does not implement the {self.api} API yet.",
                )
            )
        if server.require_api_key is not None and server.require_api_key not in _offered_keys(
            request
        ):
            message = (
                "invalid x-api-key"
                if provider == "anthropic"
                else "Incorrect API key provided. The test server expects the key it was started "
                "with (require_api_key)."
            )
            return error(ErrorReply(status=401, message=message))
        if body_error is not None:
            return error(ErrorReply(status=400, message=body_error))
        if request.method == "POST" and not model:
            return error(
                ErrorReply(
                    status=400,
                    message="you must provide a model parameter",
                    param="model",
                    code="missing_required_parameter" if provider == "openai" else None,
                )
            )

        try:
            rule, fault, failing = server._select(sreq)
        except RuleFailure as failure:
            return error(self._rule_failure(failure.error, failure.rule))

        if not await server._wait_released():
            _abort(request)
            raise _Dropped
        if fault is not None:
            if fault.hold_until_in_flight is not None and not await server._wait_in_flight(fault):
                _abort(request)
                raise _Dropped
            latency = server._latency(fault)
            if latency > 0 and await server._wait_stopping(latency):
                _abort(request)
                raise _Dropped
            mid_stream = sreq.stream and fault.stream_error_after is not None
            if fault.hang and not mid_stream:
                await server._wait_stopping(None)
                _abort(request)
                raise _Dropped
            if fault.reset_connection and not mid_stream:
                _abort(request)
                raise _Dropped
            if failing:
                return error(fault.fail_with)

        try:
            reply = resolve_reply(rule.reply if rule is not None else None, sreq)
        except Exception as exc:
            return error(self._rule_failure(exc, rule))
        if isinstance(reply, ErrorReply):
            return error(reply)
        if reply.error is not None:
            return error(reply.error)

        headers = {_id_header(provider): request_id}
        headers.update({k.lower(): v for k, v in reply.headers.items()})
        if self.api == "models":
            return self._models_response(sreq, error, headers)
        if sreq.stream:
            return await self._stream(request, wire, sreq, reply, fault, headers, flight)
        payload = _dumps(wire.render_body(sreq, reply))
        if fault is not None and fault.malformed_json:
            payload = payload[: max(1, len(payload) // 2)]
        return web.Response(
            body=payload, status=200, headers=headers, content_type="application/json"
        )

    def _rule_failure(self, exc: BaseException, rule: Rule | None) -> ErrorReply:
        if rule is not None and rule.name:
            where = f"rule {rule.name!r}"
        else:
            where = f"the rule {rule!r}"[:200] if rule is not None else "a rule"
        message = f"llmassert test server: {where} raised {type(exc).__name__}: {exc}"
        self.server._record_error(message)
        return ErrorReply(status=500, message=message)

    def _models_response(
        self, sreq: ServerRequest, error: Any, headers: dict[str, str]
    ) -> web.Response:
        from llmassert.testing import _wire_openai_models as models

        known = self.server.models
        if sreq.model is None:
            body = models.render_list(known, sreq.provider)
        elif sreq.model in known:
            body = models.render_model(sreq.model, sreq.provider)
        else:
            err: web.Response = error(
                ErrorReply(
                    status=404,
                    message=f"The model `{sreq.model}` does not exist or you do not have "
                    "access to it.",
                    type="not_found_error" if sreq.provider == "anthropic" else None,
                )
            )
            return err
        return web.Response(body=_dumps(body), headers=headers, content_type="application/json")

    def _error_response(
        self, wire: WireFormat | None, err: ErrorReply, provider: str, request_id: str
    ) -> web.Response:
        if wire is None:  # no module for this provider's errors: a generic OpenAI-like body
            status = err.status
            body: dict[str, Any] = {"error": {"message": err.message or "error", "type": None}}
            extra: dict[str, str] = {}
        else:
            status, body, extra = wire.render_error(err)
        if "request_id" in body:
            body = {**body, "request_id": request_id}
        headers = {_id_header(provider): request_id, **extra}
        return web.Response(
            body=_dumps(body), status=status, headers=headers, content_type="application/json"
        )

    async def _stream(
        self,
        request: web.Request,
        wire: WireFormat,
        sreq: ServerRequest,
        reply: Reply,
        fault: Fault | None,
        headers: dict[str, str],
        flight: _Flight,
    ) -> web.StreamResponse:
        events = list(wire.render_stream(sreq, reply))
        # How the stream breaks after `stream_error_after` events: an error event (default),
        # a stall (with hang) or a dropped connection (with reset_connection).
        breaks: str | None = None
        if fault is not None and fault.stream_error_after is not None:
            events = events[: fault.stream_error_after]
            if fault.hang:
                breaks = "stall"
            elif fault.reset_connection:
                breaks = "drop"
            else:
                error_event = wire.render_stream_error(fault.fail_with)
                if isinstance(error_event.data, dict) and "sequence_number" in error_event.data:
                    # Numbered streams (Responses API): the error continues the numbering.
                    data = {**error_event.data, "sequence_number": len(events)}
                    error_event = dataclasses.replace(error_event, data=data)
                events.append(error_event)
        frames = [event.encode() for event in events]
        if fault is not None and fault.malformed_json and frames:
            frames[0] = _truncated(events[0])
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            **headers,
        }
        ttft = fault.ttft_s if fault is not None else 0.0
        token_delay = fault.token_delay_s if fault is not None else 0.0
        if ttft <= 0 and token_delay <= 0 and breaks is None:
            # No delays: every event in one body (same bytes on the wire, minus chunking).
            return web.Response(body=b"".join(frames), status=200, headers=headers)
        response = web.StreamResponse(status=200, headers=headers)
        await response.prepare(request)
        for index, frame in enumerate(frames):
            delay = ttft if index == 0 else token_delay
            if delay > 0 and await self.server._wait_stopping(delay):
                _abort(request)
                raise _Dropped
            if index == len(frames) - 1 and breaks is None:
                flight.leave()
            await response.write(frame)
        if breaks is not None:
            if breaks == "stall":
                await self.server._wait_stopping(None)
            if request.transport is not None:
                request.transport.close()  # flushes the events sent, then ends mid-body
            raise _Dropped
        await response.write_eof()
        return response


def _truncated(event: SSEEvent) -> bytes:
    data = event.data if isinstance(event.data, str) else json.dumps(event.data)
    head = f"event: {event.event}\n" if event.event is not None else ""
    return f"{head}data: {data[: max(1, len(data) // 2)]}\n\n".encode()
