"""Record & replay of concurrent samples: each sample numbers its own calls, so a sample that
makes several calls replays its own answers, whatever order samples ran in; ``model.sample``
responses are samples too."""

from __future__ import annotations

import itertools
import re

import pytest

# Imported once here rather than by every in-process inner run (see tests/test_marker.py).
import llmassert._models._clients  # noqa: F401
from llmassert.testing import Fault, LLMServer

_LEAN = ("-p", "no:cacheprovider")

TWO_CALLS = """
import pytest
from llmassert._models._sampling import current_sample

@pytest.mark.llm(repeat=4, pass_rate=0.5, concurrency=4)
def test_two_calls(llm):
    first = llm.complete("Which answer is this?").text
    second = llm.complete("Which answer is this?").text
    other = llm.complete("And this one?").text
    print(f"SAMPLE {current_sample()}: {first} | {second} | {other}")
    assert first != second

def test_sampled_responses(llm):
    texts = [r.text for r in llm.sample("Pick one", n=3)]
    print(f"SAMPLED: {texts}")
"""


def _answers(output: str) -> dict[str, str]:
    return dict(re.findall(r"SAMPLE (\d+): (.*)", output)) | dict(
        re.findall(r"(SAMPLED): (.*)", output)
    )


def test_each_sample_replays_its_own_answers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    counter = itertools.count()
    pytester.makepyfile(test_rec=TWO_CALLS)
    with LLMServer(
        fault=Fault(latency_s=0.05, latency_jitter_s=0.1, seed=1, hold_until_in_flight=2)
    ) as server:
        server.add_rule(lambda request: f"answer {next(counter)}")
        pytester.makepyprojecttoml(
            f"""
[tool.llmassert.endpoints.local]
base_url = "{server.openai_base_url}"
model = "m"
"""
        )
        recorded = pytester.runpytest("-s", "--llm-model=local", "--llm-record=once", *_LEAN)
        assert server.request_count == 4 * 3 + 3
        assert server.max_in_flight > 1  # the samples did run concurrently
        assert server.errors == []
    recorded.assert_outcomes(passed=2)
    live = _answers(recorded.stdout.str())
    assert sorted(live) == ["1", "2", "3", "4", "SAMPLED"]
    # every answer is a distinct one from the server
    every = [a for line in live.values() for a in re.findall(r"answer \d+", line)]
    assert len(set(every)) == len(every) == 15
    store = pytester.path / "llm_recordings"
    numbers = sorted(int(p.stem.split("-")[1]) for p in store.rglob("*.json") if p.name[0] != ".")
    # first calls of samples 1-4 are 0-3 (as one-call samples always were), the second
    # identical call of each sample is 1_000_000 + k - 1; "And this one?" is 0-3 again;
    # model.sample's three responses are 0-2 of their own request
    firsts, seconds = [0, 1, 2, 3], [1_000_000, 1_000_001, 1_000_002, 1_000_003]
    assert numbers == sorted([*firsts, *seconds, *firsts, 0, 1, 2])
    # the server is gone: each sample gets back exactly its own answers, run concurrently again
    replayed = pytester.runpytest("-s", "--llm-model=local", "--llm-record=none", *_LEAN)
    replayed.assert_outcomes(passed=2)
    assert _answers(replayed.stdout.str()) == live
    replayed.stdout.fnmatch_lines(
        ["llmassert recordings: 15 replayed, 0 recorded, 0 live, 0 missing*"]
    )


def test_sample_numbers_never_meet() -> None:
    from llmassert._models._sampling import occurrence_of, split_context

    assert split_context("t.py::t[x]#sample=3.2") == ("t.py::t[x]", (3, 2))
    assert split_context("t.py::t[x]") == ("t.py::t[x]", ())
    assert occurrence_of((), 4) == 4
    assert occurrence_of((3,), 0) == 2  # sample 3's first call: as one-call samples always were
    assert occurrence_of((3,), 1) == 1_000_002
    paths = [(k,) for k in range(1, 6)] + [(k, j) for k in range(1, 6) for j in range(1, 6)]
    numbers = [occurrence_of(path, own) for path in paths for own in range(4)]
    assert len(set(numbers)) == len(numbers)
