"""Shared by the benchmarks that time whole pytest processes (run as scripts: ``benchmarks/`` is
on ``sys.path``)."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PytestRun", "run_pytest"]


@dataclass(frozen=True)
class PytestRun:
    #: Wall time of the whole process, and its CPU time (user + system; the steadier figure on a
    #: shared machine).
    wall_s: float
    cpu_s: float
    stdout: str


def run_pytest(cwd: Path, *args: str, env: dict[str, str] | None, tests: int) -> PytestRun:
    """Run ``python -m pytest -q -p no:cacheprovider ARGS`` in ``cwd`` as its own process; exit
    the benchmark (with the run's output) unless exactly ``tests`` tests passed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0 or f"{tests} passed" not in result.stdout:
        sys.exit(
            f"pytest in {cwd} did not pass {tests} tests:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return PytestRun(elapsed, cpu, result.stdout)
