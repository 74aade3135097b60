"""Case files: how close a case-file run comes to the floor of a bare asyncio loop, and how
flat its per-case overhead stays.

Every figure is a ratio between measurements taken in this same run (no remembered baselines):

1. 200 cases against the local test server at 200 ms latency with ``--llm-concurrency 32``:
   the wall time of the whole pytest process vs a bare ``asyncio`` + ``AsyncOpenAI`` loop doing
   the same 200 requests with a semaphore of 32 (target <= 1.3x), and vs sequential pytest (200
   Python tests calling ``llm.complete`` one after the other).
2. 0 ms latency: the mean time per case of cases 181-200 vs cases 21-40 of one run (target
   <= 1.2x: flat, not growing with suite size).
3. 10,000 replayed cases (``--llm-record none``): time per case vs a trivial pytest test
   (target <= 2x), and the pytest process's peak RSS (target <= 250 MB).

    .venv/bin/python benchmarks/case_files.py [--cases 200] [--replay-cases 10000]
        [--rounds 3] [--no-sequential] [--all-plugins]

The floor is measured both ways: as a whole Python process (interpreter start-up and the SDK's
import included: the fair comparison with a whole pytest process) and in-process (the loop
alone). The 200-case comparison runs ``--rounds`` rounds, each timing the bare process and
pytest back to back, and prints the best of each and the median of the per-round ratios (a
shared machine's load changes from second to second).

The timed pytest processes load only the llmassert plugin (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``)
unless ``--all-plugins``: other installed plugins' start-up is not the case files' cost.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

from llmassert.testing import Fault, LLMServer, Rule

CONFTEST = """
import itertools
import json
import resource
import time

_STAMPS = []


def pytest_runtest_logfinish(nodeid, location):
    _STAMPS.append(time.perf_counter())


def pytest_unconfigure(config):
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open("bench.json", "w") as f:
        json.dump({"stamps": _STAMPS, "rss_mb": rss_kb / 1024}, f)
"""


def _project(root: Path, base_url: str, cases: int) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'asyncio_default_fixture_loop_scope = "function"\n'
        'llm_recordings_dir = "recordings"\n\n'
        "[tool.llmassert.endpoints.local]\n"
        f'base_url = "{base_url}"\n'
        'api_key_env = "BENCH_KEY"\n'
        'model = "bench-model"\n'
        "max_concurrency = 64\n"
    )
    (root / "conftest.py").write_text(CONFTEST)
    with (root / "rows.jsonl").open("w") as f:
        for i in range(1, cases + 1):
            f.write(json.dumps({"id": f"c{i:05d}", "n": i}) + "\n")
    (root / "llm_bench.yaml").write_text(
        'prompt: "question {{ n }}"\n'
        "models: [local]\n"
        "checks:\n"
        '  - contains: "question {{ n }}"\n'
        "cases: rows.jsonl\n"
    )
    return root


def _sequential(root: Path, base_url: str, cases: int) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'asyncio_default_fixture_loop_scope = "function"\n'
        'llm_models = ["local"]\n\n'
        "[tool.llmassert.endpoints.local]\n"
        f'base_url = "{base_url}"\n'
        'api_key_env = "BENCH_KEY"\n'
        'model = "bench-model"\n'
    )
    (root / "conftest.py").write_text(CONFTEST)
    (root / "test_seq.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.parametrize('n', range(1, {cases + 1}))\n"
        "def test_case(llm, n):\n"
        "    assert f'question {n}' in llm.complete(f'question {n}').text\n"
    )
    return root


def _trivial(root: Path, count: int) -> Path:
    root.mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (root / "conftest.py").write_text(CONFTEST)
    (root / "test_trivial.py").write_text(
        f"import pytest\n\n@pytest.mark.parametrize('n', range({count}))\n"
        "def test_trivial(n):\n    assert n >= 0\n"
    )
    return root


#: Load only llmassert in the timed pytest processes (unless --all-plugins): other installed
#: plugins (hypothesis, langsmith, ...) cost seconds at start-up that no case file causes.
ALL_PLUGINS = False


def _pytest(cwd: Path, *args: str, expect: int) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "BENCH_KEY": "sk-bench-000000000000"}
    env.pop("CI", None)
    if not ALL_PLUGINS:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        args = ("-p", "llmassert.plugin", *args)
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-p",
            "no:xdist",
            *args,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or f"{expect} passed" not in proc.stdout:
        raise SystemExit(f"pytest in {cwd} did not pass {expect} tests:\n{proc.stdout[-3000:]}")
    return elapsed, json.loads((cwd / "bench.json").read_text())


async def _bare_loop(base_url: str, cases: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with openai.AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0) as client:

        async def one(i: int) -> None:
            async with gate:
                reply = await client.chat.completions.create(
                    model="bench-model", messages=[{"role": "user", "content": f"question {i}"}]
                )
                assert reply.choices[0].message.content == f"question {i}"

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(1, cases + 1)))
        return time.perf_counter() - started


BARE_SCRIPT = """
import asyncio, sys, time
import openai

