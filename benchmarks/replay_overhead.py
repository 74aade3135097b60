"""Replay overhead: 1000 tests that each replay a recorded model call vs 1000 trivial tests.

Both suites run as whole pytest processes in this same benchmark run (the baseline is measured
here, not remembered); the figure is the ratio of their wall times. Target: <= 1.5x.

    .venv/bin/python benchmarks/replay_overhead.py [--tests 1000] [--repeat 3]

Steps: record the suite once against the local test server (not timed), stop the server, then
alternately time ``pytest --llm-record=none`` on the replay suite and plain ``pytest`` on the
trivial suite (best of ``--repeat``), with the same plugins loaded.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _bench import run_pytest

from llmassert.testing import LLMServer

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
#: Every suite reports which provider SDKs its process imported (the same conftest everywhere).
CONFTEST = """import sys


def pytest_terminal_summary(terminalreporter):
    sdks = [name for name in ("openai", "anthropic") if name in sys.modules]
    terminalreporter.write_line("SDKS_IMPORTED=" + (",".join(sdks) or "none"))
"""


def _write_suites(root: Path, count: int) -> tuple[Path, Path, Path]:
    replay, trivial, sdk = root / "replay", root / "trivial", root / "trivial_sdk"
    for directory in (replay, trivial, sdk):
        directory.mkdir()
        (directory / "pytest.ini").write_text(INI)
        (directory / "conftest.py").write_text(CONFTEST)
    lines = ["import pytest", ""]
    for i in range(count):
        lines += [
            f"def test_replayed_{i}(llm):",
            f'    assert llm.complete("Question number {i}: what is {i} + 1?").text',
            "",
        ]
    (replay / "test_replayed.py").write_text("\n".join(lines))
    lines = ["import pytest", ""]
    for i in range(count):
        lines += [f"def test_trivial_{i}():", f'    assert "{i}"', ""]
    (trivial / "test_trivial.py").write_text("\n".join(lines))
    (sdk / "test_trivial.py").write_text("import openai  # noqa: F401\n" + "\n".join(lines))
    return replay, trivial, sdk


def _pytest(cwd: Path, *args: str, env: dict[str, str], tests: int) -> tuple[float, str]:
    """Wall time of one whole pytest process, and the SDKs it imported."""
    run = run_pytest(cwd, *args, env=env, tests=tests)
    sdks = next(x for x in run.stdout.splitlines() if x.startswith("SDKS_IMPORTED="))
    return run.wall_s, sdks.split("=", 1)[1]


class _kept:
    """LLMASSERT_BENCH_KEEP=DIR keeps the suites (for profiling)."""

    def __init__(self, path: str) -> None:
        self.path = path
        Path(path).mkdir(parents=True, exist_ok=False)

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, *exc: object) -> None:
        pass


def _store_replay_us(root: Path, calls: int = 2000) -> float:
    """Microseconds per in-process replay through the recording interceptor alone."""
    from llmassert._models._wire import WireRequest, WireResponse
    from llmassert._recording._interceptor import RecordingInterceptor

    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is 2 + 2?"}]}
    request = WireRequest("openai", "openai:gpt-4o-mini", "/v1/chat/completions", body, context="t")
    answer = WireResponse(body={"choices": [{"message": {"content": "4"}}]}, latency_s=0.3)
    RecordingInterceptor(root, "once").call(request, lambda r: answer)
    replay = RecordingInterceptor(root, "none")
    started = time.perf_counter()
    for _ in range(calls):
        replay.call(request, lambda r: answer)
        replay.recorder.forget_context("t")
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # Bytecode caches on, as on a developer machine or a CI runner with a warm venv (the first,
    # untimed recording run writes them); without them every import is compiled on each run.
    dropped = ("CI", "PYTEST_ADDOPTS", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    model = "--llm-model=openai:gpt-4o-mini"
    keep = os.environ.get("LLMASSERT_BENCH_KEEP")
    with tempfile.TemporaryDirectory() if not keep else _kept(keep) as tmp:
        replay, trivial, sdk = _write_suites(Path(tmp), args.tests)
        micro = _store_replay_us(Path(tmp) / "micro")
        with LLMServer() as server:
            record_env = {**env, "OPENAI_BASE_URL": server.openai_base_url}
            record_env["OPENAI_API_KEY"] = "sk-benchmark-placeholder"
            recording, _ = _pytest(
                replay, model, "--llm-record=once", env=record_env, tests=args.tests
            )
        entries = len(list((replay / "llm_recordings").rglob("*-0.json")))
        print(f"recorded {entries} calls in {recording:.2f}s (live, not part of the ratio)")
        replay_env = {**env, "CI": "true"}
        replay_env.pop("OPENAI_API_KEY", None)
        replay_times, trivial_times, sdk_times = [], [], []
        replay_sdks = ""
        for _ in range(args.repeat):
            trivial_times.append(_pytest(trivial, env=env, tests=args.tests)[0])
            elapsed, replay_sdks = _pytest(replay, model, env=replay_env, tests=args.tests)
            replay_times.append(elapsed)
            sdk_times.append(_pytest(sdk, env=env, tests=args.tests)[0])
    best_replay, best_trivial, best_sdk = min(replay_times), min(trivial_times), min(sdk_times)
    ratio = best_replay / best_trivial
    print(f"{args.tests} trivial tests:  {best_trivial:.2f}s (best of {args.repeat})")
    print(f"{args.tests} replayed tests: {best_replay:.2f}s (best of {args.repeat})")
    print(
        f"ratio replayed/trivial: {ratio:.2f}x (target <= 1.5x) {'OK' if ratio <= 1.5 else 'OVER'}"
    )
    print(f"per replayed test: {(best_replay - best_trivial) / args.tests * 1000:.2f} ms extra")
    print(f"recording interceptor alone: {micro:.0f} us per replayed call")
    print(
        f"provider SDKs the replay run imported: {replay_sdks} (for scale: importing the "
        f"openai SDK costs {best_sdk - best_trivial:.2f}s per process)"
    )


if __name__ == "__main__":
    main()
