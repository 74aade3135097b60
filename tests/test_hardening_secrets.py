"""Endpoint headers are secrets: read from the environment (``{ env = "NAME" }``), masked in
messages and logs, redacted from recordings; one shared secret registry below both layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmassert._models._clients  # noqa: F401  (keep the client cache across inner runs)
from _layers import imports_of_layers
from llmassert import Model
from llmassert._errors import ConfigError, MissingAPIKeyError, ProviderError
from llmassert._models._endpoints import Endpoint, HeaderFromEnv, load_endpoints
from llmassert._secret_registry import mask_secrets
from llmassert.testing import ErrorReply, LLMServer, Reply, Rule, ServerRequest

GATEWAY = "gw-PLANTED-7f3a9c21d4e8b605"
TEAM = "team-literal-5b1e0c9a77"
#: Keys only an application's own client sends (through the proxy): registered nowhere else.
APP_GATEWAY = "app-gw-PLANTED-4c2e9a71b3d8"
APP_TEAM = "app-team-PLANTED-77e1c0d5"


def _echo_headers(request: ServerRequest) -> Reply:
    return Reply(
        text=f"gateway {request.headers.get('x-gateway-key')} "
        f"team {request.headers.get('x-team-token')}"
    )


def _pyproject(server: LLMServer) -> str:
    return f"""
        [tool.llmassert.endpoints.gw]
        base_url = "{server.openai_base_url}"
        model = "m"
        headers = {{ "x-gateway-key" = {{ env = "GATEWAY_KEY" }}, "x-team-token" = "{TEAM}" }}
        """


def test_header_values_from_the_environment_are_sent_and_never_stored_or_shown(
    pytester: pytest.Pytester, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("GATEWAY_KEY", GATEWAY)
    llm_server.add_rule(Rule(_echo_headers))
    pytester.makepyprojecttoml(_pyproject(llm_server))
    pytester.makepyfile(
        """
        def test_gateway(llm_model):
            reply = llm_model("gw").complete("hello gateway")
            assert reply.text.startswith("gateway ")
            assert False, "show the captured log"
        """
    )
    result = pytester.runpytest("--llm-verbose", "--llm-record=once", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    seen = llm_server.last_request
    assert seen is not None
    assert seen.headers["x-gateway-key"] == GATEWAY  # sent as configured
    output = result.stdout.str() + result.stderr.str()
    assert "llmassert <- gw HTTP 200" in output  # the verbose log was shown ...
    assert GATEWAY not in output  # ... with both header values masked
    assert TEAM not in output
    (recording,) = (pytester.path / "llm_recordings").rglob("*.json")
    stored = recording.read_text()
    assert GATEWAY not in stored
    assert TEAM not in stored
    assert (
        "[redacted:$GATEWAY_KEY]"
        in json.loads(stored)["response"]["body"]["choices"][0]["message"]["content"]
    )
    # CI replays without the gateway key: no client is built, so the variable is not needed.
    monkeypatch.delenv("GATEWAY_KEY")
    pytester.makepyfile(
        """
        def test_gateway(llm_model):
            assert llm_model("gw").complete("hello gateway").text.startswith("gateway ")
        """
    )
    replay = pytester.runpytest("--llm-record=none", "-p", "no:cacheprovider")
    replay.assert_outcomes(passed=1)


def test_a_header_value_echoed_in_a_provider_error_is_masked(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_KEY", GATEWAY)
    llm_server.add_rule(
        Rule(
            lambda r: ErrorReply(
                status=400, message=f"gateway rejected key {r.headers.get('x-gateway-key')}"
            )
        )
    )
    endpoint = Endpoint(
        name="gw",
        provider="openai",
        base_url=llm_server.openai_base_url,
        headers={"x-gateway-key": HeaderFromEnv(env="GATEWAY_KEY")},
    )
    with pytest.raises(ProviderError, match="gateway rejected key") as info:
        Model("gw:m", endpoints={"gw": endpoint}).complete("hi")
    assert GATEWAY not in str(info.value)
    assert GATEWAY not in repr(endpoint)


def test_a_prefixed_header_from_the_environment(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELICONE_TEST_KEY", "hk-0123456789abcdef")
    llm_server.add_rule(Reply(text="ok"))
    endpoint = Endpoint(
        name="gw",
        provider="openai",
        base_url=llm_server.openai_base_url,
        headers={"helicone-auth": HeaderFromEnv(env="HELICONE_TEST_KEY", prefix="Bearer ")},
    )
    assert Model("gw:m", endpoints={"gw": endpoint}).complete("hi").text == "ok"
    assert llm_server.last_request is not None
    assert llm_server.last_request.headers["helicone-auth"] == "Bearer hk-0123456789abcdef"
    assert mask_secrets("key hk-0123456789abcdef") == "key ***"


def test_a_missing_header_variable_is_one_clear_error_naming_endpoint_header_and_variable(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATEWAY_KEY", raising=False)
    endpoint = Endpoint(
        name="gw",
        provider="openai",
        base_url=llm_server.openai_base_url,
        headers={"x-gateway-key": HeaderFromEnv(env="GATEWAY_KEY")},
    )
    with pytest.raises(MissingAPIKeyError) as info:
        Model("gw:m", endpoints={"gw": endpoint}).complete("hi")
    message = str(info.value)
    assert "'x-gateway-key'" in message
    assert "'gw'" in message
    assert "GATEWAY_KEY" in message
    assert "[tool.llmassert.endpoints.gw] headers" in message
    assert len(message.splitlines()) == 1
    assert llm_server.request_count == 0


def test_headers_from_pyproject(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        "[tool.llmassert.endpoints.gw]\n"
        'base_url = "http://127.0.0.1:9/v1"\n'
        'headers = { "X-Team" = "support", "X-Key" = { env = "GW_KEY" },'
        ' "Auth" = { env = "GW_TOKEN", prefix = "Bearer " } }\n'
    )
    headers = load_endpoints(path)["gw"].headers
    assert headers == {
        "X-Team": "support",
        "X-Key": HeaderFromEnv(env="GW_KEY"),
        "Auth": HeaderFromEnv(env="GW_TOKEN", prefix="Bearer "),
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{ "X-Key" = 5 }', r"headers\.X-Key: expected a table of header values"),
        ('{ "X-Key" = { name = "K" } }', r"headers\.X-Key: expected a table of header values"),
        ('{ "X-Key" = { env = "" } }', r"headers\.X-Key\.env: expected the name"),
        ('{ "X-Key" = { env = "K", fallback = "x" } }', r"unknown key\(s\) fallback"),
        ('{ "X-Key" = { env = "K", prefix = 1 } }', r"X-Key\.prefix: expected a string"),
        ('"X-Key: value"', r"headers: expected a table of header values"),
    ],
)
def test_bad_headers_name_the_field(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.llmassert.endpoints.gw]\nheaders = {value}\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_endpoints(path)
    assert str(path) in str(info.value)


def test_the_model_layer_never_imports_the_recording_or_plugin_layers() -> None:
    layers = ("llmassert._recording", "llmassert._plugins")
    assert imports_of_layers("_models", layers) == []


def test_a_credential_header_an_application_sends_through_the_proxy_is_redacted(
    pytester: pytest.Pytester, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CI", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proxy-header-test-0123456789")
    llm_server.add_rule(Rule(_echo_headers))
    pytester.makeini(f"[pytest]\nllm_proxy_openai_upstream = {llm_server.openai_base_url}\n")
    pytester.makepyfile(
        f"""
        import openai
        import pytest

        @pytest.mark.llm_proxy
        def test_app():
            # the application's own gateway key: in its code, in no secret-named variable
            headers = {{"x-gateway-key": "{APP_GATEWAY}", "x-team-token": "{APP_TEAM}"}}
            with openai.OpenAI(max_retries=0, default_headers=headers) as client:
                reply = client.chat.completions.create(
                    model="m", messages=[{{"role": "user", "content": "hi"}}]
                )
            assert reply.choices[0].message.content.startswith("gateway ")
        """
    )
    result = pytester.runpytest("--llm-record=once", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    (recording,) = list((pytester.path / "llm_recordings").rglob("*-0.json"))
    stored = recording.read_text()
    assert APP_GATEWAY not in stored
    assert APP_TEAM not in stored
    assert "[redacted:the x-gateway-key header sent to the proxy]" in stored
    assert "[redacted:the x-team-token header sent to the proxy]" in stored
