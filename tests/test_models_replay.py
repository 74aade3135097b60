"""Replays parse the stored JSON without the SDKs: the same Response fields as the live call,
and no ``openai`` / ``anthropic`` import in a process that only replays."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from llmassert import Endpoint, Model, RecordingInterceptor, Response
from llmassert.testing import LLMServer, Reply, ReplyToolCall

# (wire, api, id): every API a model can speak.
APIS = [
    ("openai", "chat", "chat"),
    ("openai", "responses", "responses"),
    ("openai", "completions", "completions"),
    ("anthropic", "chat", "messages"),
]
REPLIES = {
    "text": Reply(text="Paris is the capital.", input_tokens=11, output_tokens=5),
    "length": Reply(text="Paris is", finish_reason="length", input_tokens=11, output_tokens=2),
    "tools": Reply(tool_calls=(ReplyToolCall("get_weather", {"city": "Paris"}, id="call_7"),)),
    "refusal": Reply(refusal="I can't help with that."),
    "json": Reply(json={"sentiment": "positive"}),
}
# Legacy Completions has no tools, refusals or JSON modes.
KINDS_OF = {"completions": ("text", "length")}
CASES = [
    pytest.param(wire, api, kind, stream, id=f"{name}-{kind}-{'stream' if stream else 'plain'}")
    for wire, api, name in APIS
    for kind in KINDS_OF.get(name, tuple(REPLIES))
    for stream in (False, True)
]
TOOLS = [{"name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
SCHEMA = {"type": "object", "properties": {"sentiment": {"type": "string"}}}
# What replay may change: provenance, and the SDK object (live) vs the stored JSON (replay).
NOT_COMPARED = {"raw", "replayed", "retries"}


def _model(server: LLMServer, wire: str, api: str, store: Path, mode: str) -> Model:
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name="srv", provider=wire, base_url=base, api=api)
    return Model(
        "srv:gpt-4o-mini",
        endpoints={"srv": endpoint},
        interceptors=[RecordingInterceptor(store, mode)],
        context="tests/test_x.py::test_y",
    )


def _fields(response: Response) -> dict[str, Any]:
    return {
        f.name: getattr(response, f.name)
        for f in dataclasses.fields(response)
        if f.name not in NOT_COMPARED
    }


def _params(kind: str, stream: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"stream": stream}
    if kind == "tools":
        params["tools"] = TOOLS
    if kind == "json":
        params["json_schema"] = SCHEMA
    return params


@pytest.mark.parametrize(("wire", "api", "kind", "stream"), CASES)
def test_replay_gives_the_live_fields(
    llm_server: LLMServer, tmp_path: Path, wire: str, api: str, kind: str, stream: bool
) -> None:
    llm_server.add_rule(REPLIES[kind])
    params = _params(kind, stream)
    live = _model(llm_server, wire, api, tmp_path, "once").complete("Capital of France?", **params)
    replayed = _model(llm_server, wire, api, tmp_path, "none").complete(
        "Capital of France?", **params
    )
    assert llm_server.request_count == 1  # the second call was a replay
    assert not live.replayed
    assert replayed.replayed
    assert _fields(replayed) == _fields(live)
    # The fields the test is about really were populated (equal Nones would prove nothing).
    assert live.usage.output_tokens is not None
    assert live.finish_reason is not None
    if kind == "tools":
        assert [c.arguments for c in live.tool_calls] == [{"city": "Paris"}]
    if kind == "refusal":
        assert live.refusal
    if kind == "json":
        assert live.parsed == {"sentiment": "positive"}
    if stream:
        assert isinstance(replayed.raw, list)
        assert live.ttft_s is not None
    else:
        # Live: the SDK's typed object; replay: the stored JSON dict.
        sdk = "anthropic" if wire == "anthropic" else "openai"
        assert type(live.raw).__module__.split(".")[0] == sdk
        assert isinstance(replayed.raw, dict)
        assert json.dumps(replayed.raw)


CONFTEST = """
import json, sys
def pytest_sessionfinish(session):
    loaded = sorted(m for m in ("openai", "anthropic", "httpx2", "httpcore2") if m in sys.modules)
    with open("loaded.json", "w") as handle:
        json.dump(loaded, handle)
"""
SUITE = """
import pytest

@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("spec", ["chat", "responses", "completions", "msgs"])
def test_call(llm_model, spec, stream):
    assert llm_model(spec).complete("Capital of France?", stream=stream).text == "Paris"

@pytest.mark.asyncio
async def test_async_call(llm_model):
    assert (await llm_model("chat").acomplete("Capital of France?")).text == "Paris"
"""


def test_a_replay_only_run_imports_no_sdk(
    pytester: pytest.Pytester, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm_server.add_rule(Reply(text="Paris"))
    openai_url, anthropic_url = llm_server.openai_base_url, llm_server.anthropic_base_url
    pytester.makepyprojecttoml(
        f"""
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.llmassert.endpoints.chat]
base_url = "{openai_url}"
model = "m"

[tool.llmassert.endpoints.responses]
base_url = "{openai_url}"
model = "m"
api = "responses"

[tool.llmassert.endpoints.completions]
base_url = "{openai_url}"
model = "m"
api = "completions"

[tool.llmassert.endpoints.msgs]
provider = "anthropic"
base_url = "{anthropic_url}"
api_key_env = "H8_ANTHROPIC_KEY"
model = "m"
"""
    )
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_replays=SUITE)
    monkeypatch.setenv("H8_ANTHROPIC_KEY", "sk-ant-placeholder-key")
    recorded = pytester.runpytest_subprocess("--llm-record=once")
    recorded.assert_outcomes(passed=9)
    live_calls = llm_server.request_count
    assert live_calls == 8  # the async chat call asks what the sync one asked: a replay
    assert json.loads((pytester.path / "loaded.json").read_text()) != []  # live: SDKs loaded
    # A fresh process that only replays: no key needed, no call made, no SDK imported.
    monkeypatch.delenv("H8_ANTHROPIC_KEY")
    replayed = pytester.runpytest_subprocess("--llm-record=none")
    replayed.assert_outcomes(passed=9)
    assert llm_server.request_count == live_calls
    assert json.loads((pytester.path / "loaded.json").read_text()) == []
