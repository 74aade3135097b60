"""A 200 that is not a completion is an error, never an empty reply: live (nothing stored), in
the recording proxy (nothing stored) and in replay (a stored body of the wrong shape is a
CorruptRecordingError naming the file)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest

from llmassert import (
    CorruptRecordingError,
    Endpoint,
    Model,
    ProviderError,
    RecordingInterceptor,
    RecordingProxy,
)
from llmassert.testing import LLMServer, Reply


class _Gateway(BaseHTTPRequestHandler):
    """A broken gateway: every POST gets the scripted status, content type and body."""

    status = 200
    content_type = "application/json"
    body = b"{}"
    seen = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).seen += 1
        self.send_response(self.status)
        self.send_header("content-type", self.content_type)
        self.send_header("content-length", str(len(self.body)))
        self.send_header("x-request-id", "req-gw-1")
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[type[_Gateway]]:
    handler = type("Gateway", (_Gateway,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def _model(base: str, wire: str, api: str, store: Path, mode: str = "once") -> Model:
    endpoint = Endpoint(
        name="gw", provider=wire, base_url=base, api=api, max_retries=2, retry_initial_s=0.01
    )
    return Model(
        "gw:m",
        endpoints={"gw": endpoint},
        interceptors=[RecordingInterceptor(store, mode)],
        context="tests/test_x.py::test_y",
    )


def _call(m: Model, run: str, stream: bool) -> None:
    if run == "sync":
        m.complete("hi", stream=stream)
    else:
        asyncio.run(m.acomplete("hi", stream=stream))


def _entries(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*.json") if p.name[0] != ".")


def _sse(*events: tuple[str | None, Any]) -> bytes:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        out.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
    return "".join(out).encode()


# (wire, api, stream, body, the field the message must name)
NOT_A_COMPLETION = [
    pytest.param("openai", "chat", False, {"object": "x"}, "choices", id="no-choices"),
    pytest.param("openai", "chat", False, {"choices": []}, "choices", id="choices-empty"),
    pytest.param(
        "openai",
        "chat",
        False,
        {"status": "ok", "message": "gateway healthy"},
        "choices",
        id="json-of-another-kind",
    ),
    pytest.param("openai", "chat", False, [1, 2], "JSON object", id="not-an-object"),
    pytest.param("openai", "completions", False, {"id": "x"}, "choices", id="completions"),
    pytest.param(
        "openai", "responses", False, {"id": "r", "object": "response"}, "output", id="responses"
    ),
    pytest.param("anthropic", "chat", False, {"type": "message"}, "content", id="msg"),
    pytest.param(
        "openai",
        "chat",
        True,
        _sse((None, {"id": "x", "object": "chat.completion.chunk"}), (None, "[DONE]")),
        "choices",
        id="chat-stream-without-choices",
    ),
    pytest.param("openai", "chat", True, b"", "no events", id="chat-stream-empty"),
    pytest.param(
        "openai",
        "responses",
        True,
        _sse(("response.created", {"type": "response.created", "response": {"id": "r"}})),
        "response.completed",
        id="responses-stream-unfinished",
    ),
    pytest.param(
        "anthropic",
        "chat",
        True,
        _sse(("ping", {"type": "ping"})),
        "message_start",
        id="messages-stream-without-message",
    ),
]


@pytest.mark.parametrize(("wire", "api", "stream", "body", "field"), NOT_A_COMPLETION)
@pytest.mark.parametrize("run", ["sync", "async"])
def test_a_200_that_is_not_a_completion_is_an_error_and_is_not_stored(
    gateway: type[_Gateway],
    tmp_path: Path,
    wire: str,
    api: str,
    stream: bool,
    body: Any,
    field: str,
    run: str,
) -> None:
    gateway.body = body if isinstance(body, bytes) else json.dumps(body).encode()
    gateway.content_type = "text/event-stream" if stream else "application/json"
    base: str = gateway.url + ("" if wire == "anthropic" else "/v1")  # type: ignore[attr-defined]
    m = _model(base, wire, api, tmp_path)
    with pytest.raises(ProviderError) as info:
        _call(m, run, stream)
    message = str(info.value)
    assert message.startswith("gw:m: HTTP 200 from http://127.0.0.1:"), message
    assert field in message
    assert info.value.status == 200
    assert info.value.request_id == "req-gw-1"
    if not stream and isinstance(body, dict):
        assert json.dumps(body)[:20] in message  # the start of the body
    assert _entries(tmp_path) == []  # nothing stored: CI will miss, not replay an empty reply
    assert gateway.seen == 1  # not retried: a wrong answer does not improve by asking again


def test_a_real_completion_still_passes_the_check(llm_server: LLMServer, tmp_path: Path) -> None:
    llm_server.add_rule(Reply(text="fine"))
    for wire, api in [("openai", "chat"), ("openai", "responses"), ("anthropic", "chat")]:
        base = llm_server.anthropic_base_url if wire == "anthropic" else llm_server.openai_base_url
        for stream in (False, True):
            assert _model(base, wire, api, tmp_path).complete("ok?", stream=stream).text == "fine"


def test_the_proxy_does_not_store_a_200_that_is_not_a_completion(
    gateway: type[_Gateway], tmp_path: Path
) -> None:
    gateway.body = json.dumps({"id": "x", "object": "chat.completion"}).encode()
    upstream = gateway.url + "/v1"  # type: ignore[attr-defined]
    with (
        RecordingProxy(tmp_path, "once", upstreams={"openai": upstream}) as proxy,
        openai.OpenAI(base_url=proxy.openai_base_url, api_key="k", max_retries=0) as client,
    ):
        proxy.context = "tests/test_app.py::test_app"
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        # A real answer through the same proxy is still stored.
        gateway.body = json.dumps(
            {"id": "y", "choices": [{"index": 0, "message": {"role": "assistant", "content": "a"}}]}
        ).encode()
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "ok"}])
        # Another endpoint of the API (a GET list) is not a completion and is not checked.
        gateway.body = b'{"object": "list", "data": []}'
        client.models.list()
    stored = [json.loads(p.read_text())["response"]["body"] for p in _entries(tmp_path)]
    assert sorted(b.get("id", b.get("object")) for b in stored) == ["list", "y"]


@pytest.mark.parametrize(
    ("wire", "api", "stream", "emptied"),
    [
        ("openai", "chat", False, "choices"),
        ("openai", "responses", False, "output"),
        ("anthropic", "chat", False, "content"),
        ("openai", "chat", True, "events"),
    ],
)
def test_a_stored_recording_of_the_wrong_shape_is_corrupt_naming_the_file(
    llm_server: LLMServer, tmp_path: Path, wire: str, api: str, stream: bool, emptied: str
) -> None:
    llm_server.add_rule(Reply(text="stored"))
    base = llm_server.anthropic_base_url if wire == "anthropic" else llm_server.openai_base_url
    assert _model(base, wire, api, tmp_path).complete("q", stream=stream).text == "stored"
    [path] = _entries(tmp_path)
    doc = json.loads(path.read_text())
    if stream:
        doc["response"]["events"] = [{"event": None, "data": "[DONE]"}]
    else:
        del doc["response"]["body"][emptied]
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptRecordingError, match="not a completion") as info:
        _model(base, wire, api, tmp_path, "none").complete("q", stream=stream)
    assert str(path) in str(info.value)
    assert "delete the file and record it again" in str(info.value)


def test_recordings_list_flags_a_stored_answer_that_is_not_a_completion(
    llm_server: LLMServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from llmassert._cli import main

    llm_server.add_rule(Reply(text="stored"))
    store = tmp_path / "llm_recordings"
    _model(llm_server.openai_base_url, "openai", "chat", store).complete("q")
    assert main(["recordings", "--dir", str(store), "list"]) == 0
    [path] = _entries(store)
    doc = json.loads(path.read_text())
    doc["response"]["body"]["choices"] = []
    path.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["recordings", "--dir", str(store), "list"]) == 1
    assert f"recording {path} is not a completion: 'choices' is empty" in capsys.readouterr().out


def test_the_proxy_does_not_store_a_stream_that_is_not_a_completion(
    gateway: type[_Gateway], tmp_path: Path
) -> None:
    gateway.content_type = "text/event-stream"
    gateway.body = _sse((None, {"id": "x", "object": "chat.completion.chunk"}), (None, "[DONE]"))
    upstream = gateway.url + "/v1"  # type: ignore[attr-defined]
    with (
        RecordingProxy(tmp_path, "once", upstreams={"openai": upstream}) as proxy,
        openai.OpenAI(base_url=proxy.openai_base_url, api_key="k", max_retries=0) as client,
    ):
        proxy.context = "tests/test_app.py::test_app"
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        assert [chunk.id for chunk in stream] == ["x"]  # passed on to the app unchanged
        proxy.drain()
    assert _entries(tmp_path) == []
