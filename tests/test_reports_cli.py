"""``llmassert report show | diff | merge`` through a subprocess (exit codes and messages), and
the terminal / Markdown rendering they print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmassert._reports import finalize, to_json
from llmassert._reports._render import MATRIX_ROWS, markdown, terminal_lines
from reports_data import A, B, clear_win, entry, repeated_entry


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmassert", "report", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """The same command in this process (exit code, stdout, stderr): for the many cases that
    need no separate interpreter."""
    from llmassert._cli import main

    try:
        code = main(["report", *map(str, args)])
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def report(tests: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return finalize(clear_win() if tests is None else tests, {"run": {"models": [A, B]}})


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(to_json(data), encoding="utf-8")
    return path


# -- rendering -----------------------------------------------------------------------------------


def test_terminal_lines_table_verdict_and_matrix() -> None:
    tests = clear_win()
    tests += [repeated_entry("t.py::rep", A, 7, 10), repeated_entry("t.py::rep", B, 3, 10)]
    tests.append(entry("t.py::only", A, replayed=True))
    r = report(tests)
    lines = terminal_lines(r, 0)
    assert lines[0].split() == [
        "model", "tests", "passed", "pass", "rate", "content", "p50", "p95",
        "tokens", "in/out", "cost", "retries", "calls", "(replayed)",
    ]  # fmt: skip
    assert lines[1].startswith("demo:finetuned     32      30      93.8%")
    assert "* includes replayed calls: their latency is the recorded one" in lines
    assert r["comparisons"][0]["verdict"] in lines
    assert any(line.startswith("t.py::only ") and line.endswith(" -") for line in lines)
    assert any("pass 7/10" in line and "FAIL 3/10" in line for line in lines)
    assert lines[-1] == "... 18 more rows (18 passed on every model; -v shows all)"
    # differing rows come first, then failing ones, then those that ran on one model only
    rows = [line.split()[0] for line in lines if line.startswith(("t.py", "tests/"))]
    assert rows[0] == "t.py::rep"
    assert rows[1:11] == [f"tests/test_x.py::test_{i}" for i in range(18, 28)]
    assert rows[11:] == ["tests/test_x.py::test_28", "tests/test_x.py::test_29", "t.py::only"]


def test_verbosity_quiet_prints_the_verdicts_and_verbose_every_row() -> None:
    r = report()
    assert terminal_lines(r, -1) == [r["comparisons"][0]["verdict"]]
    verbose = terminal_lines(r, 1)
    assert sum(1 for line in verbose if line.startswith("tests/test_x.py::")) == 30
    one_model = report([entry("t.py::a", A), entry("t.py::b", A, "failed")])
    assert terminal_lines(one_model, -1) == [
        "demo:finetuned: 1/2 passed (50.0%), median latency 200 ms, cost $0.00002"
    ]
    assert terminal_lines(report([entry("t.py::a", "")]), 0) == []


def test_the_matrix_is_truncated_to_the_rows_worth_reading() -> None:
    tests = [entry(f"t.py::t{i:03d}", m, "failed") for i in range(50) for m in (A, B)]
    lines = terminal_lines(report(tests), 0)
    assert sum(1 for line in lines if line.startswith("t.py::")) == MATRIX_ROWS
    assert lines[-1] == "... 30 more rows (30 did not pass; -v shows all)"
    passing = terminal_lines(report([entry("t.py::a", m) for m in (A, B)]), 0)
    assert passing[-1] == "all 1 tests passed on every model"


def test_the_hidden_rows_line_counts_tests_of_one_model_apart_from_differing_ones() -> None:
    tests = []
    for i in range(25):  # outcomes differ
        tests += [entry(f"t.py::differ{i:02d}", A), entry(f"t.py::differ{i:02d}", B, "failed")]
    for i in range(5):  # failed on both
        tests += [entry(f"t.py::fail{i}", m, "failed") for m in (A, B)]
    tests += [entry(f"t.py::only_a{i}", A) for i in range(4)]  # passed, ran on A only
    tests += [entry(f"t.py::only_b{i}", B, "failed") for i in range(3)]  # failed, on B only
    for i in range(10):
        tests += [entry(f"t.py::pass{i}", m) for m in (A, B)]
    lines = terminal_lines(report(tests), 0)
    rows = [line.split()[0] for line in lines if line.startswith("t.py::")]
    assert rows == [f"t.py::differ{i:02d}" for i in range(20)]
    assert lines[-1] == (
        "... 27 more rows (5 differ between models, 8 did not pass, 4 passed, on one model only, "
        "10 passed on every model; -v shows all)"
    )
    # a row missing on one model is not a difference: with room, it is shown after the failures
    few = terminal_lines(report([entry("t.py::a", A), *(entry("t.py::b", m) for m in (A, B))]), 0)
    assert few[-3:] == [
        "test     demo:finetuned  demo:prompted",
        "t.py::a            pass              -",
        "... 1 more row (1 passed on every model; -v shows all)",
    ]
    assert "<details><summary>tests: 1 passed, on one model only</summary>" in markdown(
        report([entry("t.py::a", A), *(entry("t.py::b", m) for m in (A, B))])
    )
    # three models: a test that ran on two of them did not run on one model only
    c = "demo:third"
    three = [*(entry("t.py::x", m) for m in (A, B)), *(entry("t.py::y", m) for m in (A, B, c))]
    three += [entry(f"t.py::z{i:02d}", m, "failed" if m == c else "passed") for i in range(20)
              for m in (A, B, c)]  # fmt: skip
    lines = terminal_lines(finalize(three, {"run": {"models": [A, B, c]}}), 0)
    assert lines[-1] == (
        "... 2 more rows (1 passed, on some of the 3 models, 1 passed on every model; -v shows all)"
    )


def test_markdown_summary() -> None:
    text = markdown(report())
    assert text.startswith("### llmassert: LLM tests\n\n| model | tests | passed | pass rate |")
    assert "| demo:finetuned | 30 | 28 | 93.3% |" in text
    assert "**Comparison**\n\n- demo:finetuned vs demo:prompted: +33 pts pass rate" in text
    assert "<details><summary>tests: 10 differ between models, 2 did not pass</summary>" in text
    assert "| `tests/test_x.py::test_18` | pass | FAIL |" in text
    assert markdown(report([entry("t.py::a", "")])) == ""


# -- the commands ---------------------------------------------------------------------------------


def test_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "run.json", report())
    result = cli("show", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == terminal_lines(report(), 0)
    assert run(capsys, "show", path, "-q") == (0, report()["comparisons"][0]["verdict"] + "\n", "")
    assert run(capsys, "show", path, "--markdown") == (0, markdown(report()), "")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such report file"),
        ("{", "not JSON (line 1, column 2"),
        ('{"schema_version": 7}', "report schema_version is 7, this llmassert reads version 1: "
         "upgrade llmassert"),
        ('{"schema_version": 1, "tool": {}}', "not a valid llmassert report"),
    ],
)  # fmt: skip
def test_show_usage_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "show", path)
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith(f"llmassert report: error: {path}: ")
    assert message in line


def test_a_usage_error_through_the_console_script(tmp_path: Path) -> None:
    result = cli("show", tmp_path / "missing.json")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"llmassert report: error: {tmp_path / 'missing.json'}: no such report file (write one "
        f"with pytest --llm-report {tmp_path / 'missing.json'})\n"
    )


def test_diff_exits_1_on_a_regression_and_0_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write(tmp_path / "base.json", report([entry("t.py::a", A), entry("t.py::b", A)]))
    same = cli("diff", base, base)
    assert (same.returncode, same.stdout.splitlines()[0]) == (
        0,
        "llmassert baseline: 0 regressions, 0 improvements over 2 tests "
        "(latency margin 20%, cost margin 20%)",
    )
    new = write(tmp_path / "new.json", report([entry("t.py::a", A, "failed"), entry("t.py::b", A)]))
    worse = cli("diff", base, new)
    assert worse.returncode == 1
    assert "REGRESSION t.py::a [demo:finetuned]: passed, now failed" in worse.stdout
    code, out, _ = run(capsys, "diff", new, base)
    assert code == 0
    assert "IMPROVEMENT t.py::a [demo:finetuned]: failed, now passed" in out
    slower = write(
        tmp_path / "slow.json", report([entry("t.py::a", A, latency=0.5), entry("t.py::b", A)])
    )
    assert run(capsys, "diff", base, slower)[0] == 1
    assert run(capsys, "diff", base, slower, "--latency-margin", "200%")[0] == 0
    code, _, err = run(capsys, "diff", base, slower, "--latency-margin", "fast")
    assert code == 2
    assert "not a fraction: 'fast'" in err


def test_merge_writes_the_single_run(tmp_path: Path) -> None:
    tests = clear_win()
    single = report(tests)
    one = write(tmp_path / "shard-1.json", report(tests[:25]))
    two = write(tmp_path / "shard-2.json", report(tests[25:]))
    out = tmp_path / "out" / "merged.json"
    result = cli("merge", one, two, "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"merged 2 reports (2 shards, 60 tests) into {out}\n"
    merged = json.loads(out.read_text(encoding="utf-8"))
    assert merged["tests"] == single["tests"]
    assert merged["models"] == single["models"]
    assert merged["comparisons"] == single["comparisons"]
    assert [p.name for p in out.parent.iterdir()] == ["merged.json"]  # no temporary file left
    clash = write(tmp_path / "clash.json", report([entry("tests/test_x.py::test_00", A, "failed")]))
    failed = cli("merge", one, clash, "-o", tmp_path / "never.json")
    assert failed.returncode == 2
    assert f"is in both {one} (passed) and {clash} (failed)" in failed.stderr
    assert not (tmp_path / "never.json").exists()


def test_help_lists_the_actions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for action in ("show", "diff", "merge"):
        assert action in out
    assert run(capsys)[0] == 2  # an action is required


def test_many_models_keep_the_summary_short() -> None:
    """A run whose tests use many endpoints (each test its own) lists the pairs that share no
    tests as one line and caps the matrix's columns; -v shows everything."""
    from llmassert._reports._render import COMPARISON_LINES, MATRIX_MODELS

    specs = [f"srv{i}:m" for i in range(12)]
    tests = [entry(f"t.py::only_{i}", spec) for i, spec in enumerate(specs)]
    tests += [
        entry("t.py::shared", spec, "failed" if i % 2 else "passed") for i, spec in enumerate(specs)
    ]
    r = report(tests)
    pairs = len(specs) * (len(specs) - 1) // 2
    assert len(r["comparisons"]) == pairs
    lines = terminal_lines(r, 0)
    verdicts = [line for line in lines if " vs " in line]
    assert len(verdicts) == COMPARISON_LINES
    assert f"... {pairs - COMPARISON_LINES} more comparisons of models sharing tests" in "\n".join(
        lines
    )
    assert f"(the first {MATRIX_MODELS} of {len(specs)} models; -v shows all)" in lines
    verbose = terminal_lines(r, 1)
    assert len([line for line in verbose if " vs " in line]) == pairs
    assert len(terminal_lines(r, -1)) == COMPARISON_LINES


def test_pairs_sharing_no_tests_are_one_line() -> None:
    specs = [f"srv{i}:m" for i in range(5)]
    r = report([entry(f"t.py::only_{i}", spec) for i, spec in enumerate(specs)])
    lines = terminal_lines(r, 0)
    assert not [line for line in lines if " vs " in line]
    assert "10 pairs of models share no tests: not compared (-v lists them)" in lines
    assert len([line for line in terminal_lines(r, 1) if " vs " in line]) == 10
