"""Every user-facing error of the model layer: clear, actionable, the right class."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from llmassert import (
    AuthenticationError,
    ConfigError,
    ContextLengthError,
    Endpoint,
    EndpointUnreachableError,
    MissingAPIKeyError,
    Model,
    ModelNotFoundError,
    ModelSpecError,
    ModelTimeoutError,
    UsageError,
    model,
    parse_spec,
)
from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, Rule


def _endpoint(server: LLMServer, wire: str = "openai", **kw: Any) -> dict[str, Endpoint]:
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    kw.setdefault("max_retries", 0)
    return {"srv": Endpoint(name="srv", provider=wire, base_url=base, **kw)}


# ---------------------------------------------------------------- specs


def test_spec_forms() -> None:
    spec = parse_spec("openai:ft:gpt-4o-mini:acme::abc123")
    assert (spec.provider, spec.model) == ("openai", "ft:gpt-4o-mini:acme::abc123")
    assert parse_spec("anthropic:claude-3-5-haiku-latest").endpoint.wire == "anthropic"
    assert parse_spec(" demo:prompted ").spec == "demo:prompted"
    named = {"ft-support": Endpoint(name="ft-support", provider="openai", model="m1")}
    assert parse_spec("ft-support", named).model == "m1"
    assert parse_spec("ft-support:m2", named).model == "m2"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty model spec; write PROVIDER:MODEL"),
        ("openai", "names the provider 'openai' but no model; write openai:MODEL"),
        ("openai:", "names the provider 'openai' but no model"),
        ("open ai:gpt", "specs contain no spaces"),
        ("gpt-4o-mini", "not PROVIDER:MODEL and not a named endpoint"),
        (
            "opnai:gpt-4o-mini",
            "unknown provider 'opnai'.*Known providers: openai, anthropic, azure, demo",
        ),
    ],
)
def test_malformed_specs(spec: str, message: str) -> None:
    with pytest.raises(ModelSpecError, match=message) as info:
        parse_spec(spec)
    assert isinstance(info.value, ValueError)


def test_named_endpoint_without_model() -> None:
    named = {"vllm": Endpoint(name="vllm", provider="openai", base_url="http://127.0.0.1:1/v1")}
    with pytest.raises(
        ModelSpecError, match=r"set model = .* in \[tool.llmassert.endpoints.vllm\]"
    ):
        parse_spec("vllm", named)


def test_unknown_demo_model() -> None:
    with pytest.raises(ModelSpecError, match="demo endpoint serves: demo:prompted, demo:finetuned"):
        Model("demo:gpt-5")


# ---------------------------------------------------------------- pyproject endpoints


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[tool.llmassert.endpoints.openai]\nmodel = "x"', "shadows the built-in provider"),
        ('[tool.llmassert.endpoints.x]\nmodle = "m"', r"unknown key\(s\) modle"),
        (
            '[tool.llmassert.endpoints.x]\napi = "chat-completions"',
            "unknown API 'chat-completions'",
        ),
        ('[tool.llmassert.endpoints.x]\nprovider = "cohere"', "unknown provider 'cohere'"),
        ('[tool.llmassert.endpoints.x]\ntimeout = "fast"', "timeout: expected a non-negative"),
        ("[tool.llmassert.endpoints.x]\nprices = { input = 1 }", "both 'input' and 'output'"),
        ("[tool.llmassert\n", "invalid TOML"),
    ],
)
def test_bad_endpoint_tables_name_the_file_and_field(
    tmp_path: Path, table: str, message: str
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(table + "\n")
    with pytest.raises(ConfigError, match=message) as info:
        model("demo:prompted", pyproject=path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------- keys and parameters


def test_missing_key_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY is not set") as info:
        Model("openai:gpt-4o-mini").complete("hi")
    assert "--llm-model demo:prompted" in str(info.value)
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        Model("anthropic:claude-3-5-haiku-latest").complete("hi")
    named = {"ft": Endpoint(name="ft", provider="openai", api_key_env="FT_KEY", model="m")}
    monkeypatch.delenv("FT_KEY", raising=False)
    with pytest.raises(
        MissingAPIKeyError, match=r"FT_KEY \(api_key_env of \[tool.llmassert.endpoints.ft\]\)"
    ):
        Model("ft", endpoints=named).complete("hi")


def test_bad_call_arguments_are_usage_errors(llm_server: LLMServer) -> None:
    m = Model("srv:m", endpoints=_endpoint(llm_server))
    with pytest.raises(UsageError, match=r"unknown parameter\(s\) colour"):
        m.complete("hi", colour="red")
    with pytest.raises(UsageError, match="expected a string or a list of chat messages"):
        m.complete(42)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"prompt\[0\]: expected a message"):
        m.complete([{"content": "no role"}])
    with pytest.raises(UsageError, match="timeout: expected seconds > 0"):
        m.complete("hi", timeout=0)
    with pytest.raises(UsageError, match="response_format: expected 'json'"):
        m.complete("hi", response_format="yaml")
    assert llm_server.request_count == 0


# ---------------------------------------------------------------- provider errors


def test_unreachable_endpoint_shows_the_url() -> None:
    endpoints = {"x": Endpoint(name="x", provider="openai", base_url="http://127.0.0.1:9/v1")}
    with pytest.raises(EndpointUnreachableError, match=r"cannot reach the endpoint at http://127"):
        Model("x:m", endpoints=endpoints, max_retries=0).complete("hi")


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_401_names_the_key_variable(
    llm_server: LLMServer, wire: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRV_KEY", "sk-wrong-key-123456")
    llm_server.add_rule(ErrorReply(401, message="Incorrect API key provided: sk-wrong-***3456"))
    m = Model("srv:m", endpoints=_endpoint(llm_server, wire, api_key_env="SRV_KEY"))
    with pytest.raises(AuthenticationError, match="rejected the key in SRV_KEY") as info:
        m.complete("hi")
    assert info.value.status == 401
    assert "sk-wrong" not in str(info.value)
    assert "Incorrect API key provided: sk-***" in str(info.value)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_model_not_found(llm_server: LLMServer, wire: str) -> None:
    llm_server.add_rule(ErrorReply(404, message="The model `gpt-9` does not exist"))
    m = Model("srv:gpt-9", endpoints=_endpoint(llm_server, wire))
    with pytest.raises(ModelNotFoundError, match=r"model 'gpt-9' not found.*HTTP 404"):
        m.complete("hi")


@pytest.mark.parametrize(
    ("wire", "error"),
    [
        (
            "openai",
            ErrorReply(
                400,
                code="context_length_exceeded",
                message="This model's maximum context length is 8192 tokens.",
            ),
        ),
        ("anthropic", ErrorReply(400, message="prompt is too long: 250000 tokens > 200000")),
    ],
)
def test_context_length_exceeded(llm_server: LLMServer, wire: str, error: ErrorReply) -> None:
    llm_server.add_rule(error)
    with pytest.raises(ContextLengthError, match="does not fit the model's context window"):
        Model("srv:m", endpoints=_endpoint(llm_server, wire)).complete("x" * 1000)
    assert llm_server.request_count == 1


@pytest.mark.parametrize("stream", [False, True])
def test_timeout_names_the_endpoint(llm_server: LLMServer, stream: bool) -> None:
    llm_server.add_rule(Rule(Reply(text="late"), fault=Fault(hang=True)))
    m = Model("srv:m", endpoints=_endpoint(llm_server))
    with pytest.raises(ModelTimeoutError, match=r"srv:m: no answer within 0.2 s from http://"):
        m.complete("hi", timeout=0.2, stream=stream)


def test_malformed_json_body(llm_server: LLMServer) -> None:
    from llmassert import ServerError

    llm_server.add_rule(Rule(Reply(text="x"), fault=Fault(malformed_json=True)))
    with pytest.raises(ServerError, match="not valid JSON"):
        Model("srv:m", endpoints=_endpoint(llm_server)).complete("hi")


# ---------------------------------------------------------------- verbose logs


def test_verbose_log_masks_secrets(
    llm_server: LLMServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRV_KEY", "sk-live-supersecret-0001")
    llm_server.add_rule(Reply(text="pong"))
    m = Model("srv:m", endpoints=_endpoint(llm_server, api_key_env="SRV_KEY"))
    with caplog.at_level(logging.DEBUG, logger="llmassert"):
        m.complete("ping, my key is sk-live-supersecret-0001")
    text = caplog.text
    assert "llmassert -> srv:m POST" in text
    assert "llmassert <- srv:m HTTP 200" in text
    assert "pong" in text
    assert "supersecret" not in text


def test_keys_never_reach_messages_or_logs(
    llm_server: LLMServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "tok-0f9e8d7c6b5a4321"  # no well-known key shape: masked because it was read
    monkeypatch.setenv("LOCAL_LLM_CREDENTIAL", secret)
    llm_server.add_rule(ErrorReply(401, message=f"bad credential {secret}"))
    m = Model("srv:m", endpoints=_endpoint(llm_server, api_key_env="LOCAL_LLM_CREDENTIAL"))
    with (
        caplog.at_level(logging.DEBUG, logger="llmassert"),
        pytest.raises(AuthenticationError) as info,
    ):
        m.complete(f"echo {secret}")
    assert secret not in str(info.value)
    assert "bad credential ***" in str(info.value)
    assert secret not in caplog.text
    from llmassert._recording._secrets import SecretScanner

    redacted, found = SecretScanner().redact({"x": secret}, "body")
    assert secret not in json.dumps(redacted)  # recordings redact the key too
    assert found


# ---------------------------------------------------------------- Azure OpenAI


class _AzureHandler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None, str | None]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length))
        _AzureHandler.seen.append((self.path, self.headers.get("api-key"), body.get("model")))
        answer = {
            "id": "chatcmpl-az",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "from azure"},
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("x-request-id", "az-req-1")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def azure_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AzureHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_azure_deployment_and_api_version(
    azure_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-key-123")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", azure_server)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    _AzureHandler.seen.clear()
    r = Model("azure:my-gpt4o-deployment").complete("hi")
    assert r.text == "from azure"
    assert r.request_id == "az-req-1"
    assert r.cost_usd is None  # a deployment name is not a priced model name
    path, key, body_model = _AzureHandler.seen[0]
    assert path == "/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21"
    assert key == "az-key-123"
    assert body_model == "my-gpt4o-deployment"


def test_azure_needs_an_api_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("OPENAI_API_VERSION", raising=False)
    with pytest.raises(ModelSpecError, match="Azure OpenAI needs an API version"):
        Model("azure:dep").complete("hi")
