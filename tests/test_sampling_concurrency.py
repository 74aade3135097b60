"""Concurrent samples of ``@pytest.mark.llm``: how many are in flight together (the test
server's max-in-flight count), for sync tests, pytest-asyncio and anyio; ``concurrency=1`` is
sequential; the endpoint's in-flight limit holds; errors and Ctrl-C leave nothing running."""

from __future__ import annotations

import pytest

# Imported once here rather than by every in-process inner run (see tests/test_marker.py).
import llmassert._models._clients  # noqa: F401
from llmassert.testing import Fault, LLMServer

_LEAN = ("-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs are not xdist workers, even when this suite runs under -n 2 (a worker's share
    of each endpoint limit is limit // workers)."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


SAMPLED = """
import asyncio
import threading
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"

@pytest.mark.llm(repeat=20, pass_rate=1.0{args})
def test_sync(llm):
    assert llm.complete("ping sync").text

@pytest.mark.llm(repeat=20, pass_rate=1.0{args})
@pytest.mark.asyncio
async def test_asyncio(llm):
    assert (await llm.acomplete("ping asyncio")).text

@pytest.mark.llm(repeat=20, pass_rate=1.0{args})
@pytest.mark.anyio
async def test_anyio(llm):
    assert (await llm.acomplete("ping anyio")).text

def test_no_sample_thread_left():
    assert [t.name for t in threading.enumerate() if t.name.startswith("llmassert-sample")] == []
"""


def _run(
    pytester: pytest.Pytester, server: LLMServer, *args: str, marker_args: str = ""
) -> dict[str, int]:
    """Run the three tests one by one; the server's max in-flight count of each."""
    pytester.makepyfile(test_sampled=SAMPLED.format(args=marker_args))
    pytester.makepyprojecttoml(
        f"""
[tool.llmassert.endpoints.local]
base_url = "{server.openai_base_url}"
model = "m"
"""
    )
    peaks = {}
    for name in ("test_sync", "test_asyncio", "test_anyio"):
        server.reset_counters()
        result = pytester.runpytest(
            f"test_sampled.py::{name}", "--llm-model=local", "--llm-record=off", *args, *_LEAN
        )
        result.assert_outcomes(passed=1)
        assert server.request_count == 20
        assert server.errors == []  # no hold_until_in_flight timed out
        peaks[name] = server.max_in_flight
    result = pytester.runpytest("test_sampled.py::test_no_sample_thread_left", *_LEAN)
    result.assert_outcomes(passed=1)
    return peaks


def test_llm_concurrency_20_puts_20_samples_in_flight(pytester: pytest.Pytester) -> None:
    # Each reply is held until 20 requests are in flight together (however long a loaded
    # machine takes to send them all); with fewer samples at once the count is never reached
    # and the hold times out (a note in server.errors, a lower peak).
    with LLMServer(fault=Fault(hold_until_in_flight=20)) as server:
        peaks = _run(pytester, server, "--llm-concurrency=20")
    assert peaks == {"test_sync": 20, "test_asyncio": 20, "test_anyio": 20}


def test_concurrency_one_is_sequential(pytester: pytest.Pytester) -> None:
    with LLMServer(fault=Fault(latency_s=0.02)) as server:
        peaks = _run(pytester, server, "--llm-concurrency=20", marker_args=", concurrency=1")
    assert peaks == {"test_sync": 1, "test_asyncio": 1, "test_anyio": 1}


def test_the_endpoint_limit_holds_by_default(pytester: pytest.Pytester) -> None:
    """No --llm-concurrency: at most 8 in flight (the endpoint default), even with a marker
    asking for 20 samples at once."""
    # the first 8 are held until all 8 are in flight; then 0.1 s each, so a ninth sent
    # past the limit would overlap them
    fault = Fault(hold_until_in_flight=8, latency_s=0.1)
    with LLMServer(fault=fault) as server:
        peaks = _run(pytester, server, marker_args=", concurrency=20")
    assert peaks == {"test_sync": 8, "test_asyncio": 8, "test_anyio": 8}


def test_a_failing_sample_error_stops_new_samples_and_awaits_running_ones(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import itertools
        import threading
        import time
        import pytest

        started = itertools.count(1)
        finished = []

        @pytest.mark.llm(repeat=50, concurrency=4)
        def test_boom():
            n = next(started)
            if n == 3:
                raise RuntimeError("endpoint exploded")
            time.sleep(0.05)
            finished.append(n)

        def test_after():
            # nothing still running, and far fewer than 50 samples started
            assert [t for t in threading.enumerate() if t.name.startswith("llmassert-sample")] == []
            assert next(started) - 1 < 20
            assert len(finished) == next(started) - 2 - 1  # every started sample but #3 ended
        """
    )
    result = pytester.runpytest("-p", "no:randomly", *_LEAN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["E*RuntimeError: endpoint exploded", "E*(raised in sample *"])


def test_under_xdist_concurrent_samples_report_per_sample_records(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llm(repeat=6, pass_rate=0.5)
        @pytest.mark.parametrize("n", [1, 2])
        def test_sampled(n, llm):
            assert llm.complete("What is the capital of France?").text
        """
    )
    pytester.makeconftest(
        """
        import json
        import os

        def pytest_runtest_logreport(report):
            if report.when != "call" or os.environ.get("PYTEST_XDIST_WORKER"):
                return  # the controller's copy of each call report
            for name, value in report.user_properties:
                if name == "llm_pass_rate":
                    with open("verdicts.jsonl", "a") as out:
                        out.write(json.dumps({"nodeid": report.nodeid, **value}) + "\\n")
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "--llm-model=demo:finetuned", *_LEAN)
    result.assert_outcomes(passed=2)
    import json

    lines = (pytester.path / "verdicts.jsonl").read_text().splitlines()
    verdicts = [json.loads(line) for line in lines]
    assert len(verdicts) == 2
    for verdict in verdicts:
        assert verdict["total"] == 6
        assert [s["index"] for s in verdict["samples"]] == [1, 2, 3, 4, 5, 6]
        for sample in verdict["samples"]:
            assert sample["outcome"] == "passed"
            assert sample["calls"] == 1
            assert sample["live"] == 1
            assert sample["replayed"] == 0
            assert sample["tokens"] > 0
            assert sample["cost_usd"] > 0
            assert sample["duration_s"] > 0
