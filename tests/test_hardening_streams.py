"""Streams and the store under real servers and clients: streamed recordings survive clients
that hang up early, keys split across SSE events never reach the store, and recordings get the
file mode the umask gives (they are meant to be committed and shared)."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai
import pytest

from llmassert import Endpoint, Model, RecordingInterceptor
from llmassert._recording._proxy import RecordingProxy
from llmassert._recording._recorder import Recorder
from llmassert._recording._store import RecordingStore
from llmassert._recording._usage import RunUsage, write_manifest
from llmassert.testing import LLMServer


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


def _model(server: LLMServer, store: Path, *, wire: str = "openai", api: str = "chat") -> Model:
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name="srv", provider=wire, base_url=base, api=api)
    return Model(
        "srv:gpt-4o-mini",
        endpoints={"srv": endpoint},
        interceptors=[RecordingInterceptor(store, "once")],
        context="tests/test_x.py::test_y",
    )


# -- file mode ------------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test (restored afterwards)."""
    previous = os.umask(0o022)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    try:
        yield set_mask
    finally:
        os.umask(previous)


@pytest.mark.skipif(os.name != "posix", reason="file mode bits are POSIX")
@pytest.mark.parametrize(
    ("mask", "expected"),
    [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
    ids=["umask-022", "umask-027", "umask-002"],
)
def test_recordings_get_the_mode_the_umask_gives_a_new_file(
    server: LLMServer,
    tmp_path: Path,
    umask: Callable[[int], None],
    mask: int,
    expected: int,
) -> None:
    umask(mask)
    store = tmp_path / "rec"
    _model(server, store).complete("Say hello", stream=True)
    write_manifest(store, RunUsage(used=set(), skipped_tests=set(), tests=1))
    written = sorted(p for p in store.rglob("*") if p.is_file())
    names = {p.name for p in written}
    assert ".gitignore" in names
    assert ".last-complete-run.json" in names
    assert any(n.endswith("-0.json") for n in names)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert modes == dict.fromkeys(names, oct(expected))


# -- the proxy keeps streams whose upstream completed, whatever the client did -----------------


class _StreamingUpstream:
    """A hand-written OpenAI-compatible upstream on 127.0.0.1 that misbehaves in time: it streams
    chat chunks (``gap_s`` apart), ``data: [DONE]``, then waits ``tail_s`` before ending the
    body (llama.cpp's server does this), or with ``break_after`` drops the connection after that
    many chunks without ending the body at all."""

    def __init__(
        self,
        pieces: list[str],
        *,
        gap_s: float = 0.0,
        tail_s: float = 0.0,
        break_after: int | None = None,
    ) -> None:
        self.pieces, self.gap_s, self.tail_s, self.break_after = pieces, gap_s, tail_s, break_after
        self.requests = 0
        self.finished = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                upstream.requests += 1
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                try:
                    upstream.stream(self)
                finally:
                    upstream.finished.set()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def chunk(self, n: int, delta: dict[str, object], finish: str | None = None) -> bytes:
        body = {
            "id": "chatcmpl-hand",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "hand-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    def stream(self, handler: BaseHTTPRequestHandler) -> None:
        def send(data: bytes) -> None:
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            handler.wfile.flush()

        events = [self.chunk(0, {"role": "assistant", "content": ""})]
        events += [self.chunk(i, {"content": p}) for i, p in enumerate(self.pieces)]
        events += [self.chunk(0, {}, "stop"), b"data: [DONE]\n\n"]
        try:
            for n, event in enumerate(events):
                if self.break_after is not None and n == self.break_after:
                    handler.close_connection = True
                    handler.connection.shutdown(socket.SHUT_RDWR)
                    return
                send(event)
                time.sleep(self.gap_s)
            time.sleep(self.tail_s)
            handler.wfile.write(b"0\r\n\r\n")
            handler.wfile.flush()
        except OSError:  # the proxy hung up: nothing more to send
            handler.close_connection = True

    def __enter__(self) -> _StreamingUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


PIECES = ["Hello", " from", " a", " slow", " upstream", "."]


def _proxy_to(base_url: str, store: Path) -> RecordingProxy:
    recorder = Recorder(RecordingStore(store), "once")
    proxy = RecordingProxy(recorder, upstreams={"openai": base_url})
    proxy.context = "tests/test_app.py::test_stream"
    return proxy.start()


def _stream_through(proxy: RecordingProxy, content: str, *, stop_after: int | None = None) -> str:
    """The app: the real openai SDK streaming through the proxy (``stop_after``: it stops reading
    after that many chunks and closes the stream)."""
    with openai.OpenAI(
        base_url=proxy.openai_base_url, api_key="sk-not-used", max_retries=0
    ) as client:
        stream = client.chat.completions.create(
            model="hand-model", messages=[{"role": "user", "content": content}], stream=True
        )
        text = []
        for n, chunk in enumerate(stream):
            if stop_after is not None and n >= stop_after:
                break
            if chunk.choices:
                text.append(chunk.choices[0].delta.content or "")
        stream.close()
    return "".join(text)


def _replay(store: Path, content: str) -> str:
    replay = _proxy_to("http://127.0.0.1:9/v1", store)
    replay.recorder.mode = "none"
    try:
        return _stream_through(replay, content)
    finally:
        replay.stop()


@pytest.mark.parametrize("tail_s", [0.05, 0.2])
def test_a_stream_whose_upstream_ends_after_done_is_stored(tmp_path: Path, tail_s: float) -> None:
    store = tmp_path / "rec"
    with _StreamingUpstream(PIECES, tail_s=tail_s) as upstream:
        proxy = _proxy_to(upstream.base_url, store)
        try:
            prompts = [f"stream {n}" for n in range(5)]
            live = [_stream_through(proxy, p) for p in prompts]
            proxy.drain()
        finally:
            proxy.stop()
    assert live == ["Hello from a slow upstream."] * 5
    assert upstream.requests == 5
    assert proxy.recorder.stats.recorded == 5
    assert len(list(RecordingStore(store).entries())) == 5
    assert [_replay(store, p) for p in prompts] == live


def test_a_client_that_hangs_up_mid_stream_still_gets_the_stream_stored(tmp_path: Path) -> None:
    store = tmp_path / "rec"
    with _StreamingUpstream(PIECES, gap_s=0.05) as upstream:
        proxy = _proxy_to(upstream.base_url, store)
        try:
            partial = _stream_through(proxy, "hang up early", stop_after=2)
            proxy.drain()
        finally:
            proxy.stop()
    assert partial == "Hello"
    assert proxy.recorder.stats.recorded == 1
    assert _replay(store, "hang up early") == "Hello from a slow upstream."


def test_a_stream_the_upstream_breaks_off_is_not_stored_and_is_counted(tmp_path: Path) -> None:
    store = tmp_path / "rec"
    with _StreamingUpstream(PIECES, gap_s=0.02, break_after=3) as upstream:
        proxy = _proxy_to(upstream.base_url, store)
        try:
            with pytest.raises(openai.APIError):
                _stream_through(proxy, "broken upstream")
            proxy.drain()
        finally:
            proxy.stop()
    stats = proxy.recorder.stats
    assert list(RecordingStore(store).entries()) == []
    assert (stats.recorded, stats.live, stats.not_stored) == (0, 1, 1)
    assert stats.not_stored_details[0].startswith("model hand-model (openai /v1/chat/completions")
    assert "the upstream's stream broke off" in stats.not_stored_details[0]
