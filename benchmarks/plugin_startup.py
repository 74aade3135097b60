"""Plugin start-up: ``pytest --co -q`` of a trivial suite with and without the llmassert plugin.

The plugin loads in every pytest run of a project that installs it, so what it imports at
start-up is paid by every run, LLM tests or not. Both runs have plugin autoload off
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``); one adds ``-p llmassert.plugin``. The figure is the
ratio of the medians of interleaved runs. Target: <= 1.10x. (Part of the difference is pytest's
own: with autoload off, ``-p NAME`` makes it scan every installed distribution's entry points
once for NAME, a few ms.)

    .venv/bin/python benchmarks/plugin_startup.py [--runs 21] [--tests 5]

It also lists which llmassert modules (and heavy third-party ones) the plugin run imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Reports the imported modules of interest (written only for the listing run, not timed).
CONFTEST = """import sys

HEAVY = ("openai", "anthropic", "httpx2", "httpx", "aiohttp", "tenacity", "jsonschema", "yaml",
         "rapidfuzz", "pydantic", "asyncio")


def pytest_collection_finish(session):
    ours = sorted(m for m in sys.modules if m.startswith("llmassert"))
    heavy = sorted(m for m in HEAVY if m in sys.modules)
    print("\\nLLMASSERT_MODULES=" + ",".join(ours))
    print("HEAVY_MODULES=" + ",".join(heavy))
"""


def _write_suite(root: Path, tests: int) -> None:
    (root / "pytest.ini").write_text("[pytest]\n")
    lines = []
    for i in range(tests):
        lines += [f"def test_trivial_{i}():", f"    assert {i} == {i}", ""]
    (root / "test_trivial.py").write_text("\n".join(lines))


def _run(cwd: Path, args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pytest failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs of each variant")
    parser.add_argument("--tests", type=int, default=5, help="tests in the trivial suite")
    args = parser.parse_args()
    # Bytecode caches on (a warm venv); no autoloaded plugins, so only llmassert differs.
    dropped = ("PYTEST_ADDOPTS", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugin = ["-p", "llmassert.plugin"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_suite(root, args.tests)
        for variant in ([], plugin):  # warm-up: bytecode caches, page cache (not timed)
            _run(root, variant, env)
        without, with_plugin = [], []
        for _ in range(args.runs):
            without.append(_run(root, [], env)[0])
            with_plugin.append(_run(root, plugin, env)[0])
        (root / "conftest.py").write_text(CONFTEST)
        _, listing = _run(root, plugin, env)
    lines = dict(x.split("=", 1) for x in listing.splitlines() if "_MODULES=" in x)
    base, ours = statistics.median(without), statistics.median(with_plugin)
    ratio = ours / base
    print(f"pytest --co -q, {args.tests} trivial tests, median of {args.runs} interleaved runs:")
    print(f"  without the plugin:       {base * 1000:.0f} ms")
    print(f"  with -p llmassert.plugin: {ours * 1000:.0f} ms (+{(ours - base) * 1000:.0f} ms)")
    print(f"ratio with/without: {ratio:.2f}x (target <= 1.10x) {'OK' if ratio <= 1.10 else 'OVER'}")
    modules = [m for m in lines.get("LLMASSERT_MODULES", "").split(",") if m]
    print(f"llmassert modules imported at start-up ({len(modules)}): {', '.join(modules)}")
    print(f"heavy modules imported at start-up: {lines.get('HEAVY_MODULES') or 'none'}")


if __name__ == "__main__":
    main()
