"""Case files fetch their requests concurrently (within the endpoint's in-flight limit), keep
the spending guards, show a failed prefetch on its item, replay without prefetching, and cancel
cleanly on -x and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import llmassert._cases._file
import llmassert._cases._prefetch
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model
import llmassert._recording._store  # noqa: F401
from llmassert.testing import ErrorReply, Fault, LLMServer, Rule


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.delenv("CI", raising=False)


def _project(pytester: pytest.Pytester, server: LLMServer, cases: int, **extra: str) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_recordings_dir = "recordings"

        [tool.llmassert.endpoints.local]
        base_url = "{server.openai_base_url}"
        api_key_env = "LOCAL_KEY"
        model = "local-model"
        max_retries = 0
        """
    )
    lines = [
        'prompt: "question {{ n }}"',
        "models: [local]",
        "checks:",
        '  - contains: "question {{ n }}"',
        "cases:",
    ]
    lines += [f"  - id: c{i:03d}\n    vars: {{n: {i}}}" for i in range(1, cases + 1)]
    for key, value in extra.items():
        lines.insert(0, f"{key}: {value}")
    (pytester.path / "llm_many.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_KEY", "sk-local-test-key-000000")


pytestmark = pytest.mark.usefixtures("_key")


def test_requests_are_fetched_concurrently_within_the_limit(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    # held until 6 are in flight at once, then 50 ms each (a seventh would overlap them)
    llm_server.add_rule(Rule(None, fault=Fault(hold_until_in_flight=6, latency_s=0.05)))
    _project(pytester, llm_server, 24)
    result = pytester.runpytest("--llm-concurrency", "6", "--llm-record", "off", "-q")
    result.assert_outcomes(passed=24)
    assert llm_server.request_count == 24
    assert llm_server.max_in_flight == 6  # the limit, reached and never passed
    assert llm_server.errors == []


def test_only_selected_items_are_fetched(pytester: pytest.Pytester, llm_server: LLMServer) -> None:
    _project(pytester, llm_server, 12)
    result = pytester.runpytest(
        "--llm-record", "off", "-k", "c001 or c002", "--deselect", "llm_many.yaml::c002[local]"
    )
    result.assert_outcomes(passed=1, deselected=11)
    assert llm_server.request_count == 1


def test_max_calls_holds_exactly(pytester: pytest.Pytester, llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(None, fault=Fault(latency_s=0.05)))
    _project(pytester, llm_server, 12)
    result = pytester.runpytest(
        "--llm-concurrency", "8", "--llm-record", "off", "--llm-max-calls", "5"
    )
    result.assert_outcomes(passed=5, failed=7)
    assert llm_server.request_count == 5
    refusals = [line for line in result.outlines if line.startswith("BudgetExceededError:")]
    assert len(refusals) == 7, result.stdout.str()


def test_a_failed_prefetch_shows_on_its_item_as_an_in_item_call(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Rule(ErrorReply(status=404, message="no such model"), prompt="question 2"))
    _project(pytester, llm_server, 3)
    result = pytester.runpytest("--llm-record", "off")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "Traceback" not in out, out
    assert "_prefetch.py" not in out, out
    result.stdout.fnmatch_lines(["*case c002 ?local?*", "ModelNotFoundError: local: *"])


def test_record_then_replay_without_prefetch(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    _project(pytester, llm_server, 6, repeat="3", pass_rate="1.0")
    pytester.runpytest("--llm-record", "once", "--llm-concurrency", "4").assert_outcomes(passed=6)
    assert llm_server.request_count == 18  # 6 cases x 3 samples, each its own recording
    assert len(_stored(pytester.path / "recordings")) == 18
    llm_server.reset_counters()
    replay = pytester.runpytest("--llm-record", "none", "-v")
    replay.assert_outcomes(passed=6)
    replay.stdout.fnmatch_lines(["*c001?local? PASSED (3/3 samples)*"])
    assert llm_server.request_count == 0


def test_a_replay_miss_fails_its_item(pytester: pytest.Pytester, llm_server: LLMServer) -> None:
    _project(pytester, llm_server, 2)
    result = pytester.runpytest("--llm-record", "none")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["RecordingMissingError: *"])
    assert llm_server.request_count == 0


def _stored(recordings: Path) -> list[Path]:
    """The recordings in the store; asserts none is half-written and no temp file is left."""
    files = [p for p in recordings.rglob("*") if p.is_file()] if recordings.exists() else []
    for path in files:
        assert not path.name.endswith(".tmp"), f"temporary file left behind: {path}"
    stored = [p for p in files if p.suffix == ".json" and not p.name.startswith(".")]
    for path in stored:
        json.loads(path.read_text(encoding="utf-8"))  # whole, never half-written
    return stored


#: The latency of the requests a stop must cancel: far longer than any stop takes, so no slot
#: frees up before it (and a run that waited for them would take at least this long).
_SLOW_S = 10.0


@pytest.mark.parametrize(
    ("stop", "extra"),
    [("-x", {}), ("--maxfail=1", {"repeat": "3"})],
    ids=["exitfirst", "maxfail-with-repeats"],
)
def test_exitfirst_cancels_outstanding_requests(
    pytester: pytest.Pytester, llm_server: LLMServer, stop: str, extra: dict[str, str]
) -> None:
    llm_server.add_rule(Rule("wrong", prompt="question 1"))  # answered at once, fails the item
    llm_server.add_rule(Rule(None, fault=Fault(latency_s=_SLOW_S)))
    _project(pytester, llm_server, 40, **extra)
    started = time.monotonic()
    result = pytester.runpytest(stop, "--llm-concurrency", "4", "--llm-record", "once")
    elapsed = time.monotonic() - started
    result.assert_outcomes(failed=1)
    # Of 40 (or 120) requests only the first 4 (the limit) were sent, plus one for each slot
    # that case c001's quick answers (1, or its 3 samples) freed: every other request takes
    # 10 s, so no slot frees up before the stop, however long a loaded machine takes to stop.
    quick = 3 if extra else 1
    assert llm_server.request_count <= 4 + quick, llm_server.request_count
    assert elapsed < _SLOW_S  # the outstanding requests were cancelled, not awaited
    assert _settled(llm_server)
    assert len(_stored(pytester.path / "recordings")) <= quick


def _settled(server: LLMServer) -> bool:
    """Whether the server sees no request in flight (within 10 s: cancelled connections close)."""
    deadline = time.monotonic() + 10
    while server.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    return server.in_flight == 0


@pytest.mark.parametrize("repeat", [None, "5"], ids=["one-sample", "repeats"])
def test_ctrl_c_cancels_outstanding_requests(
    pytester: pytest.Pytester, llm_server: LLMServer, repeat: str | None
) -> None:
    llm_server.add_rule(Rule(None, fault=Fault(latency_s=_SLOW_S)))
    _project(pytester, llm_server, 40, **({"repeat": repeat} if repeat else {}))
    env = {**os.environ, "LOCAL_KEY": "sk-local-test-key-000000"}
    env.pop("PYTEST_XDIST_WORKER_COUNT", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--llm-concurrency",
            "4",
            "--llm-record",
            "once",
        ],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert llm_server.wait_for_in_flight(4, 30), "no request got in flight"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, out  # interrupted
    assert "KeyboardInterrupt" in out
    # the 4 in flight (the limit) when Ctrl-C came, and no more: none of them had answered
    assert llm_server.request_count == 4, llm_server.request_count
    assert _settled(llm_server)
    assert len(_stored(pytester.path / "recordings")) <= llm_server.request_count


def test_xdist_workers_fetch_their_own_items(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Rule(None, fault=Fault(latency_s=0.1)))
    _project(pytester, llm_server, 24)
    result = pytester.runpytest_subprocess(
        "-n", "2", "--llm-record", "off", "--llm-concurrency", "8", "-k", "not c024"
    )
    result.assert_outcomes(passed=23)
    prompts = sorted(request.prompt for request in llm_server.requests)
    # every selected case fetched exactly once, by the worker running it: no duplicates
    assert prompts == sorted(f"question {i}" for i in range(1, 24))
    assert llm_server.max_in_flight > 2  # each worker fetched ahead of its items


def test_xdist_workers_fetch_repeated_samples_once(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    _project(pytester, llm_server, 10, repeat="3")
    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadfile", "--llm-record", "off", "--llm-concurrency", "4"
    )
    result.assert_outcomes(passed=10)
    prompts = sorted(request.prompt for request in llm_server.requests)
    assert prompts == sorted(f"question {i}" for i in range(1, 11) for _ in range(3))
