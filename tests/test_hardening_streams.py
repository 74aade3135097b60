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

import anthropic
import openai
import pytest

from llmassert import Endpoint, Model, RecordingInterceptor
from llmassert._recording._proxy import RecordingProxy
from llmassert._recording._recorder import Recorder
from llmassert._recording._secrets import SecretScanner
from llmassert._recording._store import RecordingStore
from llmassert._recording._usage import RunUsage, write_manifest
from llmassert.testing import LLMServer, Reply, ReplyToolCall


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


# -- keys split across SSE events never reach the store -------------------------------------

#: A key the model echoes: known as a value (the endpoint's key variable), not key-shaped.
VALUE_KEY = "planted-secret-value-9f8e7d6c5b4a3210"
#: The key an application's own client sends through the proxy (given in code).
APP_KEY = "app-secret-given-in-code-0a1b2c3d4e5f6789"
#: A key known only by its shape (not in the environment).
SHAPED_KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12345678"
ECHO = "Here it is: {key} (keep it safe)."
STREAMS = [
    pytest.param("openai", "chat", id="openai-chat"),
    pytest.param("openai", "responses", id="openai-responses"),
    pytest.param("openai", "completions", id="openai-completions"),
    pytest.param("anthropic", "chat", id="anthropic-messages"),
]