async def main(base_url, cases, concurrency):
    gate = asyncio.Semaphore(concurrency)
    async with openai.AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0) as client:
        async def one(i):
            async with gate:
                reply = await client.chat.completions.create(
                    model="bench-model", messages=[{"role": "user", "content": f"question {i}"}]
                )
                assert reply.choices[0].message.content == f"question {i}"
        await asyncio.gather(*(one(i) for i in range(1, cases + 1)))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


def _bare_process(base_url: str, cases: int, concurrency: int) -> float:
    """The same loop as a whole Python process (interpreter and SDK start-up included)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", BARE_SCRIPT, base_url, str(cases), str(concurrency)], check=True
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--replay-cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-sequential", action="store_true")
    parser.add_argument(
        "--all-plugins", action="store_true", help="time pytest with every installed plugin"
    )
    args = parser.parse_args()
    global ALL_PLUGINS
    ALL_PLUGINS = args.all_plugins
    which = "every installed plugin" if ALL_PLUGINS else "only the llmassert plugin"
    print(f"pytest processes run with {which}")
    n = args.cases
    with tempfile.TemporaryDirectory() as tmp, LLMServer() as slow, LLMServer() as fast:
        slow.add_rule(Rule(None, fault=Fault(latency_s=0.2)))
        base = Path(tmp)

        # 1. 200 cases at 200 ms: case file vs bare asyncio loop (vs sequential pytest)
        bare = asyncio.run(_bare_loop(slow.openai_base_url, n, args.concurrency))
        project = _project(base / "slow", slow.openai_base_url, n)
        walls, bares, ratios = [], [], []
        for _ in range(args.rounds):
            bare_process = _bare_process(slow.openai_base_url, n, args.concurrency)
            wall, _ = _pytest(
                project, "--llm-record", "off", "--llm-concurrency", str(args.concurrency), expect=n
            )
            walls.append(wall)
            bares.append(bare_process)
            ratios.append(wall / bare_process)
        wall, bare_process = min(walls), min(bares)
        median = sorted(ratios)[len(ratios) // 2]
        print(f"{n} cases at 200 ms, concurrency {args.concurrency} ({args.rounds} rounds):")
        print(f"  bare asyncio + AsyncOpenAI loop, in-process: {bare:6.2f} s")
        print(
            f"  the same loop as a whole Python process:     {bare_process:6.2f} s (best; "
            f"rounds: {', '.join(f'{b:.2f}' for b in bares)})"
        )
        print(
            f"  pytest on a case file (whole process):       {wall:6.2f} s (best; rounds: "
            f"{', '.join(f'{w:.2f}' for w in walls)})"
        )
        print(
            f"  ratio to the loop's process: best {wall / bare_process:.2f}x, median of rounds "
            f"{median:.2f}x (target <= 1.3x); to the in-process loop {wall / bare:.2f}x"
        )
        if not args.no_sequential:
            seq, _ = _pytest(
                _sequential(base / "seq", slow.openai_base_url, n), "--llm-record", "off", expect=n
            )
            print(
                f"  sequential pytest:               {seq:6.2f} s  case file is "
                f"{seq / wall:.1f}x faster ({seq / bare:.1f}x the floor)"
            )

        # 2. 0 ms latency: per-case overhead flat
        project = _project(base / "fast", fast.openai_base_url, n)
        _, data = _pytest(
            project, "--llm-record", "off", "--llm-concurrency", str(args.concurrency), expect=n
        )
        stamps = data["stamps"]
        assert isinstance(stamps, list)
        gaps = [b - a for a, b in itertools.pairwise(stamps)]  # gaps[i]: case i+2

        def mean(first: int, last: int) -> float:  # cases first..last (1-based)
            chosen = gaps[first - 2 : last - 1]
            return sum(chosen) / len(chosen)

        early, late = mean(21, 40), mean(n - 19, n)
        print(
            f"0 ms latency, {n} cases: mean per case 21-40 {early * 1e3:.2f} ms, "
            f"{n - 19}-{n} {late * 1e3:.2f} ms  ratio {late / early:.2f}x (target <= 1.2x)"
        )

        # 3. 10,000 replayed cases vs trivial tests
        m = args.replay_cases
        project = _project(base / "replay", fast.openai_base_url, m)
        _pytest(project, "--llm-record", "once", "--llm-concurrency", "32", expect=m)
        fast.stop()  # a replay never reaches the server
        replay, data = _pytest(project, "--llm-record", "none", expect=m)
        trivial, _ = _pytest(_trivial(base / "trivial", m), expect=m)
        print(
            f"{m} replayed cases: {replay:.2f} s ({replay / m * 1e3:.3f} ms per case), "
            f"{m} trivial tests: {trivial:.2f} s ({trivial / m * 1e3:.3f} ms per test)  "
            f"ratio {replay / trivial:.2f}x (target <= 2x); peak RSS {data['rss_mb']:.0f} MB "
            "(target <= 250 MB)"
        )


if __name__ == "__main__":
    main()
