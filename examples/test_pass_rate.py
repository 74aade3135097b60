"""Pass rates: one passing run says little about a nondeterministic model.

``@pytest.mark.llm(repeat=N, pass_rate=P)`` runs the test body N times (fixtures are set up
once) and passes when at least a fraction P of the samples pass. The verdict comes with a 95%
confidence interval: ``-v`` shows ``PASSED (3/5 samples)``, a failure shows

    llm(repeat=5, pass_rate=0.8): 3/5 samples passed (60%, 95% CI 23%-88%), required >= 80%

followed by the failing samples' messages.

Offline these run against both demo models (see pyproject.toml): ``demo:finetuned`` always
answers strict JSON, ``demo:prompted`` wraps it in a fence or prose in 2 answers out of 5 -
so "at least half of the answers are strict JSON" holds for both.
"""

import pytest

from llmassert import assert_json, assert_pass_rate, json

REVIEW = "Return only JSON with a sentiment key for this review: 'Great value, I love it.'"


@pytest.mark.llm(repeat=5, pass_rate=0.5)
def test_mostly_strict_json(llm):
    # Each sample asks once; an assertion failure counts as one failed sample.
    reply = llm.complete(REVIEW)
    assert_json(reply)


@pytest.mark.llm(repeat=3, pass_rate=1.0)
def test_json_mode_is_always_strict(llm):
    # With JSON mode both models comply every time: require all samples to pass.
    reply = llm.complete(REVIEW, response_format="json")
    assert reply.parsed == {"sentiment": "positive"}


def test_the_verdict_as_a_value(llm):
    # Inside one test, assert_pass_rate gives the same verdict as a value you can inspect.
    replies = [llm.complete(REVIEW) for _ in range(10)]
    verdict = assert_pass_rate(replies, 0.5, check=json())
    assert verdict.total == 10
    assert 0.5 <= verdict.rate <= 1.0
    assert verdict.low <= verdict.rate <= verdict.high  # the 95% Wilson interval
    print(verdict)  # e.g. "6/10 passed (60%, 95% CI 31%-83%), required >= 50%"