def _fragments(secret: str, size: int = 8) -> list[str]:
    """Every piece of ``secret`` as long as the test server's stream deltas (8 characters)."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def _assert_nowhere(store: Path, secret: str) -> None:
    files = [p for p in store.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert secret not in text, path
        leaked = [f for f in _fragments(secret) if f in text]
        assert not leaked, f"{path} holds fragments of the key: {leaked}"


def _keyed_model(server: LLMServer, store: Path, wire: str, api: str, mode: str) -> Model:
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    endpoint = Endpoint(
        name="srv", provider=wire, base_url=base, api=api, api_key_env="SRV_API_KEY"
    )
    return Model(
        "srv:gpt-4o-mini",
        endpoints={"srv": endpoint},
        interceptors=[RecordingInterceptor(store, mode)],
        context="tests/test_x.py::test_echo",
    )


@pytest.mark.parametrize(
    ("secret", "label"),
    [(VALUE_KEY, "SRV_API_KEY"), (SHAPED_KEY, None)],
    ids=["known-value", "key-shape"],
)
@pytest.mark.parametrize(("wire", "api"), STREAMS)
def test_an_echoed_key_split_across_stream_events_is_redacted_in_process(
    server: LLMServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wire: str,
    api: str,
    secret: str,
    label: str | None,
) -> None:
    monkeypatch.setenv("SRV_API_KEY", VALUE_KEY)
    server.add_rule(Reply(text=ECHO.format(key=secret)))
    store = tmp_path / "rec"
    live = _keyed_model(server, store, wire, api, "once").complete("echo", stream=True)
    assert live.text == ECHO.format(key=secret)  # the live answer itself is untouched
    _assert_nowhere(store, secret)
    monkeypatch.delenv("SRV_API_KEY")
    replayed = _keyed_model(server, store, wire, api, "none").complete("echo", stream=True)
    placeholder = f"[redacted:{label or 'api-key-shape sk-'}]"
    assert replayed.text == ECHO.format(key=placeholder)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_a_key_split_across_tool_call_argument_deltas_is_redacted(
    server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wire: str
) -> None:
    monkeypatch.setenv("SRV_API_KEY", VALUE_KEY)
    server.add_rule(Reply(tool_calls=(ReplyToolCall("save", {"token": VALUE_KEY}, id="c1"),)))
    store = tmp_path / "rec"
    tools = [{"name": "save", "parameters": {"type": "object", "properties": {}}}]
    model = _keyed_model(server, store, wire, "chat", "once")
    live = model.complete("save my key", stream=True, tools=tools)
    assert live.tool_calls[0].arguments == {"token": VALUE_KEY}
    _assert_nowhere(store, VALUE_KEY)
    replay = _keyed_model(server, store, wire, "chat", "none")
    replayed = replay.complete("save my key", stream=True, tools=tools)
    assert replayed.tool_calls[0].arguments == {"token": "[redacted:SRV_API_KEY]"}


def _openai_stream_app(api: str, key: str) -> str:
    with openai.OpenAI(api_key=key, max_retries=0) as client:
        if api == "chat":
            stream = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "echo"}], stream=True
            )
            return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        if api == "completions":
            pieces = client.completions.create(model="gpt-4o-mini", prompt="echo", stream=True)
            return "".join(c.choices[0].text for c in pieces if c.choices)
        with client.responses.stream(model="gpt-4o-mini", input="echo") as events:
            return "".join(e.delta for e in events if e.type == "response.output_text.delta")


def _anthropic_stream_app(key: str) -> str:
    with (
        anthropic.Anthropic(api_key=key, max_retries=0) as client,
        client.messages.stream(
            model="claude-3-5-haiku-latest",
            max_tokens=50,
            messages=[{"role": "user", "content": "echo"}],
        ) as stream,
    ):
        return "".join(stream.text_stream)


@pytest.mark.parametrize(("wire", "api"), STREAMS)
def test_an_echoed_key_split_across_stream_events_is_redacted_by_the_proxy(
    server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wire: str, api: str
) -> None:
    """The app's own SDK client sends its key (given in code, not in the environment) through
    the proxy; the upstream echoes it cut into 8-character deltas."""
    server.add_rule(Reply(text=ECHO.format(key=APP_KEY)))
    store = tmp_path / "rec"

    def run(mode: str, upstreams: dict[str, str]) -> str:
        proxy = RecordingProxy(Recorder(RecordingStore(store), mode), upstreams=upstreams)
        proxy.context = "tests/test_app.py::test_echo"
        proxy.start()
        monkeypatch.setenv("OPENAI_BASE_URL", proxy.openai_base_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", proxy.anthropic_base_url)
        key = APP_KEY if mode == "once" else "unused-in-replay"
        try:
            if wire == "anthropic":
                return _anthropic_stream_app(key)
            return _openai_stream_app(api, key)
        finally:
            proxy.stop()

    live = run("once", {"openai": server.openai_base_url, "anthropic": server.anthropic_base_url})
    assert live == ECHO.format(key=APP_KEY)
    _assert_nowhere(store, APP_KEY)
    replayed = run("none", {"openai": "http://127.0.0.1:9/v1", "anthropic": "http://127.0.0.1:9"})
    assert replayed == ECHO.format(key="[redacted:the API key sent to the proxy]")


def test_stream_redaction_cuts_every_piece_and_keeps_the_rest_of_the_events() -> None:
    """Two secrets in one choice (one starting exactly at a delta boundary), a second choice
    untouched, ``[DONE]`` and non-JSON events kept as they were."""
    scanner = SecretScanner(env={"A_API_KEY": "secretvalue-AAAA", "B_TOKEN": "tokenvalue-BBBB"})

    def chunk(index: int, content: str) -> dict[str, object]:
        choice = {"index": index, "delta": {"content": content}, "finish_reason": None}
        return {"event": None, "data": json.dumps({"choices": [choice]})}

    pieces = ["x secret", "value-", "AAAA y ", "tokenv", "alue-BBBB", " z"]
    events = [chunk(0, p) for p in pieces] + [chunk(1, "other choice")]
    events += [{"event": None, "data": "[DONE]"}, {"event": "ping", "data": "not json"}]
    redacted, found = scanner.redact_events(events, "recording r-0 response")
    assert redacted is not None
    texts = [json.loads(e["data"])["choices"][0]["delta"]["content"] for e in redacted[:7]]
    assert "".join(texts[:6]) == "x [redacted:A_API_KEY] y [redacted:B_TOKEN] z"
    assert texts[3:6] == ["[redacted:B_TOKEN]", "", " z"]
    assert texts[6] == "other choice"
    assert redacted[7:] == events[7:]
    assert sorted(r.what for r in found) == ["A_API_KEY", "B_TOKEN"]
