"""Report overhead: a 1000-test replayed run with ``--llm-report`` vs the same run without it.

All runs are whole pytest processes in this same benchmark run (the baseline is measured here,
not remembered). Target: the run with ``--llm-report`` takes <= 1.05x the run without.

    .venv/bin/python benchmarks/report_overhead.py [--tests 1000] [--repeat 5]

Steps: record the suite once against the local test server (not timed), stop the server, then
time, interleaved (best of ``--repeat``), the replay (``CI`` set: record mode ``none``) three
ways: ``--no-llm-summary`` (nothing of reports runs: no observation, no entries), the default
(the end-of-run summary, which builds every test's entry), and ``--llm-report PATH`` (the
summary and the JSON file). Each test makes one call and two checks, so every entry carries a
sample with a call (prompt and output) and check results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _bench import run_pytest

from llmassert.testing import LLMServer

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def _write_suite(root: Path, count: int) -> Path:
    suite = root / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text(INI)
    lines = ["from llmassert import assert_contains, assert_not_refusal", ""]
    for i in range(count):
        lines += [
            f"def test_replayed_{i}(llm):",
            f'    reply = llm.complete("Question number {i}: what is {i} + 1?")',
            f'    assert_contains(reply, "{i}")',
            "    assert_not_refusal(reply)",
            "",
        ]
    (suite / "test_replayed.py").write_text("\n".join(lines))
    return suite


def _pytest(cwd: Path, *args: str, env: dict[str, str], tests: int) -> tuple[float, float]:
    """Wall time and CPU time of one whole pytest process."""
    run = run_pytest(cwd, *args, env=env, tests=tests)
    return run.wall_s, run.cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dropped = ("CI", "PYTEST_ADDOPTS", "PYTHONDONTWRITEBYTECODE", "GITHUB_STEP_SUMMARY")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    model = "--llm-model=openai:gpt-4o-mini"
    with tempfile.TemporaryDirectory() as tmp:
        suite = _write_suite(Path(tmp), args.tests)
        with LLMServer() as server:
            record_env = {**env, "OPENAI_BASE_URL": server.openai_base_url}
            record_env["OPENAI_API_KEY"] = "sk-benchmark-placeholder"
            recording, _ = _pytest(
                suite, model, "--llm-record=once", env=record_env, tests=args.tests
            )
        print(f"recorded {args.tests} calls in {recording:.2f}s (live, not part of the ratio)")
        replay_env = {**env, "CI": "true"}
        replay_env.pop("OPENAI_API_KEY", None)
        report = Path(tmp) / "report.json"
        runs: dict[str, list[tuple[float, float]]] = {"off": [], "summary": [], "report": []}
        for _ in range(args.repeat):
            runs["off"].append(
                _pytest(suite, model, "--no-llm-summary", env=replay_env, tests=args.tests)
            )
            runs["summary"].append(_pytest(suite, model, env=replay_env, tests=args.tests))
            runs["report"].append(
                _pytest(suite, model, f"--llm-report={report}", env=replay_env, tests=args.tests)
            )
        written = json.loads(report.read_text(encoding="utf-8"))
        size = report.stat().st_size
    calls = sum(len(s["calls"]) for t in written["tests"] for s in t["samples"])
    if len(written["tests"]) != args.tests or calls != args.tests:
        sys.exit(f"the report holds {len(written['tests'])} tests and {calls} calls")
    wall = {k: min(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: min(c for _, c in v) for k, v in runs.items()}
    print(f"{args.tests} replayed tests, best of {args.repeat} (wall s / CPU s):")
    print(f"  --no-llm-summary (no reports at all): {wall['off']:.2f} / {cpu['off']:.2f}")
    print(f"  default (end-of-run summary):         {wall['summary']:.2f} / {cpu['summary']:.2f}")
    print(
        f"  --llm-report (summary + JSON):        {wall['report']:.2f} / {cpu['report']:.2f} "
        f"({size / 1e6:.1f} MB)"
    )
    for label, figures in (("wall", wall), ("CPU", cpu)):
        ratio = figures["report"] / figures["summary"]
        print(
            f"ratio with/without --llm-report ({label}): {ratio:.3f}x (target <= 1.05x) "
            f"{'OK' if ratio <= 1.05 else 'OVER'}; vs no reports at all: "
            f"{figures['report'] / figures['off']:.3f}x"
        )
    print(
        f"per test, all of reports (CPU): {(cpu['report'] - cpu['off']) / args.tests * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
