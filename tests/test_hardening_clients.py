"""Applications built on LangChain and LiteLLM are recorded by ``llm_proxy`` without code changes:
the proxy sets every base-URL variable those libraries read (``OPENAI_API_BASE`` first for
LangChain, ``ANTHROPIC_API_BASE`` first for LiteLLM, ...), and replays them in mode ``none`` with
the upstream gone. Needs the optional ``clients`` extra (``pip install -e '.[clients]'``)."""

from __future__ import annotations

import importlib.util
import os

import pytest

import llmassert._models._clients  # noqa: F401  (keep the client cache across inner runs)
from llmassert._plugins.recording import PROXY_BASE_URL_ENV
from llmassert.testing import LLMServer

_LEAN = ("-p", "no:cacheprovider")
#: The apps run in their own processes: pytester's in-process runs restore ``sys.modules``
#: afterwards, which LiteLLM's lazy imports (pydantic models built on first use) do not survive.
_SUBPROCESS = (*_LEAN, "-p", "no:hypothesispytest", "-p", "no:anyio")
_WHY = "not installed: pip install -e '.[clients]' (scripts/run-tests installs it)"

#: Every variable that may point a client library somewhere else than the proxy.
_ALL_URL_ENV = ("OPENAI_BASE_URL", "OPENAI_API_BASE", *PROXY_BASE_URL_ENV["anthropic"])


def _require(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{package} {_WHY}")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CI", *_ALL_URL_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-clients-test-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-clients-test-0123456789abcdef")
    # LiteLLM fetches its model price map from the internet unless told otherwise.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("LITELLM_OFFLINE_MODE", "true")
    # LangChain's tracing must stay off whatever the developer's environment says.
    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")
    return monkeypatch


def _record_then_replay(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, app: str, calls: int
) -> None:
    """Record ``app`` through the proxy with the client library's own base-URL variable pointing
    at the server (as a user of that library sets it), then replay it in CI with the server
    gone, the keys unset and the variable still pointing at the dead server."""
    pytester.makepyfile(test_app=app)
    with LLMServer() as server:
        clean_env.setenv("OPENAI_API_BASE", server.openai_base_url)
        clean_env.setenv("ANTHROPIC_API_BASE", server.anthropic_base_url)
        recorded = pytester.runpytest_subprocess("--llm-record=once", *_SUBPROCESS)
        recorded.assert_outcomes(passed=1)
        recorded.stdout.fnmatch_lines([f"llmassert recordings: 0 replayed, {calls} recorded*"])
        assert server.request_count == calls
        dead_openai, dead_anthropic = server.openai_base_url, server.anthropic_base_url
    clean_env.setenv("CI", "true")
    clean_env.delenv("OPENAI_API_KEY")
    clean_env.delenv("ANTHROPIC_API_KEY")
    clean_env.setenv("OPENAI_API_BASE", dead_openai)
    clean_env.setenv("ANTHROPIC_API_BASE", dead_anthropic)
    replayed = pytester.runpytest_subprocess(*_SUBPROCESS)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(
        [f"llmassert recordings: {calls} replayed, 0 recorded, 0 live, 0 missing*"]
    )


LANGCHAIN_APP = """
import pytest
from langchain_openai import ChatOpenAI


@pytest.mark.llm_proxy
def test_langchain_app():
    chat = ChatOpenAI(model="gpt-4o-mini", max_retries=0)
    assert chat.invoke("hello langchain").content == "hello langchain"
    chunks = [c.content for c in chat.stream("stream langchain")]
    assert "".join(chunks) == "stream langchain"
"""


def test_a_langchain_app_is_recorded_and_replayed_through_llm_proxy(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    _require("langchain_openai", "langchain-openai")
    _record_then_replay(pytester, clean_env, LANGCHAIN_APP, calls=2)


LITELLM_APP = """
import litellm
import pytest


@pytest.mark.llm_proxy
def test_litellm_app():
    messages = [{"role": "user", "content": "hello litellm"}]
    reply = litellm.completion(model="openai/gpt-4o-mini", messages=messages, num_retries=0)
    assert reply.choices[0].message.content == "hello litellm"
    reply = litellm.completion(
        model="anthropic/claude-3-5-haiku-latest", messages=messages, max_tokens=20,
        num_retries=0,
    )
    assert reply.choices[0].message.content == "hello litellm"
"""


def test_a_litellm_app_is_recorded_and_replayed_through_llm_proxy(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    _require("litellm", "litellm")
    _record_then_replay(pytester, clean_env, LITELLM_APP, calls=2)


def test_the_proxy_sets_every_base_url_variable_and_restores_them(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    pytester.makepyfile(
        f"""
        import os

        def test_env(llm_proxy):
            for name in {PROXY_BASE_URL_ENV["openai"]!r}:
                assert os.environ[name] == llm_proxy.openai_base_url, name
            for name in {PROXY_BASE_URL_ENV["anthropic"]!r}:
                assert os.environ[name] == llm_proxy.anthropic_base_url, name

        def test_after():
            assert os.environ["OPENAI_API_BASE"] == "http://127.0.0.1:9/v1"
            assert "ANTHROPIC_API_URL" not in os.environ
        """
    )
    pytester.runpytest("-p", "no:randomly", *_LEAN).assert_outcomes(passed=2)
    assert os.environ["OPENAI_API_BASE"] == "http://127.0.0.1:9/v1"
