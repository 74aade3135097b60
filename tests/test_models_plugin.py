"""The model fixtures through inner pytest runs (pytester), against the demo endpoint and the
local test server."""

from __future__ import annotations

import pytest

# Inner runs are in-process, and pytester removes the modules they import when they end: import
# the model layer here so its process-wide state (cached SDK clients with open keep-alive
# connections, the demo server) outlives each inner run instead of being garbage-collected.
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model  # noqa: F401
from llmassert.testing import LLMServer, Reply


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inner runs are in-process: the outer xdist worker count would divide their limits.
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


CAPITAL_TEST = """
def test_capital(llm):
    reply = llm.complete("What is the capital of France?")
    assert "Paris" in reply.text
"""


def test_llm_is_parametrized_per_model_with_readable_ids(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_models = demo:prompted demo:finetuned\n")
    pytester.makepyfile(CAPITAL_TEST)
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(
        [
            "*test_capital[[]demo:prompted[]] PASSED*",
            "*test_capital[[]demo:finetuned[]] PASSED*",
        ]
    )
    result.assert_outcomes(passed=2)


def test_cli_models_win_over_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\nllm_models = ["demo:prompted", "demo:finetuned"]\n'
    )
    pytester.makepyfile(CAPITAL_TEST)
    result = pytester.runpytest("-v", "--llm-model", "demo:finetuned")
    result.stdout.fnmatch_lines(["*test_capital[[]demo:finetuned[]] PASSED*"])
    result.assert_outcomes(passed=1)


def test_a_test_may_pick_its_own_models(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_models = demo:prompted demo:finetuned\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("llm", ["demo:finetuned"], indirect=True)
        def test_only_finetuned(llm):
            assert llm.complete("capital of France?").text == "Paris"
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(["*test_only_finetuned[[]demo:finetuned[]] PASSED*"])
    result.assert_outcomes(passed=1)
    # ... also when no model is configured for the run.
    pytester.makeini("[pytest]\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_no_model_configured_fails_with_how_to(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CAPITAL_TEST)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*no model under test is configured for the `llm` fixture*--llm-model SPEC*",
            '*llm_models = [[]"demo:prompted"[]]*',
        ]
    )


def test_fixture_using_an_unconfigured_llm_gets_the_how_to(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def answer(llm):
            return llm.complete("hi")

        def test_x(answer):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ConfigError: no model under test is configured*"])


def test_bad_spec_is_an_error_naming_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CAPITAL_TEST)
    result = pytester.runpytest("--llm-model", "opnai:gpt-4o-mini")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # once, at start-up
    result.stderr.fnmatch_lines(["ERROR: --llm-model: unknown provider 'opnai'*Known providers*"])


