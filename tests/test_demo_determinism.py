"""``demo:`` answers depend on the prompt, the seed and the call's place within its own test
(and sample), never on which tests ran before it: a test's verdict is the same alone, after
other tests asking the same prompts, and under ``pytest -n 2``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from llmassert import Model
from llmassert._models import _demo

#: The README's own example, verbatim.
README_TESTS = """
from llmassert import assert_contains, assert_matches_schema, assert_not_refusal

SENTIMENT = {
    "type": "object",
    "properties": {"sentiment": {"enum": ["positive", "negative", "neutral"]}},
    "required": ["sentiment"],
}


def test_capital(llm):  # runs once per configured model
    reply = llm.complete("What is the capital of France? Answer in one word.")
    assert_contains(reply, "Paris")


def test_sentiment_is_strict_json(llm):
    reply = llm.complete('Classify the sentiment of "I love it" as JSON {"sentiment": ...}.')
    assert_not_refusal(reply)
    assert_matches_schema(reply, SENTIMENT)  # the whole output must be JSON matching the schema
"""

#: Tests that ask the README's prompts first (through the fixture, a model the test builds
#: itself, and several times in one test).
BEFORE_TESTS = """
import llmassert

PROMPT = 'Classify the sentiment of "I love it" as JSON {"sentiment": ...}.'


def test_asks_it_once(llm):
    llm.complete(PROMPT)


def test_asks_it_twice(llm):  # 4 asks before the README's: not a multiple of 5 variants
    for _ in range(2):
        llm.complete(PROMPT)


def test_builds_its_own_model():
    model = llmassert.model("demo:prompted")
    model.complete(PROMPT)
    model.complete("What is the capital of France? Answer in one word.")


def test_unrelated():
    assert True
"""

#: A sampled test: the samples walk through the variants, 3 of 5 strict JSON.
SAMPLED_TESTS = """
import pytest

from llmassert import assert_json


@pytest.mark.llm(repeat=5, pass_rate=1.0)
def test_strict_json_samples(llm):
    assert_json(llm.complete("Return only JSON with a sentiment key: 'I love it.'"))
"""


def _write_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_aaa_before=BEFORE_TESTS, test_readme=README_TESTS, test_sampled=SAMPLED_TESTS
    )


def _verdicts(pytester: pytest.Pytester, name: str) -> dict[str, str]:
    """``{test id: passed | failed}`` from the run's JUnit XML, for the README and sampled
    tests."""
    root = ET.parse(pytester.path / name).getroot()
    verdicts = {}
    for case in root.iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        failed = case.find("failure") is not None or case.find("error") is not None
        if "readme" in test or "sampled" in test:
            verdicts[test] = "failed" if failed else "passed"
    return verdicts


def _sample_line(output: str) -> str:
    return next(line.strip() for line in output.splitlines() if "samples passed" in line)


def test_readme_verdicts_are_the_same_alone_after_other_tests_and_under_xdist(
    pytester: pytest.Pytester,
) -> None:
    _write_suite(pytester)
    model = "--llm-model=demo:prompted"
    alone = pytester.runpytest(model, "test_readme.py", "test_sampled.py", "--junitxml=alone.xml")
    after = pytester.runpytest(model, "--junitxml=after.xml")  # test_aaa_before.py runs first
    xdist = pytester.runpytest_subprocess(model, "-n", "2", "-p", "xdist", "--junitxml=xdist.xml")
    again = pytester.runpytest(model, "--junitxml=again.xml")  # same process, same node ids

    expected = {
        "test_readme::test_capital[demo:prompted]": "passed",
        "test_readme::test_sentiment_is_strict_json[demo:prompted]": "passed",
        "test_sampled::test_strict_json_samples[demo:prompted]": "failed",
    }
    for name in ("alone.xml", "after.xml", "xdist.xml", "again.xml"):
        assert _verdicts(pytester, name) == expected, name
    lines = {_sample_line(r.stdout.str()) for r in (alone, after, xdist, again)}
    assert len(lines) == 1, lines
    assert lines.pop().startswith("llm(repeat=5, pass_rate=1): 3/5 samples passed")
    after.assert_outcomes(passed=6, failed=1)


PROMPT = "Classify the sentiment as JSON: 'the product is terrible and arrived broken'"
STRICT = '{"sentiment": "negative"}'


def _answers(context: str, calls: int = 5, **params: object) -> list[str]:
    model = Model("demo:prompted", context=context)
    return [model.complete(PROMPT, **params).text for _ in range(calls)]


def test_answers_are_numbered_within_their_test_not_across_the_process() -> None:
    first = _answers("test_a.py::test_one")
    assert sum(text == STRICT for text in first) == 3  # the variants walk: 3 of 5 strict
    assert _answers("test_b.py::test_two") == first  # another test starts from its own 0
    _demo.forget_test("test_a.py::test_one")  # as when the test ends: a new run starts at 0
    head = _answers("test_a.py::test_one", calls=2)
    assert _answers("test_c.py::test_between", calls=3) == first[:3]
    tail = _answers("test_a.py::test_one", calls=3)  # goes on where it was, whatever ran
    assert head + tail == first


def test_samples_number_their_own_calls_in_any_order() -> None:
    test = "test_c.py::test_sampled"

    def sample(n: int) -> list[str]:
        return _answers(f"{test}#sample={n}", calls=2)

    in_order = [sample(n) for n in range(4)]
    _demo.forget_test(test)
    reversed_order = [sample(n) for n in reversed(range(4))][::-1]
    assert reversed_order == in_order  # arrival order across samples does not matter
    assert in_order[1][0] == in_order[0][1]  # sample n's k-th call is variant n + k
    assert len({answers[0] for answers in in_order}) > 1  # samples see different variants


def test_the_seed_picks_the_variants() -> None:
    by_seed = {seed: _answers(f"test_d.py::test_seed_{seed}", seed=seed) for seed in range(5)}
    assert len({tuple(answers) for answers in by_seed.values()}) > 1
    assert _answers("test_d.py::test_seed_again", seed=3) == by_seed[3]
    for answers in by_seed.values():  # whatever the seed, 3 in 5 consecutive calls are strict
        assert sum(text == STRICT for text in answers) == 3


def test_the_context_travels_percent_encoded() -> None:
    context = "tests/test_ü.py::test_x[a b/c]#sample=2"
    headers = _demo.context_headers(context)
    assert headers[_demo.CONTEXT_HEADER].isascii()
    assert unquote(headers[_demo.CONTEXT_HEADER]) == context
