"""Wall time of a repeated test: 10 samples at 300 ms latency, concurrent vs one after another.

Run from the project root: ``.venv/bin/python benchmarks/sampling_concurrency.py``. A local test
server answers every call after 300 ms; an inner pytest run (``--llm-concurrency 10``) times the
call phase of a ``@pytest.mark.llm(repeat=10)`` test (after a warm-up test), and of the same
test with ``concurrency=1``. Prints each wall time, its ratio to one call's latency (target:
concurrent <= 1.5x) and the ratio of sequential to concurrent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmassert import Endpoint, Model
from llmassert.testing import Fault, LLMServer

LATENCY_S = 0.3
REPEAT = 10

TESTS = f"""
import pytest

def test_warm_up(llm):
    llm.complete("warm up")  # imports and connections: not part of what is measured

@pytest.mark.llm(repeat={REPEAT}, pass_rate=1.0)
def test_concurrent(llm):
    assert llm.complete("ping").text

@pytest.mark.llm(repeat={REPEAT}, pass_rate=1.0, concurrency=1)
def test_sequential(llm):
    assert llm.complete("ping").text
"""
CONFTEST = """
import json

def pytest_runtest_logreport(report):
    if report.when == "call":
        with open("durations.jsonl", "a") as out:
            out.write(json.dumps([report.nodeid.split("::")[1], report.duration]) + "\\n")
"""


def one_call(server: LLMServer) -> float:
    endpoint = Endpoint(name="srv", provider="openai", base_url=server.openai_base_url)
    model = Model("srv:m", endpoints={"srv": endpoint}, interceptors=[])
    model.complete("warm up")
    start = time.perf_counter()
    model.complete("ping")
    return time.perf_counter() - start


def main() -> None:
    with (
        LLMServer(fault=Fault(latency_s=LATENCY_S)) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        root = Path(tmp)
        (root / "test_bench.py").write_text(TESTS)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pyproject.toml").write_text(
            f'[tool.llmassert.endpoints.local]\nbase_url = "{server.openai_base_url}"\n'
            'model = "m"\n'
        )
        single = one_call(server)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ]
        command += ["--llm-model=local", "--llm-record=off", "--llm-concurrency=10"]
        subprocess.run(command, cwd=root, check=True, capture_output=True)
        durations = {}
        for line in (root / "durations.jsonl").read_text().splitlines():
            name, seconds = json.loads(line)
            durations[name.split("[")[0]] = seconds
    concurrent = durations["test_concurrent"]
    sequential = durations["test_sequential"]
    print(f"one call at {LATENCY_S * 1000:.0f} ms latency: {single:.3f} s")
    print(
        f"{REPEAT} concurrent samples (--llm-concurrency 10): {concurrent:.3f} s = "
        f"{concurrent / single:.2f}x one call (target <= 1.5x)"
    )
    print(
        f"{REPEAT} samples one after another (concurrency=1): {sequential:.3f} s = "
        f"{sequential / single:.2f}x one call"
    )
    print(f"sequential / concurrent: {sequential / concurrent:.1f}x")


if __name__ == "__main__":
    main()
