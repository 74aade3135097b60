"""Ctrl-C and ``-x`` during concurrent samples: the run stops, samples not started never start,
running ones are awaited (threads) or cancelled and awaited (tasks): nothing is left running."""

from __future__ import annotations

import pytest

_LEAN = ("-p", "no:cacheprovider", "-p", "no:randomly")

CONFTEST = """
import threading

def pytest_unconfigure(config):
    alive = [t.name for t in threading.enumerate() if t.name.startswith("llmassert-sample")]
    print(f"SAMPLE THREADS LEFT: {alive}")
"""

INTERRUPTED = """
import asyncio
import itertools
import os
import signal
import time
import pytest

started = itertools.count(1)

@pytest.mark.llm(repeat=40, concurrency=4)
def test_sync():
    n = next(started)
    if n == 2:
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while samples run
    time.sleep(0.3)
    with open("finished.txt", "a") as out:
        out.write(f"{n}\\n")

@pytest.mark.llm(repeat=40, concurrency=4)
@pytest.mark.asyncio
async def test_async():
    n = next(started)
    if n == 2:
        await asyncio.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)
    try:
        await asyncio.sleep(0.3)
    except asyncio.CancelledError:
        with open("cancelled.txt", "a") as out:
            out.write(f"{n}\\n")
        raise
"""


@pytest.mark.parametrize("name", ["test_sync", "test_async"])
def test_ctrl_c_stops_samples_cleanly(pytester: pytest.Pytester, name: str) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_interrupted=INTERRUPTED)
    result = pytester.runpytest_subprocess("-s", f"test_interrupted.py::{name}", *_LEAN)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*", "SAMPLE THREADS LEFT: []"])
    if name == "test_sync":
        # the 4 samples running at Ctrl-C finished; no other sample started
        finished = (pytester.path / "finished.txt").read_text().split()
        assert sorted(map(int, finished)) == [1, 2, 3, 4]
    else:
        # the running tasks were cancelled (and awaited: each saw its CancelledError)
        cancelled = (pytester.path / "cancelled.txt").read_text().split()
        assert sorted(map(int, cancelled)) == [1, 2, 3, 4]


def test_exitfirst_stops_after_a_failing_repeated_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        """
        import time
        import pytest

        @pytest.mark.llm(repeat=12, concurrency=4)
        def test_fails():
            time.sleep(0.05)
            assert False, "never"

        def test_not_run():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-s", "-x", *_LEAN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stopping after 1 failures*", "SAMPLE THREADS LEFT: []"])


def test_anyio_trio_backend_runs_samples_concurrently(pytester: pytest.Pytester) -> None:
    pytest.importorskip("trio", reason="trio is not installed")
    pytester.makepyfile(
        """
        import anyio
        import pytest

        state = {"now": 0, "peak": 0}

        @pytest.fixture
        def anyio_backend():
            return "trio"

        @pytest.mark.llm(repeat=6, concurrency=3)
        @pytest.mark.anyio
        async def test_trio():
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            await anyio.sleep(0.05)
            state["now"] -= 1

        def test_peak():
            assert state["peak"] == 3
        """
    )
    result = pytester.runpytest_subprocess("-v", *_LEAN)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*::test_trio PASSED (6/6 samples)*"])