def test_two_async_tests_in_a_row_share_no_loop_bound_state(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_models = demo:finetuned\nasyncio_mode = auto\n")
    pytester.makepyfile(
        """
        import asyncio

        async def test_first(llm):
            r = await llm.acomplete("What is the capital of Japan?")
            assert r.text == "Tokyo"

        async def test_second(llm):
            r = await llm.acomplete("What is the capital of Japan?", stream=True)
            assert r.text == "Tokyo"

        async def test_third_batch(llm):
            rs = await llm.abatch(["capital of Italy?", "capital of Spain?"])
            assert [r.text for r in rs] == ["Rome", "Madrid"]

        def test_sync_after_async(llm):
            assert llm.complete("capital of Kenya?").text == "Nairobi"
        """
    )
    result = pytester.runpytest("-W", "error")
    result.assert_outcomes(passed=4)
    assert "Event loop is closed" not in result.stdout.str()


def test_llm_judge_and_llm_model(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_judge_model = demo:finetuned\n")
    pytester.makepyfile(
        """
        def test_judge(llm_judge):
            assert llm_judge.spec == "demo:finetuned"
            assert llm_judge.complete("capital of Egypt?").text == "Cairo"

        def test_factory(llm_model):
            m = llm_model("demo:prompted", timeout=5)
            assert m.endpoint.timeout_s == 5
            assert "Canberra" in m.complete("capital of Australia?").text
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_llm_judge_unset_fails_with_how_to(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_judge(llm_judge):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no judge model is configured*--llm-judge-model SPEC*"])


def test_interceptors_and_test_context(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        from llmassert._plugins.state import get_session

        SEEN = []

        class Spy:
            def call(self, request, send):
                SEEN.append(request)
                return send(request)

            async def acall(self, request, send):
                SEEN.append(request)
                return await send(request)

        def pytest_configure(config):
            get_session(config).interceptors.append(Spy())
        """
    )
    pytester.makepyfile(
        """
        from conftest import SEEN

        def test_context(llm, request):
            llm.complete("capital of France?")
            assert SEEN[-1].context == request.node.nodeid
            assert SEEN[-1].spec == "demo:prompted"
            assert SEEN[-1].body["messages"][-1]["content"] == "capital of France?"
        """
    )
    pytester.runpytest("--llm-model", "demo:prompted").assert_outcomes(passed=1)


def test_max_calls_guard_fails_the_remaining_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("i", range(3))
        def test_call(llm, i):
            llm.complete(f"question {i}")
        """
    )
    result = pytester.runpytest("--llm-model", "demo:finetuned", "--llm-max-calls", "2")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*BudgetExceededError*--llm-max-calls 2 reached*"])


def test_max_cost_guard(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_one(llm):
            assert llm.complete("capital of France?").cost_usd > 0

        def test_two(llm):
            llm.complete("capital of Italy?")
        """
    )
    result = pytester.runpytest("--llm-model", "demo:prompted", "--llm-max-cost", "0.0000001")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*--llm-max-cost 1e-07 USD reached*"])


def test_concurrency_option_limits_in_flight(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    from llmassert.testing import Fault, Rule

    llm_server.add_rule(Rule(Reply(text="ok"), fault=Fault(hold_until_in_flight=2, latency_s=0.02)))
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_models = ["local"]

        [tool.llmassert.endpoints.local]
        base_url = "{llm_server.openai_base_url}"
        model = "local-model"
        max_concurrency = 16
        """
    )
    pytester.makepyfile(
        """
        def test_batch(llm):
            assert [r.text for r in llm.batch([str(i) for i in range(10)])] == ["ok"] * 10
        """
    )
    # Live calls on purpose (CI=true would default the record mode to none).
    result = pytester.runpytest("--llm-concurrency", "2", "--llm-record", "off")
    result.assert_outcomes(passed=1)
    assert llm_server.max_in_flight == 2
    assert llm_server.errors == []


def test_raw_sdk_clients(pytester: pytest.Pytester, llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="raw"))
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_models = ["local", "claude-local"]

        [tool.llmassert.endpoints.local]
        base_url = "{llm_server.openai_base_url}"
        model = "m"

        [tool.llmassert.endpoints.claude-local]
        provider = "anthropic"
        base_url = "{llm_server.anthropic_base_url}"
        model = "claude"
        """
    )
    pytester.makepyfile(
        """
        def test_openai(openai_client):
            r = openai_client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
            assert r.choices[0].message.content == "raw"
            assert openai_client.max_retries == 2  # the SDK's own default

        def test_anthropic(anthropic_client):
            r = anthropic_client.messages.create(
                model="claude", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
            assert r.content[0].text == "raw"
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_bad_timeout_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--llm-timeout", "0")
    result.stderr.fnmatch_lines(["*--llm-timeout: expected seconds > 0*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_raw_clients_follow_the_endpoint_azure_and_headers(
    pytester: pytest.Pytester, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm_server.add_rule(Reply(text="raw"))
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-key-raw")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    pytester.makepyprojecttoml(
        f"""
        [tool.llmassert.endpoints.claude-local]
        provider = "anthropic"
        base_url = "{llm_server.anthropic_base_url}"
        model = "claude"
        headers = {{ "X-Team" = "support" }}
        """
    )
    pytester.makepyfile(
        """
        def test_azure(openai_client):
            assert type(openai_client).__name__ == "AzureOpenAI"  # Azure routing, not OpenAI's
            assert openai_client.max_retries == 2

        def test_headers(anthropic_client):
            anthropic_client.messages.create(
                model="claude", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
        """
    )
    result = pytester.runpytest("--llm-model=azure:my-deployment", "--llm-model=claude-local")
    result.assert_outcomes(passed=2)
    assert llm_server.last_request is not None
    assert llm_server.last_request.headers["x-team"] == "support"
