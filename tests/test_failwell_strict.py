"""Strict servers (older Azure API versions, some gateways) answer 400 to fields they do not
know. llmassert adds one field on its own, ``stream_options`` on streamed Chat Completions: on
such a 400 the call is retried once without it, the endpoint is remembered, the rejected 400 is
never recorded, and ``stream_usage = false`` leaves the field out from the start.

The strict server is hand-written (http.server) and reached through the real openai SDK."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from llmassert import Endpoint, Model, ProviderError
from llmassert._recording._interceptor import RecordingInterceptor
from llmassert._recording._recorder import Recorder
from llmassert._recording._store import RecordingStore

KNOWN = {"model", "messages", "max_tokens", "temperature", "top_p", "stream", "stop", "seed"}
_names = itertools.count()


class _Strict(BaseHTTPRequestHandler):
    """Chat Completions that rejects unknown fields and streams without a usage chunk (like
    llama-cpp-python)."""

    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        type(self).bodies.append(body)
        unknown = sorted(set(body) - KNOWN)
        if unknown:
            error = {
                "error": {
                    "message": f"Unrecognized request argument supplied: {', '.join(unknown)}",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
            self._send(400, "application/json", json.dumps(error).encode())
            return
        if not body.get("stream"):
            reply = {
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "strict hello"},
                    }
                ],
            }
            self._send(200, "application/json", json.dumps(reply).encode())
            return
        chunks = []
        for i, piece in enumerate(["strict ", "hello"]):
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta["role"] = "assistant"
            chunks.append({"index": 0, "delta": delta, "finish_reason": None})
        chunks.append({"index": 0, "delta": {}, "finish_reason": "stop"})
        events = b"".join(
            b"data: "
            + json.dumps(
                {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [choice],
                }
            ).encode()
            + b"\n\n"
            for choice in chunks
        )
        self._send(200, "text/event-stream", events + b"data: [DONE]\n\n")

    def _send(self, status: int, kind: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def strict() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []
    handler = type("Strict", (_Strict,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", bodies
    server.shutdown()
    server.server_close()


def _model(base_url: str, **kw: Any) -> Model:
    name = f"strict{next(_names)}"
    endpoint = Endpoint(name=name, provider="openai", base_url=base_url, **kw)
    return Model(f"{name}:m", endpoints={name: endpoint}, interceptors=[])


def test_a_strict_server_streams_after_one_retry_without_stream_options(
    strict: tuple[str, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, bodies = strict
    m = _model(url)
    with caplog.at_level(logging.INFO, logger="llmassert"):
        r = m.complete("hi", stream=True)
    assert r.text == "strict hello"
    assert r.usage.input_tokens is None  # this server streams no usage: none is made up
    assert [("stream_options" in b) for b in bodies] == [True, False]
    logged = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.INFO]
    assert any("rejected the optional field stream_options" in line for line in logged), logged
    # Remembered for the endpoint: the next streamed call goes out without it at once.
    assert m.complete("again", stream=True).text == "strict hello"
    assert len(bodies) == 3
    assert "stream_options" not in bodies[2]


@pytest.mark.asyncio
async def test_the_async_path_falls_back_too(strict: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = strict
    r = await _model(url).acomplete("hi", stream=True)
    assert r.text == "strict hello"
    assert len(bodies) == 2


def test_stream_usage_false_leaves_the_field_out_from_the_start(
    strict: tuple[str, list[dict[str, Any]]],
) -> None:
    url, bodies = strict
    assert _model(url, stream_usage=False).complete("hi", stream=True).text == "strict hello"
    assert len(bodies) == 1
    assert "stream_options" not in bodies[0]


def test_stream_usage_is_an_endpoint_key(tmp_path: Path) -> None:
    from llmassert._models._endpoints import load_endpoints

    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.llmassert.endpoints.gw]\nbase_url = "http://127.0.0.1:9/v1"\nstream_usage = false\n'
    )
    assert load_endpoints(path)["gw"].stream_usage is False


def test_a_field_the_user_asked_for_is_not_dropped(
    strict: tuple[str, list[dict[str, Any]]],
) -> None:
    url, bodies = strict
    with pytest.raises(ProviderError, match="Unrecognized request argument"):
        _model(url).complete(
            "hi", stream=True, extra_body={"stream_options": {"include_usage": True}}
        )
    assert len(bodies) == 1


def test_the_fallback_keeps_the_recording_key_and_never_stores_the_400(
    strict: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, bodies = strict
    store = RecordingStore(tmp_path / "rec")
    name = f"strict{next(_names)}"
    endpoint = Endpoint(name=name, provider="openai", base_url=url)
    recording = Model(
        f"{name}:m",
        endpoints={name: endpoint},
        interceptors=[RecordingInterceptor(Recorder(store, "once"))],
    )
    assert recording.complete("hi", stream=True).text == "strict hello"
    entries = list(store.entries())
    assert len(entries) == 1
    stored = json.loads(entries[0].read_text())
    assert '"status": 400' not in json.dumps(stored)
    # Replayed in mode "none": the request is the one llmassert builds (stream_options
    # included), so its key finds the recording.
    replaying = Model(
        f"{name}:m",
        endpoints={name: endpoint},
        interceptors=[RecordingInterceptor(Recorder(store, "none"))],
    )
    reply = replaying.complete("hi", stream=True)
    assert reply.replayed
    assert reply.text == "strict hello"
    assert len(bodies) == 2
