"""The ``llm_server`` fixture, in inner pytest runs."""

from __future__ import annotations

import pytest

INNER_TESTS = """
import openai
import pytest

from llmassert.testing import Fault, LLMServer, Rule

PORTS = []


def ask(server, prompt):
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": prompt}]
    )
    return completion.choices[0].message.content


def test_first(llm_server):
    PORTS.append(llm_server.port)
    llm_server.add_rule(Rule("scripted"))
    llm_server.fault = Fault(latency_s=0.001)
    llm_server.hold()
    llm_server.release()
    assert ask(llm_server, "q") == "scripted"
    assert llm_server.request_count == 1


def test_second_starts_clean(llm_server):
    PORTS.append(llm_server.port)
    assert llm_server.rules == []
    assert llm_server.fault is None
    assert llm_server.requests == []
    assert llm_server.request_count == 0
    assert ask(llm_server, "q") == "q"


def test_same_server_for_the_session(llm_server):
    assert PORTS == [llm_server.port, llm_server.port]
    assert isinstance(llm_server, LLMServer)
    assert llm_server.running


def test_a_separate_server_is_independent(llm_server):
    with LLMServer([Rule("other")]) as other:
        assert other.port != llm_server.port
        assert ask(other, "q") == "other"
        assert ask(llm_server, "q") == "q"
    assert len(llm_server.requests) == 1


def test_demo_models_use_another_server(llm_server, llm_model):
    llm_server.add_rule(Rule("scripted by the test"))
    reply = llm_model("demo:prompted").complete("What is the capital of France?")
    assert reply.text != "scripted by the test"
    assert llm_server.requests == []
    assert ask(llm_server, "q") == "scripted by the test"
"""


def test_llm_server_fixture_is_session_wide_and_reset_per_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_inner=INNER_TESTS)
    # A subprocess: an in-process run would import the HTTP stack's lazily loaded modules
    # inside the inner session, and pytester's sys.modules restore would then leave this
    # process with two copies of them (breaking the SDKs' exception mapping in later tests).
    result = pytester.runpytest_subprocess("-v")
    result.stdout.fnmatch_lines(
        [
            "*test_first PASSED*",
            "*test_second_starts_clean PASSED*",
            "*test_same_server_for_the_session PASSED*",
            "*test_a_separate_server_is_independent PASSED*",
            "*test_demo_models_use_another_server PASSED*",
            "*5 passed*",
        ]
    )
    assert result.ret == pytest.ExitCode.OK


def test_llm_server_fixture_is_listed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(["llm_server*", "*local OpenAI/Anthropic-compatible test server*"])


def test_plugin_does_not_start_a_server_unless_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_no_server_library():
            assert "llmassert.testing._server" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
