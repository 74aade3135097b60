"""Sampling at the speed of the endpoint: concurrent samples, model.sample, verdict modes.

``@pytest.mark.llm(repeat=N, ...)`` runs its samples concurrently (threads for a sync test, tasks
on the test's loop for an async one), so 20 samples cost about one call's wall time. The verdict
mode says what decides:

* ``verdict="rate"`` (default): the observed pass rate reaches ``pass_rate``;
* ``verdict="strict"``: the exact 95% interval's lower bound reaches it - a model whose true rate
  is below ``pass_rate`` passes at most 2.5% of the time (needs enough samples: 17 for 0.8);
* ``verdict="pass^k"``: every sample passes; ``verdict="pass@k"``: at least one does.

``model.sample(prompt, n=N)`` fetches N responses concurrently and ``assert_pass_rate`` takes
them directly. Offline these run against both demo models (see pyproject.toml).
"""

import pytest

from llmassert import assert_contains, assert_pass_rate, contains

CAPITAL = "What is the capital of France?"


@pytest.mark.llm(repeat=20, pass_rate=0.8, verdict="strict")
def test_knows_the_capital(llm):
    # 20 concurrent samples; strict: the 95% exact lower bound must reach 80% (20/20 gives 83%)
    assert_contains(llm.complete(CAPITAL), "Paris")


@pytest.mark.llm(repeat=5, verdict="pass^k", early_stop=True)
def test_always_answers_json_in_json_mode(llm):
    # consistency: every sample must pass; early_stop ends the test at the first failure
    reply = llm.complete(
        "Return only JSON with a sentiment key: 'I love it.'", response_format="json"
    )
    assert reply.parsed == {"sentiment": "positive"}


def test_sampled_answers(llm):
    # ten responses to one prompt, fetched concurrently; each is its own sample for replay
    samples = llm.sample(CAPITAL, n=10)
    verdict = assert_pass_rate(samples, 0.9, check=contains("Paris"))
    assert verdict.total == 10


@pytest.mark.anyio
async def test_sampled_answers_async(llm):
    samples = await llm.asample(CAPITAL, n=5)
    assert_pass_rate(samples, verdict="pass^k", check=contains("Paris"))


@pytest.fixture
def anyio_backend():
    return "asyncio"
