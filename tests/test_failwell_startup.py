"""Configuration errors surface once, at start-up, as a usage error (exit 4) of a few lines:
model specs (``--llm-model``, ``llm_models``, the judge) and the endpoint tables they name."""

from __future__ import annotations

import pytest

from llmassert import ConfigError, Endpoint, Model

SIX_TESTS = """
import pytest

@pytest.mark.parametrize("i", range(6))
def test_x(llm, i):
    assert llm.complete("capital of France?").text
"""


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _lines(result: pytest.RunResult) -> list[str]:
    return [line for line in [*result.outlines, *result.errlines] if line.strip()]


def test_a_typo_in_the_model_spec_is_one_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SIX_TESTS)
    result = pytester.runpytest("--llm-model", "opnai:gpt-4o-mini")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --llm-model: unknown provider 'opnai' in model spec 'opnai:gpt-4o-mini'. "
            "Did you mean 'openai:gpt-4o-mini'?*"
        ]
    )
    assert len(_lines(result)) <= 4, _lines(result)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_bad_endpoint_table_is_one_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        llm_models = ["local"]

        [tool.llmassert.endpoints.local]
        base_url = "http://127.0.0.1:9/v1"
        model = "m"
        api = "chat-completions"
        """
    )
    pytester.makepyfile(SIX_TESTS)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: *pyproject.toml: [[]tool.llmassert.endpoints.local[]].api: unknown API*"]
    )
    assert len(_lines(result)) <= 4, _lines(result)


def test_a_bad_judge_model_is_one_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_judge_model = demo-finetuned\n")
    pytester.makepyfile("def test_judge(llm_judge):\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: llm_judge_model (ini): unknown model spec 'demo-finetuned'*"]
    )


def test_a_base_url_without_scheme_is_a_configuration_error_at_load(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        llm_models = ["local"]

        [tool.llmassert.endpoints.local]
        base_url = "localhost:8000/v1"
        model = "m"
        """
    )
    pytester.makepyfile(SIX_TESTS)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: *[[]tool.llmassert.endpoints.local[]].base_url: 'localhost:8000/v1' has no "
            "scheme; write the full URL, e.g. 'http://localhost:8000/v1'"
        ]
    )
    assert len(_lines(result)) <= 4, _lines(result)


def test_a_base_url_override_without_scheme_is_refused() -> None:
    endpoint = Endpoint(name="local", provider="openai", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="has no scheme"):
        Model("local:m", endpoints={"local": endpoint}, base_url="127.0.0.1:9/v1")


def test_an_endpoint_without_base_url_says_so(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        llm_models = ["local"]
        llm_record = "off"

        [tool.llmassert.endpoints.local]
        model = "llama3"
        """
    )
    pytester.makepyfile("def test_one(llm):\n    llm.complete('hi')\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*endpoint 'local' has no base_url, so it calls the provider's own service at "
            "https://api.openai.com/v1, which needs OPENAI_API_KEY (not set)*"
        ]
    )


def test_good_specs_and_endpoints_pass_the_start_up_check(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        llm_models = ["demo:finetuned", "local", "local:other"]
        llm_judge_model = "demo:finetuned"

        [tool.llmassert.endpoints.local]
        base_url = "http://127.0.0.1:9/v1"
        model = "m"
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_start_up_check_imports_no_sdk(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys

        def pytest_collection_finish(session):
            loaded = [m for m in ("openai", "anthropic", "httpx2", "tenacity") if m in sys.modules]
            print("LOADED", loaded)
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--co", "-q", "--llm-model", "demo:prompted")
    result.stdout.fnmatch_lines(["LOADED []"])
