"""``@llmassert.cases(...)``: a Python test per case and model, handed its case and its
already-fetched response."""

from __future__ import annotations

import pytest

import llmassert._cases._file
import llmassert._cases._prefetch
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model
import llmassert.testing  # noqa: F401
from llmassert.testing import Fault, LLMServer, Rule


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.setenv("LOCAL_KEY", "sk-local-test-key-000000")


CASES = """
prompt: "What is the capital of {{ country }}?"
models: [demo:prompted, demo:finetuned]
checks:
  - contains: "{{ capital }}"
cases:
  - id: france
    vars: {country: France, capital: Paris}
  - id: japan
    vars: {country: Japan, capital: Tokyo}
"""


def test_a_file_parametrizes_the_test_with_case_and_response(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_record = off\n")
    (pytester.path / "cases").mkdir()
    (pytester.path / "cases" / "capitals.yaml").write_text(CASES, encoding="utf-8")
    pytester.makepyfile(
        test_capitals="""
        import llmassert
        from llmassert import assert_case, assert_contains

        @llmassert.cases("cases/capitals.yaml")
        def test_capital(case, response):
            assert case.model in ("demo:prompted", "demo:finetuned")
            assert_contains(response, case.vars["capital"])
            assert_case(case, response)
            assert len(response.text) < 40, "terse"
        """
    )
    result = pytester.runpytest("-v", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "test_capitals.py::test_capital?france-demo:prompted? FAILED*",
            "test_capitals.py::test_capital?france-demo:finetuned? PASSED*",
            "test_capitals.py::test_capital?japan-demo:prompted? FAILED*",
            "test_capitals.py::test_capital?japan-demo:finetuned? PASSED*",
            "*AssertionError: terse*",
        ]
    )


def test_a_list_of_cases_and_the_case_checks_message(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_record = off\nllm_models = demo:finetuned\n")
    pytester.makepyfile(
        test_list="""
        import llmassert
        from llmassert import assert_case

        @llmassert.cases(
            [{"id": "fr", "vars": {"c": "France"}, "checks": [{"contains": "Lyon"}]}],
            prompt="What is the capital of {{ c }}?",
        )
        def test_it(case, response):
            assert_case(case, response)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *CaseFailure: case 'fr' on demo:finetuned: 1 of 1 checks failed",
            "E       prompt: 'What is the capital of France?'",
            "E       output (5 chars): 'Paris'",
            "E       - contains failed: expected the output to contain 'Lyon' (case-sensitive)",
        ]
    )


def test_bad_data_is_one_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_record = off\nllm_models = demo:finetuned\n")
    pytester.makepyfile(
        test_bad="""
        import llmassert

        @llmassert.cases([{"id": "a", "varz": {}}], prompt="hi")
        def test_it(case, response):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting test_bad.py*",
            "llmassert.cases() on test_bad.py::test_it: cases?0?.varz: unknown key 'varz' (did "
            "you mean 'vars'?)*",
        ]
    )


def test_responses_are_prefetched_concurrently(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Rule(None, fault=Fault(hold_until_in_flight=4, latency_s=0.05)))
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_record = "off"

        [tool.llmassert.endpoints.local]
        base_url = "{llm_server.openai_base_url}"
        api_key_env = "LOCAL_KEY"
        model = "local-model"
        """
    )
    pytester.makepyfile(
        test_many="""
        import llmassert

        @llmassert.cases(
            [{"id": f"c{i}", "vars": {"n": i}} for i in range(12)],
            prompt="question {{ n }}",
            models=["local"],
        )
        def test_echo(case, response):
            assert response.text == f"question {case.vars['n']}"
        """
    )
    result = pytester.runpytest("--llm-concurrency", "4")
    result.assert_outcomes(passed=12)
    assert llm_server.request_count == 12
    assert llm_server.max_in_flight == 4
    assert llm_server.errors == []
