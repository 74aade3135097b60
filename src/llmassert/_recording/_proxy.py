"""The recording proxy: record & replay for code that builds its own SDK clients.

An aiohttp app on 127.0.0.1 (in a background thread with its own event loop). Clients reach it
through the SDKs' standard base URLs::

    OPENAI_BASE_URL    = <proxy>/openai/v1   ->  forwarded to the OpenAI upstream (…/v1)
    ANTHROPIC_BASE_URL = <proxy>/anthropic   ->  forwarded to the Anthropic upstream

It is path-generic: any JSON endpoint under those prefixes (chat completions, Responses,
embeddings, Anthropic messages, ...). Recording forwards the request, including the caller's API
key, to the configured upstream only, and stores the response (streams as their SSE events);
replaying serves the stored response with the same SSE framing. It never logs or stores keys: auth
headers are forwarded, never written, and their values are added to the secret scanner so an echo
of the key in a body is redacted too.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from llmassert._errors import ConfigError, CorruptRecordingError
from llmassert._recording._key import key_for
from llmassert._recording._recorder import Decision, Recorder, as_recorder
from llmassert._recording._sse import SSEParser, frame_event
from llmassert._recording._store import RecordingStore

if TYPE_CHECKING:
    from aiohttp import ClientResponse, ClientSession, web

__all__ = ["DEFAULT_UPSTREAMS", "RecordingProxy"]

DEFAULT_UPSTREAMS: Mapping[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}
#: Header naming the test a request belongs to (for clients in other processes); never forwarded.
CONTEXT_HEADER = "x-llmassert-context"
_AUTH_HEADERS = ("authorization", "x-api-key", "api-key")
#: Other request headers whose values are treated as secrets (a gateway key, a session token):
#: never stored anyway, and redacted wherever an upstream echoes them into a body.
_CREDENTIAL_HEADER = re.compile(r"key|token|secret|auth|passw|credential|cookie|session", re.I)
#: ... except these, which carry no secret (and change with every request).
_NOT_CREDENTIALS = frozenset({"idempotency-key"})
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
        "accept-encoding",
        CONTEXT_HEADER,
    }
)


def _error_body(provider: str, message: str, kind: str) -> dict[str, Any]:
    if provider == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


class RecordingProxy:
    """A local record & replay proxy. ``start()`` / ``stop()``, or use it as a context manager.

    ``store``: a directory, a :class:`RecordingStore` or a ``Recorder``; ``mode``: record mode;
    ``upstreams``: ``{"openai": base URL incl. /v1, "anthropic": base URL}`` to forward to.
    """

    def __init__(
        self,
        store: Recorder | RecordingStore | str | os.PathLike[str],
        mode: str = "once",
        *,
        upstreams: Mapping[str, str] | None = None,
        port: int = 0,
        timeout_s: float = 600.0,
    ) -> None:
        self.recorder = as_recorder(store, mode)
        self.upstreams = {**DEFAULT_UPSTREAMS, **(upstreams or {})}
        for name, url in self.upstreams.items():
            if not url.startswith(("http://", "https://")):
                raise ConfigError(
                    f"recording proxy upstream for {name}: not an http(s) URL: {url!r}"
                )
        self.host = "127.0.0.1"
        self.port = port
        self.timeout_s = timeout_s
        #: The test the next requests belong to (the pytest plugin keeps it current).
        self.context: str | None = None
        #: Requests forwarded upstream (tests assert none happen in replay-only runs).
        self.forwarded = 0
        #: Miss messages per test context: the pytest plugin fails those tests with them.
        self.misses: dict[str, list[str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._lock = threading.Lock()
        #: Streams being relayed (see :meth:`drain`).
        self._tasks: set[asyncio.Future[web.StreamResponse]] = set()

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/openai/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"{self.url}/anthropic"

    def start(self) -> RecordingProxy:
        with self._lock:
            if self._thread is not None:
                return self
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((self.host, self.port))
            sock.listen(256)
            self.port = sock.getsockname()[1]
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            failure: list[BaseException] = []

            def run() -> None:
                asyncio.set_event_loop(loop)
                try:
                    loop.run_until_complete(self._serve(sock))
                except BaseException as exc:  # pragma: no cover - surfaced by start()
                    failure.append(exc)
                    ready.set()
                    return
                ready.set()
                loop.run_forever()
                loop.close()

            thread = threading.Thread(target=run, name="llmassert-recording-proxy", daemon=True)
            thread.start()
            ready.wait(30)
            if failure:
                raise failure[0]
            self._loop, self._thread = loop, thread
        return self

    async def _serve(self, sock: socket.socket) -> None:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return

            self.drain()

            async def shutdown() -> None:
                if self._client is not None:
                    await self._client.close()
                    self._client = None
                if self._runner is not None:
                    await self._runner.cleanup()
                    self._runner = None

            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            self._loop = self._thread = None

    def __enter__(self) -> RecordingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests ---------------------------------------------------------------------------

    def _route(self, path: str) -> tuple[str, str, str] | None:
        """``(provider, canonical path, upstream URL)`` for a proxy path, or None."""
        if path.startswith("/openai/v1/") or path == "/openai/v1":
            suffix = path[len("/openai/v1") :]
            base = self.upstreams["openai"].rstrip("/")
            return "openai", "/v1" + suffix, base + suffix
        if path.startswith("/anthropic/"):
            suffix = path[len("/anthropic") :]
            return "anthropic", suffix, self.upstreams["anthropic"].rstrip("/") + suffix
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        route = self._route(request.path)
        if route is None:
            message = (
                f"llmassert recording proxy: unknown path {request.path!r}; point OpenAI clients "
                f"at {self.openai_base_url} and Anthropic clients at {self.anthropic_base_url}"
            )
            return web.json_response(_error_body("openai", message, "not_found"), status=404)
        provider, path, upstream = route
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"$non_json_body": raw.decode("utf-8", "replace")}
        for name, value in request.headers.items():
            lower = name.lower()
            if not value or lower in _NOT_CREDENTIALS or lower.startswith("x-stainless-"):
                continue
            if lower in _AUTH_HEADERS:
                label = "the API key sent to the proxy"
            elif _CREDENTIAL_HEADER.search(lower):
                label = f"the {lower} header sent to the proxy"
            else:
                continue
            token = value.split(" ", 1)[1] if value.lower().startswith("bearer ") else value
            self.recorder.store.scanner.add(token.strip(), label)
        key = key_for(
            provider,
            path,
            body,
            method=request.method,
            query=request.query_string,
            headers=request.headers,
        )
        context = request.headers.get(CONTEXT_HEADER) or self.context
        url = upstream + (f"?{request.query_string}" if request.query_string else "")
        if request.method == "POST" and not request.query_string:
            plain = key_for(provider, path, body)  # the key llmassert's own calls are known by
            if self.recorder.is_in_process(plain, context):
                # One of llmassert's own live calls (its SDK client read OPENAI_BASE_URL while
                # the proxy was set): the in-process layer records it, the proxy only forwards.
                return await self._forward(request, None, provider, url, raw)
        try:
            decision = await asyncio.to_thread(self.recorder.decide, key, context)
        except CorruptRecordingError as exc:
            # A clear 400 (never retried) rather than a 500 the SDK would retry and hide.
            self.misses.setdefault(self.recorder.context_for(context), []).append(str(exc))
            payload = _error_body(provider, str(exc), "llmassert_corrupt_recording")
            return web.json_response(
                payload, status=400, headers={"x-llmassert-recording": "corrupt"}
            )
        if decision.action == "replay":
            return await self._replay(request, decision)
        if decision.action == "missing":
            error = self.recorder.missing(decision)
            self.misses.setdefault(decision.context, []).append(str(error))
            payload = _error_body(provider, str(error), "llmassert_recording_missing")
            return web.json_response(
                payload, status=400, headers={"x-llmassert-recording": "missing"}
            )
        return await self._forward(request, decision, provider, url, raw)

    async def _replay(self, request: web.Request, decision: Decision) -> web.StreamResponse:
        from aiohttp import web

        recording = self.recorder.replayed(decision)
        headers = {k: v for k, v in recording.headers.items() if k != "content-type"}
        headers["x-llmassert-recording"] = "replayed"
        if recording.events is not None:
            response = web.StreamResponse(status=recording.status, headers=headers)
            response.content_type = "text/event-stream"
            await response.prepare(request)
            for event in recording.events:
                await response.write(frame_event(event))
            await response.write_eof()
            return response
        content_type = recording.headers.get("content-type", "application/json")
        if isinstance(recording.body, str) and "json" not in content_type:
            data = recording.body.encode("utf-8")
        else:
            data = json.dumps(recording.body).encode("utf-8")
        headers["content-type"] = content_type
        return web.Response(status=recording.status, body=data, headers=headers)

    async def _done(self, decision: Decision | None, **outcome: Any) -> None:
        """Count (and store, when the mode says so) a forwarded call; ``None``: one of
        llmassert's own calls, which its in-process layer counts and records."""
        if decision is not None:
            await asyncio.to_thread(self.recorder.live_done, decision, **outcome)

    async def _forward(
        self,
        request: web.Request,
        decision: Decision | None,
        provider: str,
        url: str,
        raw: bytes,
    ) -> web.StreamResponse:
        """Send the request to the configured upstream (the only place the caller's key goes)
        and stream the answer back; ``decision`` None forwards without counting or storing."""
        import aiohttp
        from aiohttp import web

        if self._client is None:
            self._client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s, sock_connect=30),
                auto_decompress=True,
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["accept-encoding"] = "identity"
        started = time.perf_counter()
        self.forwarded += 1
        try:
            upstream = await self._client.request(
                request.method, url, data=raw or None, headers=headers, allow_redirects=False
            )
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            await self._done(decision, status=502, headers={})
            message = f"llmassert recording proxy: could not reach {url}: {exc.__class__.__name__}"
            return web.json_response(_error_body(provider, message, "api_error"), status=502)
        if "text/event-stream" in upstream.headers.get("content-type", ""):
            # The relay runs as its own task: a client that hangs up (the openai SDK closes the
            # connection as soon as it reads ``data: [DONE]``) neither cancels nor aborts it,
            # and the stream is stored once the upstream's body has ended.
            task = asyncio.ensure_future(
                self._relay_stream(request, upstream, decision, started, provider)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return await asyncio.shield(task)
        async with upstream:
            data = await upstream.read()
            latency = round(time.perf_counter() - started, 6)
            stored: Any
            try:
                stored = json.loads(data) if data else None
                storable = True
            except ValueError:
                try:
                    stored, storable = data.decode("utf-8"), True
                except UnicodeDecodeError:
                    stored, storable = None, False
            if decision is not None and not storable and upstream.status < 400:
                why = "the answer is neither JSON nor UTF-8 text, which recordings cannot hold"
                await asyncio.to_thread(self.recorder.not_stored, decision, why)
                decision = replace(decision, store=False)  # counted; header: live
            else:
                if decision is not None and not storable:  # an error: never stored anyway
                    self.recorder.abandon(decision)
                    decision = replace(decision, store=False)
                await self._done(
                    decision,
                    status=upstream.status,
                    headers=dict(upstream.headers),
                    body=stored,
                    latency_s=latency,
                )
            return web.Response(
                status=upstream.status, body=data, headers=self._out_headers(upstream, decision)
            )

    @staticmethod
    def _out_headers(upstream: ClientResponse, decision: Decision | None) -> dict[str, str]:
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        out["x-llmassert-recording"] = (
            "in-process" if decision is None else "recorded" if decision.store else "live"
        )
        return out

    async def _relay_stream(
        self,
        request: web.Request,
        upstream: ClientResponse,
        decision: Decision | None,
        started: float,
        provider: str,
    ) -> web.StreamResponse:
        """Relay an SSE answer chunk by chunk while parsing it. Writing to the client is best
        effort (once it has hung up, the rest is only read); the upstream is read to its end,
        and what it sent is stored only when its body ended normally: a stream the upstream broke
        off is counted as not stored (the summary names it) and the client's connection is cut,
        so it sees an error rather than a short answer."""
        import aiohttp
        from aiohttp import web

        response = web.StreamResponse(
            status=upstream.status, headers=self._out_headers(upstream, decision)
        )
        client_open = True

        async def to_client(data: bytes | None) -> None:
            nonlocal client_open
            if not client_open:
                return
            try:
                if not response.prepared:
                    await response.prepare(request)
                if data is None:
                    await response.write_eof()
                elif data:
                    await response.write(data)
            except (ConnectionError, RuntimeError):  # the client hung up
                client_open = False

        parser = SSEParser()
        ttft: float | None = None
        async with upstream:
            try:
                await to_client(b"")  # the status and headers
                async for chunk in upstream.content.iter_any():
                    if ttft is None:
                        ttft = time.perf_counter() - started
                    parser.feed(chunk)
                    await to_client(chunk)
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
                what = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
                if decision is not None:
                    await asyncio.to_thread(
                        self.recorder.not_stored,
                        decision,
                        f"the upstream's stream broke off after {len(parser.events)} events "
                        f"({what})",
                    )
                if request.transport is not None:
                    request.transport.close()
                return response
        await self._done(
            decision,
            status=upstream.status,
            headers=dict(upstream.headers),
            events=parser.finish(),
            latency_s=round(time.perf_counter() - started, 6),
            ttft_s=None if ttft is None else round(ttft, 6),
        )
        await to_client(None)
        return response

    def drain(self, timeout_s: float = 60.0) -> None:
        """Wait until every stream being relayed has been read to its end and stored (streams
        may outlive their client's request: see :meth:`_relay_stream`)."""
        loop = self._loop
        if loop is None:
            return

        async def wait() -> None:
            while self._tasks:
                await asyncio.wait(set(self._tasks), timeout=timeout_s)

        asyncio.run_coroutine_threadsafe(wait(), loop).result(timeout_s + 5)
