"""``early_stop=True``: no more samples once the verdict cannot change; the verdict counts the
samples in sample order up to the one that settled it and says why it stopped; fewer calls reach
the server (its own request count)."""

from __future__ import annotations

import pytest

# Imported once here rather than by every in-process inner run (see tests/test_marker.py).
import llmassert._models._clients  # noqa: F401
from llmassert.testing import Fault, LLMServer

_LEAN = ("-p", "no:cacheprovider")

EARLY = """
import pytest
from llmassert._models._sampling import current_sample

@pytest.mark.llm(repeat=20, pass_rate=0.9, early_stop=True, concurrency={concurrency})
def test_fails_early(llm):
    assert llm.complete("ping").text
    assert current_sample() not in ("3", "7", "12"), "a scripted failure"

@pytest.mark.llm(repeat=20, verdict="pass@k", early_stop=True, concurrency={concurrency})
def test_passes_early(llm):
    assert llm.complete("pong").text
"""


def _run(
    pytester: pytest.Pytester, concurrency: int
) -> tuple[dict[str, pytest.RunResult], dict[str, int]]:
    pytester.makepyfile(test_early=EARLY.format(concurrency=concurrency))
    counts, results = {}, {}
    with LLMServer(fault=Fault(latency_s=0.05)) as server:
        pytester.makepyprojecttoml(
            f"""
[tool.llmassert.endpoints.local]
base_url = "{server.openai_base_url}"
model = "m"
"""
        )
        for name in ("test_fails_early", "test_passes_early"):
            server.reset_counters()
            results[name] = pytester.runpytest(
                "-v", f"test_early.py::{name}", "--llm-model=local", "--llm-record=off", *_LEAN
            )
            counts[name] = server.request_count
    return results, counts


def test_early_stop_sequential_draws_only_what_settles_the_verdict(
    pytester: pytest.Pytester,
) -> None:
    results, counts = _run(pytester, concurrency=1)
    assert counts == {"test_fails_early": 12, "test_passes_early": 1}
    results["test_passes_early"].stdout.fnmatch_lines(
        ["*::test_passes_early[[]local[]] PASSED (1/1 samples, stopped early)*"]
    )
    failing = results["test_fails_early"]
    failing.assert_outcomes(failed=1)
    failing.stdout.fnmatch_lines(
        [
            "llm(repeat=20, pass_rate=0.9, early_stop=True): 9/12 samples passed (75%, 95% CI "
            "47%-91%), required >= 90%",
            "stopped early after 12 of 20 samples: 3 failed, so at most 17 of 20 can pass "
            "(18 needed)",
            "failed samples (3):",
        ]
    )


def test_early_stop_with_concurrent_samples_gives_the_same_verdict(
    pytester: pytest.Pytester,
) -> None:
    results, counts = _run(pytester, concurrency=4)
    failing = results["test_fails_early"]
    # samples after the settling one may have started (the verdict waits for the samples
    # before it), but never all 20
    assert 12 <= counts["test_fails_early"] < 20
    assert 1 <= counts["test_passes_early"] < 20
    failing.assert_outcomes(failed=1)
    results["test_passes_early"].assert_outcomes(passed=1)
    failing.stdout.fnmatch_lines(
        [
            "llm(repeat=20, pass_rate=0.9, early_stop=True): 9/12 samples passed (75%*",
            "stopped early after 12 of 20 samples: 3 failed*",
        ]
    )
