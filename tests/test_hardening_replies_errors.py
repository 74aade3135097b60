"""Provider errors: one short block with the key masked (terminal and --junitxml, no SDK
frames), and deterministic 4xx answers recorded and replayed as the same exception."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Imported once here rather than by every in-process inner run (see test_recording_plugin).
import anthropic  # noqa: F401
import openai
import pytest

import llmassert._models._clients  # noqa: F401
from llmassert import (
    AuthenticationError,
    ContextLengthError,
    Endpoint,
    Model,
    ModelNotFoundError,
    ProviderError,
    RecordingInterceptor,
    RecordingMissingError,
    RecordingProxy,
)
from llmassert.testing import ErrorReply, LLMServer

PLANTED = "gwk-PLANTED-5e0c1a9b77d34f21aa"  # no well-known key shape: masked because it is known


class _Echo(BaseHTTPRequestHandler):
    """A server that rejects every key, echoing it in the message (as some gateways do)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        auth = self.headers.get("authorization") or self.headers.get("x-api-key") or ""
        key = auth.split(" ", 1)[-1]
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {key}. You can find your API key "
                    "at https://example.invalid/keys.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("x-request-id", "req-echo-1")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


AUTH_TEST = """
from llmassert import Endpoint, Model

def test_auth():
    endpoint = Endpoint(name="gw", provider="{wire}", base_url="{url}", api_key_env="GW_API_KEY")
    Model("gw:m", endpoints={{"gw": endpoint}}, max_retries=0).complete("hi"{stream})
"""


def _failure_block(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if "test_auth" in line and "___" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("---", "===")))
    return lines[start:end]


