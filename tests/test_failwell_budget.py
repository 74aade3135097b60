"""Spending guards in pytest: the first refused test shows the message with advice that fits
the model, later ones one line each; all of them fail (a capped run is never green)."""

from __future__ import annotations

import pytest

from llmassert import Budget, BudgetExceededError

TEN_TESTS = """
import pytest

@pytest.mark.parametrize("i", range(10))
def test_x(llm, i):
    assert llm.complete(f"capital of France? {i}").text
"""


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def test_a_capped_run_fails_briefly_with_advice_for_demo_models(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_models = demo:prompted\nllm_record = off\n")
    pytester.makepyfile(TEN_TESTS)
    result = pytester.runpytest("-q", "-p", "no:randomly", "--llm-max-calls", "2")
    result.assert_outcomes(passed=2, failed=8)  # failed, never skipped
    out = result.stdout.str()
    assert "Traceback" not in out
    assert "raise BudgetExceededError" not in out
    lines = [line for line in result.outlines if line.strip()]
    assert len(lines) <= 3 * 8 + 6, out  # per refused test: header, one line, summary line
    refusals = [line for line in result.outlines if line.startswith("BudgetExceededError:")]
    assert len(refusals) == 8
    assert "Demo calls are offline" in refusals[0]
    assert "record once" not in out
    assert all(
        line.endswith(
            "first refused in test_a_capped_run_fails_briefly_with_advice_for_demo_models.py"
            "::test_x[demo:prompted-2]"
        )
        for line in refusals[1:]
    ), refusals


def test_the_advice_for_recordable_models_is_to_record_then_replay() -> None:
    budget = Budget(max_calls=0)
    with pytest.raises(BudgetExceededError, match=r"record once \(--llm-record once\)"):
        budget.before_call("openai:gpt-4o-mini")
    with pytest.raises(BudgetExceededError) as info:
        budget.before_call("demo:prompted", demo=True)
    assert "replay" not in str(info.value)
    assert budget.refused == 2
