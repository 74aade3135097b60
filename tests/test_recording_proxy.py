"""The recording proxy: applications that build their own OpenAI / Anthropic clients are
recorded against the local test server, then replayed with the server stopped."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from llmassert._recording._proxy import RecordingProxy
from llmassert._recording._recorder import Recorder
from llmassert._recording._store import RecordingStore
from llmassert.testing import LLMServer

PLANTED = "sk-test-PLANTED-7f3a9c1e5b2d8a4f6e0c"


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


def _proxy(tmp_path: Path, mode: str, server: LLMServer | None = None) -> RecordingProxy:
    upstreams = (
        {"openai": server.openai_base_url, "anthropic": server.anthropic_base_url}
        if server is not None
        else {"openai": "http://127.0.0.1:9/v1", "anthropic": "http://127.0.0.1:9"}
    )
    proxy = RecordingProxy(Recorder(RecordingStore(tmp_path / "rec"), mode), upstreams=upstreams)
    proxy.context = "tests/test_app.py::test_app"
    return proxy.start()


def _point_sdks_at(proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", proxy.openai_base_url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", proxy.anthropic_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
    monkeypatch.setenv("ANTHROPIC_API_KEY", PLANTED)


def openai_app() -> list[str]:
    """An application that builds its own OpenAI clients from the environment."""
    with openai.OpenAI(max_retries=0) as client:
        return _openai_calls(client)


def _openai_calls(client: openai.OpenAI) -> list[str]:
    out = []
    for _ in range(2):  # the same request twice: two recordings
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}]
        )
        out.append(reply.choices[0].message.content or "")
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Stream a short greeting please"}],
        stream=True,
    )
    out.append("".join(c.choices[0].delta.content or "" for c in stream if c.choices))
    response = client.responses.create(model="gpt-4o-mini", input="Responses API hello")
    out.append(response.output_text)
    with client.responses.stream(model="gpt-4o-mini", input="Responses stream hi") as events:
        out.append("".join(e.delta for e in events if e.type == "response.output_text.delta"))
    emb = client.embeddings.create(model="text-embedding-3-small", input="vector me")
    out.append(json.dumps(emb.data[0].embedding[:3]))

    async def run_async() -> str:
        async with openai.AsyncOpenAI(max_retries=0) as aclient:
            reply = await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Async hello"}]
            )
            return reply.choices[0].message.content or ""

    out.append(asyncio.run(run_async()))
    return out


def anthropic_app() -> list[str]:
    """An application that builds its own Anthropic clients from the environment."""
    with anthropic.Anthropic(max_retries=0) as client:
        return _anthropic_calls(client)


def _anthropic_calls(client: anthropic.Anthropic) -> list[str]:
    message = client.messages.create(
        model="claude-3-5-haiku-latest",
        max_tokens=50,
        messages=[{"role": "user", "content": "Hello Claude"}],
    )
    out = ["".join(b.text for b in message.content if b.type == "text")]
    with client.messages.stream(
        model="claude-3-5-haiku-latest",
        max_tokens=50,
        messages=[{"role": "user", "content": "Stream to me Claude"}],
    ) as stream:
        out.append("".join(stream.text_stream))

    async def run_async() -> str:
        async with anthropic.AsyncAnthropic(max_retries=0) as aclient:
            reply = await aclient.messages.create(
                model="claude-3-5-haiku-latest",
                max_tokens=50,
                messages=[{"role": "user", "content": "Async Claude"}],
            )
            return "".join(b.text for b in reply.content if b.type == "text")

    out.append(asyncio.run(run_async()))
    return out


@pytest.mark.parametrize("app", [openai_app, anthropic_app], ids=["openai", "anthropic"])
def test_record_then_replay_with_the_server_stopped(
    app: Callable[[], list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LLMServer() as server:
        proxy = _proxy(tmp_path, "once", server)
        _point_sdks_at(proxy, monkeypatch)
        try:
            live = app()
        finally:
            proxy.stop()
        seen = server.request_count
    assert seen == proxy.forwarded == len(list(proxy.recorder.store.entries()))
    assert proxy.recorder.stats.recorded == seen

    replay = _proxy(tmp_path, "none")  # upstream points at a closed port: any call would fail
    _point_sdks_at(replay, monkeypatch)
    try:
        replayed = app()
    finally:
        replay.stop()
    assert replayed == live
    assert all(live)
    assert replay.forwarded == 0
    assert replay.recorder.stats.replayed == seen
    assert replay.recorder.stats.missing == 0
    for path in replay.recorder.store.entries():
        assert PLANTED not in path.read_text(encoding="utf-8")


def test_identical_requests_get_distinct_recordings(
    server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = iter(range(100))
    server.add_rule(lambda request: f"answer {next(counter)}")
    proxy = _proxy(tmp_path, "once", server)
    _point_sdks_at(proxy, monkeypatch)

    def ask() -> str:
        with openai.OpenAI(max_retries=0) as client:
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "sample me"}]
            )
        return reply.choices[0].message.content or ""

    try:
        first = [ask() for _ in range(3)]
        proxy.context = "tests/test_app.py::test_other"
        other = ask()
    finally:
        proxy.stop()
    assert first == ["answer 0", "answer 1", "answer 2"]
    assert other == "answer 0"  # occurrence 0 of the same request, shared across tests
    assert server.request_count == 3

    replay = _proxy(tmp_path, "none")
    _point_sdks_at(replay, monkeypatch)
    try:
        assert [ask() for _ in range(3)] == first
    finally:
        replay.stop()


def _raw_post(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        (
            "/openai/v1/chat/completions",
            {"model": "m", "messages": [{"role": "user", "content": "frame me"}], "stream": True},
            {"authorization": f"Bearer {PLANTED}"},
        ),
        (
            "/anthropic/v1/messages",
            {
                "model": "claude-x",
                "max_tokens": 20,
                "messages": [{"role": "user", "content": "frame me"}],
                "stream": True,
            },
            {"x-api-key": PLANTED, "anthropic-version": "2023-06-01"},
        ),
    ],
    ids=["openai", "anthropic"],
)
def test_streams_replay_with_exact_sse_framing(
    server: LLMServer, tmp_path: Path, path: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    with _proxy(tmp_path, "once", server) as proxy:
        status, live = _raw_post(proxy.url + path, body, headers)
    with _proxy(tmp_path, "none") as replay:
        replay_status, replayed = _raw_post(replay.url + path, body, headers)
    assert status == replay_status == 200
    assert live.count(b"\n\n") >= 3
    assert replayed == live
    (entry,) = RecordingStore(tmp_path / "rec").entries()
    doc = json.loads(entry.read_text(encoding="utf-8"))
    assert doc["response"]["events"][0]["data"].startswith("{")
    assert PLANTED not in entry.read_text(encoding="utf-8")


def test_none_mode_never_calls_upstream_and_names_the_request(
    server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = _proxy(tmp_path, "none", server)
    _point_sdks_at(proxy, monkeypatch)
    try:
        with pytest.raises(openai.BadRequestError) as exc, openai.OpenAI(max_retries=0) as oc:
            oc.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "What is the capital of Peru?"}],
            )
        with (
            pytest.raises(anthropic.BadRequestError) as aexc,
            anthropic.Anthropic(max_retries=0) as ac,
        ):
            ac.messages.create(
                model="claude-3-5-haiku-latest",
                max_tokens=5,
                messages=[{"role": "user", "content": "Name a river"}],
            )
    finally:
        proxy.stop()
    assert server.request_count == 0
    assert proxy.forwarded == 0
    message = str(exc.value)
    assert "model gpt-4o-mini" in message
    assert "'What is the capital of Peru?'" in message
    assert "tests/test_app.py::test_app" in message
    assert "pytest --llm-record=once tests/test_app.py::test_app" in message
    assert "model claude-3-5-haiku-latest" in str(aexc.value)
    assert proxy.recorder.stats.missing == 2
    assert list(proxy.misses) == ["tests/test_app.py::test_app"]


def test_key_is_forwarded_to_upstream_but_never_stored(
    server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = _proxy(tmp_path, "once", server)
    _point_sdks_at(proxy, monkeypatch)
    try:
        with openai.OpenAI(max_retries=0) as client:
            reply = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"echo my key {PLANTED} back"}],
            )
    finally:
        proxy.stop()
    assert PLANTED in (reply.choices[0].message.content or "")  # the echo server repeated it
    seen = server.last_request
    assert seen is not None
    assert seen.headers["authorization"].startswith("sha256:")  # it did reach the upstream
    (entry,) = proxy.recorder.store.entries()
    text = entry.read_text(encoding="utf-8")
    assert PLANTED not in text
    assert "[redacted:" in text
    assert "authorization" not in text.lower()
    assert proxy.recorder.stats.redactions


def test_unknown_path_explains_the_base_urls(tmp_path: Path) -> None:
    with _proxy(tmp_path, "none") as proxy:
        status, body = _raw_post(proxy.url + "/v1/chat/completions", {}, {})
    assert status == 404
    assert proxy.openai_base_url in body.decode()


def test_library_use_of_the_interceptor_and_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llmassert

    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
    store = tmp_path / "lib"
    with LLMServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        recording = llmassert.RecordingInterceptor(str(store))
        live = llmassert.model("openai:gpt-4o-mini", interceptors=[recording]).complete("Hi lib")
        proxy = llmassert.RecordingProxy(
            llmassert.RecordingStore(store), "once", upstreams={"openai": server.openai_base_url}
        )
        with proxy, openai.OpenAI(base_url=proxy.openai_base_url, max_retries=0) as client:
            via_proxy = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi proxy"}]
            )
    assert not live.replayed
    replay = llmassert.RecordingInterceptor(store, "none")
    again = llmassert.model("openai:gpt-4o-mini", interceptors=[replay]).complete("Hi lib")
    assert again.replayed
    assert again.text == live.text == "Hi lib"
    assert via_proxy.choices[0].message.content == "Hi proxy"
    assert len(list(llmassert.RecordingStore(store).entries())) == 2


def test_corrupt_recording_is_a_clear_client_error_not_a_retried_500(
    server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "corrupt me"}]}
    with _proxy(tmp_path, "once", server) as proxy:
        assert _raw_post(proxy.url + "/openai/v1/chat/completions", body, {})[0] == 200
    (entry,) = RecordingStore(tmp_path / "rec").entries()
    entry.write_text('{"llmassert_recording": 1, "request": ')
    with _proxy(tmp_path, "none") as replay:
        _point_sdks_at(replay, monkeypatch)
        with pytest.raises(openai.BadRequestError) as exc, openai.OpenAI(max_retries=2) as client:
            client.chat.completions.create(**body)
    assert f"recording {entry} is not valid JSON" in str(exc.value)
    assert "delete the file and record it again" in str(exc.value)
    (message,) = replay.misses["tests/test_app.py::test_app"]  # the plugin fails the test
    assert str(entry) in message


def test_binds_loopback_only_and_logs_no_key(
    server: LLMServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    body = {"model": "m", "messages": [{"role": "user", "content": "log nothing"}]}
    with _proxy(tmp_path, "once", server) as proxy:
        assert proxy._runner is not None
        assert [a[0] for a in proxy._runner.addresses] == ["127.0.0.1"]
        status, _ = _raw_post(
            proxy.url + "/openai/v1/chat/completions", body, {"authorization": f"Bearer {PLANTED}"}
        )
        status_a, _ = _raw_post(
            proxy.url + "/anthropic/v1/messages",
            {**body, "max_tokens": 5},
            {"x-api-key": PLANTED, "anthropic-version": "2023-06-01"},
        )
    assert status == status_a == 200
    assert server.request_count == 2
    ours = [r for r in caplog.records if r.name.startswith(("llmassert", "aiohttp"))]
    assert PLANTED not in "\n".join(f"{r.getMessage()} {r.args}" for r in ours)
    assert PLANTED not in caplog.text


def test_redirects_are_not_followed_so_the_key_goes_to_the_upstream_only(
    server: LLMServer, tmp_path: Path
) -> None:
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("location", server.openai_base_url + "/chat/completions")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    redirector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=redirector.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        upstream = f"http://127.0.0.1:{redirector.server_address[1]}/v1"
        proxy = RecordingProxy(
            Recorder(RecordingStore(tmp_path / "rec"), "once"), upstreams={"openai": upstream}
        )
        with proxy:
            status, _ = _raw_post(
                proxy.url + "/openai/v1/chat/completions",
                {"model": "m", "messages": [{"role": "user", "content": "go elsewhere"}]},
                {"authorization": f"Bearer {PLANTED}"},
            )
    finally:
        redirector.shutdown()
        redirector.server_close()
        thread.join()
    assert status == 307  # handed back to the client, not followed with the key
    assert server.request_count == 0
    assert proxy.forwarded == 1


def test_a_client_in_another_process_names_its_test_and_the_header_stays_local(
    server: LLMServer, tmp_path: Path
) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "who am I"}]}
    with _proxy(tmp_path, "once", server) as proxy:
        status, _ = _raw_post(
            proxy.url + "/openai/v1/chat/completions",
            body,
            {"x-llmassert-context": "tests/test_node.py::test_service"},
        )
    assert status == 200
    seen = server.last_request
    assert seen is not None
    assert "x-llmassert-context" not in {k.lower() for k in seen.headers}
    (entry,) = RecordingStore(tmp_path / "rec").entries()
    assert json.loads(entry.read_text())["recorded_by"] == "tests/test_node.py::test_service"


def test_own_calls_that_reach_the_proxy_are_recorded_once_in_process(
    server: LLMServer, tmp_path: Path
) -> None:
    from llmassert._models._wire import WireRequest, WireResponse
    from llmassert._recording._interceptor import RecordingInterceptor

    proxy = _proxy(tmp_path, "once", server)
    interceptor = RecordingInterceptor(proxy.recorder)
    body = {"model": "m", "messages": [{"role": "user", "content": "own call"}], "temperature": 1}
    markers: list[str] = []

    def send_through_proxy(request: WireRequest) -> WireResponse:
        # what a model does whose SDK client read OPENAI_BASE_URL while the proxy was set
        http = urllib.request.Request(
            proxy.openai_base_url + "/chat/completions",
            data=json.dumps({**request.body, "temperature": 1.0}).encode(),
            headers={"content-type": "application/json", "x-stainless-retry-count": "0"},
        )
        with urllib.request.urlopen(http, timeout=10) as response:
            markers.append(response.headers["x-llmassert-recording"])
            return WireResponse(body=json.loads(response.read()))

    request = WireRequest("openai", "openai:m", "/v1/chat/completions", body, context=proxy.context)
    try:
        first = interceptor.call(request, send_through_proxy)
        second = interceptor.call(request, send_through_proxy)
        # the same request from the application itself (not in flight in-process) is recorded
        status, _ = _raw_post(proxy.url + "/openai/v1/chat/completions", body, {})
    finally:
        proxy.stop()
    assert status == 200
    assert markers == ["in-process", "in-process"]
    assert not first.replayed
    assert not second.replayed
    assert server.request_count == 3
    assert proxy.recorder.stats.recorded == 3
    assert proxy.recorder.stats.live == 0
    names = sorted(p.name.split("-")[1] for p in RecordingStore(tmp_path / "rec").entries())
    assert names == ["0.json", "1", "2"]  # one entry per call, numbered in order