@pytest.mark.parametrize(
    ("wire", "stream"), [("openai", False), ("openai", True), ("anthropic", False)]
)
def test_a_401_echoing_the_key_is_one_short_block_without_the_key(
    pytester: pytest.Pytester,
    echo_url: str,
    monkeypatch: pytest.MonkeyPatch,
    wire: str,
    stream: bool,
) -> None:
    monkeypatch.setenv("GW_API_KEY", PLANTED)
    monkeypatch.delenv("CI", raising=False)
    url = echo_url + ("" if wire == "anthropic" else "/v1")
    pytester.makepyfile(
        test_auth=AUTH_TEST.format(wire=wire, url=url, stream=", stream=True" if stream else "")
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=out.xml")
    result.assert_outcomes(failed=1)
    out = result.stdout.str() + result.stderr.str()
    xml = (pytester.path / "out.xml").read_text()
    assert PLANTED not in out
    assert PLANTED not in xml
    assert PLANTED[4:20] not in out + xml  # not even a part of it
    verbose = pytester.runpytest("-p", "no:cacheprovider", "--llm-verbose", "-rA")
    verbose.assert_outcomes(failed=1)
    assert "llmassert <- gw:m HTTP 401" in verbose.stdout.str()  # the answer was logged...
    assert PLANTED[4:20] not in verbose.stdout.str() + verbose.stderr.str()  # ...masked
    for path in pytester.path.rglob("*"):
        if path.is_file():
            assert PLANTED not in path.read_text(errors="replace"), path
    block = _failure_block(result.stdout.lines)
    shown = "\n".join(block)
    assert "AuthenticationError: gw:m: the endpoint rejected the key in GW_API_KEY" in shown
    assert "HTTP 401" in shown
    assert "request id req-echo-1" in shown
    assert "Incorrect API key provided: ***" in shown
    # No SDK frames, no chained SDK exception, no llmassert internals: the test's own lines
    # (5 here) and the error.
    for noise in ("site-packages", "openai/_", "anthropic/_", "_base_client", "The above"):
        assert noise not in shown, shown
    assert "llmassert/_" not in shown, shown
    assert len(block) <= 15, shown


def test_the_sdk_exception_is_kept_but_not_chained(
    echo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GW_API_KEY", PLANTED)
    base = echo_url + "/v1"
    endpoint = Endpoint(name="gw", provider="openai", base_url=base, api_key_env="GW_API_KEY")
    with pytest.raises(AuthenticationError) as info:
        Model("gw:m", endpoints={"gw": endpoint}, max_retries=0).complete("hi")
    error = info.value
    assert isinstance(error.sdk_error, openai.AuthenticationError)
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert PLANTED not in str(error)
    assert error.request_id == "req-echo-1"


# ---------------------------------------------------------------- deterministic 4xx replay

ERRORS = [
    pytest.param(
        ErrorReply(400, code="context_length_exceeded", message="maximum context length is 8"),
        ContextLengthError,
        id="400-context",
    ),
    pytest.param(ErrorReply(404, message="no model `m`"), ModelNotFoundError, id="404"),
    pytest.param(ErrorReply(413, message="request entity too large"), ProviderError, id="413"),
    pytest.param(ErrorReply(422, message="unprocessable: tools[0]"), ProviderError, id="422"),
]


def _model(server: LLMServer, wire: str, store: Path, mode: str) -> Model:
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name="srv", provider=wire, base_url=base, max_retries=0)
    return Model(
        "srv:m",
        endpoints={"srv": endpoint},
        interceptors=[RecordingInterceptor(store, mode)],
        context="tests/test_x.py::test_y",
    )


def _call(m: Model, run: str, stream: bool) -> None:
    if run == "sync":
        m.complete("x" * 50, stream=stream)
    else:
        asyncio.run(m.acomplete("x" * 50, stream=stream))


@pytest.mark.parametrize(("error", "cls"), ERRORS)
@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize(("run", "stream"), [("sync", False), ("async", True)])
def test_a_deterministic_4xx_is_recorded_and_replayed_as_the_same_exception(
    llm_server: LLMServer,
    tmp_path: Path,
    error: ErrorReply,
    cls: type[ProviderError],
    wire: str,
    run: str,
    stream: bool,
) -> None:
    llm_server.add_rule(error)
    with pytest.raises(cls) as live:
        _call(_model(llm_server, wire, tmp_path, "once"), run, stream)
    assert live.value.sdk_error is not None
    [stored] = [p for p in tmp_path.rglob("*.json") if p.name[0] != "."]
    assert json.loads(stored.read_text())["response"]["status"] == error.status
    with pytest.raises(cls) as replayed:
        _call(_model(llm_server, wire, tmp_path, "none"), run, stream)
    assert llm_server.request_count == 1  # the second one was a replay
    assert type(replayed.value) is type(live.value)
    assert str(replayed.value) == str(live.value)
    assert replayed.value.status == live.value.status == error.status
    assert replayed.value.request_id == live.value.request_id is not None
    assert replayed.value.sdk_error is None


@pytest.mark.parametrize("status", [401, 403, 429])
def test_auth_and_rate_limit_errors_are_never_stored(
    llm_server: LLMServer, tmp_path: Path, status: int
) -> None:
    llm_server.add_rule(ErrorReply(status, message="no"))
    with pytest.raises(ProviderError):
        _model(llm_server, "openai", tmp_path, "once").complete("hi")
    assert [p for p in tmp_path.rglob("*.json") if p.name[0] != "."] == []
    with pytest.raises(RecordingMissingError):
        _model(llm_server, "openai", tmp_path, "none").complete("hi")


def test_a_400_stored_by_the_proxy_replays_to_llmassert_as_the_exception(
    llm_server: LLMServer, tmp_path: Path
) -> None:
    llm_server.add_rule(
        ErrorReply(400, code="context_length_exceeded", message="maximum context length is 8")
    )
    m = _model(llm_server, "openai", tmp_path, "none")
    body = dict(m._prepare("x" * 50, {})[0].body)  # exactly what llmassert itself would send
    with (
        RecordingProxy(tmp_path, "once", upstreams={"openai": llm_server.openai_base_url}) as proxy,
        openai.OpenAI(base_url=proxy.openai_base_url, api_key="k", max_retries=0) as client,
    ):
        proxy.context = "tests/test_x.py::test_y"
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(**body)
    assert llm_server.request_count == 1
    with pytest.raises(ContextLengthError, match="does not fit the model's context window"):
        m.complete("x" * 50)
    assert llm_server.request_count == 1


PYPROJECT = """
[tool.llmassert.endpoints.srv]
base_url = "{url}"
model = "m"
max_retries = 0
"""
EXPECTED_ERRORS = """
import openai, pytest
from llmassert import ContextLengthError


def test_too_long(llm_model):
    with pytest.raises(ContextLengthError) as info:
        llm_model("srv").complete("x" * 100)
    with open("seen.txt", "a") as handle:
        handle.write(f"{type(info.value).__name__}|{info.value.status}|{info.value}\\n")


@pytest.mark.llm_proxy
def test_too_long_app():
    with openai.OpenAI(max_retries=0) as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "y" * 100}]
        )
    assert info.value.status_code == 400
    assert "maximum context length" in str(info.value)
"""


def test_pytest_raises_context_length_passes_live_and_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-placeholder-0123456789")
    error = ErrorReply(400, code="context_length_exceeded", message="maximum context length is 8")
    with LLMServer() as server:
        server.add_rule(error)
        pytester.makepyprojecttoml(PYPROJECT.format(url=server.openai_base_url))
        pytester.makeini(f"[pytest]\nllm_proxy_openai_upstream = {server.openai_base_url}\n")
        pytester.makepyfile(test_errors=EXPECTED_ERRORS)
        recorded = pytester.runpytest("-p", "no:cacheprovider", "--llm-record=once")
        recorded.assert_outcomes(passed=2)
        assert server.request_count == 2
    stored = [p for p in (pytester.path / "llm_recordings").rglob("*.json") if p.name[0] != "."]
    assert len(stored) == 2
    # CI: mode none by default, the server is gone, no key.
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("OPENAI_API_KEY")
    replayed = pytester.runpytest("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(["llmassert recordings: 2 replayed, 0 recorded, 0 live*"])
    live, again = (pytester.path / "seen.txt").read_text().splitlines()
    assert live == again
    assert live.startswith("ContextLengthError|400|srv: the request does not fit")
