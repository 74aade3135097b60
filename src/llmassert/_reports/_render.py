"""Reports as text: the terminal summary (:func:`terminal_lines`) and the Markdown of a GitHub
job summary (:func:`markdown`).

The terminal summary is the per-model table, then each comparison's verdict line, then a test x
model outcome matrix. The matrix shows the rows worth reading first — tests whose outcome
differs between models, then tests that did not pass — at most :data:`MATRIX_ROWS` of them by
default; ``-v`` shows every row, ``-q`` only the verdict lines (or one line per model when a
single model ran).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmassert._reports._kinds import KINDS

__all__ = [
    "MATRIX_ROWS",
    "comparison_lines",
    "format_cost",
    "format_seconds",
    "markdown",
    "matrix_rows",
    "model_table",
    "terminal_lines",
]

#: Rows of the outcome matrix shown without ``-v``.
MATRIX_ROWS = 20
#: How many comparisons (pairs of models sharing tests) the terminal lists without ``-v``.
COMPARISON_LINES = 10
#: Model columns of the outcome matrix shown without ``-v``.
MATRIX_MODELS = 8
#: Rows of the outcome matrix in the Markdown summary.
MARKDOWN_MATRIX_ROWS = 50
_KEY_WIDTH = 70

Report = Mapping[str, Any]


# -- formatting ---------------------------------------------------------------------------------


def format_seconds(value: object) -> str:
    """``850 ms``, ``1.25 s``, ``-`` for unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def format_cost(value: object) -> str:
    """``$0.0012``, ``$1.50``, ``-`` for unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    if value == 0:
        return "$0"
    if value < 0.01:
        return f"${value:.2g}" if value < 1e-6 else "$" + f"{value:.6f}".rstrip("0")
    return f"${value:.2f}"


def _rate(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value * 100:.1f}%"


def _tokens(summary: Mapping[str, Any]) -> str:
    i, o = summary.get("input_tokens"), summary.get("output_tokens")
    if i is None and o is None:
        return "-"
    return f"{i if i is not None else '-'}/{o if o is not None else '-'}"


def _shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    keep = width - 1
    return text[: keep - keep // 2] + "…" + text[len(text) - keep // 2 :]


# -- the per-model table ------------------------------------------------------------------------


def _kinds_present(models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    present = {kind for s in models.values() for kind in (s.get("compliance") or {})}
    return [k for k in KINDS if k in present]


def model_table(report: Report) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-model table (the cells as text)."""
    models: Mapping[str, Mapping[str, Any]] = report.get("models") or {}
    kinds = _kinds_present(models)
    ttft = any(s.get("ttft_p50_s") is not None for s in models.values())
    header = ["model", "tests", "passed", "pass rate", *kinds, "p50", "p95"]
    header += ["ttft p50"] if ttft else []
    header += ["tokens in/out", "cost", "retries", "calls (replayed)"]
    rows = []
    for spec, s in models.items():
        compliance = s.get("compliance") or {}
        row = [spec, str(s.get("tests", 0)), str(s.get("passed", 0)), _rate(s.get("pass_rate"))]
        for kind in kinds:
            c = compliance.get(kind)
            row.append(f"{c['passed']}/{c['total']}" if c else "-")
        latency_mark = "*" if s.get("latency_source") in ("recorded", "mixed") else ""
        row += [
            format_seconds(s.get("latency_p50_s")) + latency_mark,
            format_seconds(s.get("latency_p95_s")) + latency_mark,
        ]
        row += [format_seconds(s.get("ttft_p50_s")) + latency_mark] if ttft else []
        row += [
            _tokens(s),
            format_cost(s.get("cost_usd")) + ("+?" if s.get("cost_unknown_calls") else ""),
            str(s.get("retries", 0)),
            f"{s.get('calls', 0)} ({s.get('replayed_calls', 0)})",
        ]
        rows.append(row)
    return header, rows


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _table_notes(report: Report) -> list[str]:
    models: Mapping[str, Mapping[str, Any]] = report.get("models") or {}
    notes = []
    if any(s.get("latency_source") in ("recorded", "mixed") for s in models.values()):
        notes.append("* includes replayed calls: their latency is the recorded one")
    if any(s.get("cost_unknown_calls") for s in models.values()):
        notes.append("+? some calls have no known price (not in the cost)")
    judge = report.get("judge") or {}
    if judge.get("calls"):
        notes.append(
            f"judge: {judge['calls']} calls, {format_cost(judge.get('cost_usd'))}, "
            f"{format_seconds(judge.get('latency_s_total'))} in total (not in the table)"
        )
    return notes


# -- the outcome matrix -------------------------------------------------------------------------

_CELL = {
    "passed": "pass",
    "failed": "FAIL",
    "error": "ERROR",
    "skipped": "skip",
    "xfailed": "xfail",
    "xpassed": "XPASS",
}


def _cell(test: Mapping[str, Any] | None) -> str:
    if test is None:
        return "-"
    word = _CELL.get(str(test.get("outcome")), str(test.get("outcome")))
    verdict = test.get("verdict")
    if isinstance(verdict, Mapping) and isinstance(verdict.get("total"), int):
        return f"{word} {verdict.get('passed')}/{verdict['total']}"
    return word


def matrix_rows(report: Report) -> tuple[list[str], list[tuple[str, list[str]]], int]:
    """The models (columns), the rows worth showing first as ``(key, cells)`` — outcome differs
    between models first, then not passed, then the rest — and how many of the rows are of the
    first two groups."""
    models = list(report.get("models") or {})
    cells: dict[str, dict[str, Mapping[str, Any]]] = {}
    for test in report.get("tests") or ():
        if test.get("model") in models:
            cells.setdefault(str(test.get("key")), {}).setdefault(str(test["model"]), test)
    ranked = []
    for key, by_model in cells.items():
        row = [_cell(by_model.get(m)) for m in models]
        outcomes = {by_model[m].get("outcome") if m in by_model else None for m in models}
        differs = len(models) > 1 and len(set(row)) > 1  # outcome or sample counts differ
        not_passed = any(o != "passed" for o in outcomes)
        rank = 0 if differs else (1 if not_passed else 2)
        ranked.append((rank, key, row))
    ranked.sort(key=lambda r: (r[0], r[1]))
    interesting = sum(1 for r in ranked if r[0] < 2)
    return models, [(key, row) for _, key, row in ranked], interesting


def _matrix_lines(report: Report, verbosity: int) -> list[str]:
    models, rows, interesting = matrix_rows(report)
    if not rows:
        return []
    if verbosity < 1:
        if not interesting:
            return [f"all {len(rows)} tests passed on every model"]
        shown = rows[: min(interesting, MATRIX_ROWS)]
    else:
        shown = rows
    columns = len(models) if verbosity >= 1 else min(len(models), MATRIX_MODELS)
    header = ["test", *models[:columns]]
    table = [[_shorten(key, _KEY_WIDTH), *cells[:columns]] for key, cells in shown]
    lines = _aligned(header, table)
    if columns < len(models):
        lines.append(f"(the first {columns} of {len(models)} models; -v shows all)")
    hidden = len(rows) - len(shown)
    if hidden:
        more = interesting - len(shown)
        what = f"{more} more failing or differing, " if more > 0 else ""
        lines.append(f"... {hidden} more rows ({what}the rest passed everywhere; -v shows all)")
    return lines


def comparison_lines(report: Report, verbosity: int) -> list[str]:
    """The comparisons' verdict lines. With ``-v`` every pair of models; otherwise the pairs
    that share tests come first, at most :data:`COMPARISON_LINES` of them, and the pairs that
    share none are one line (a run whose tests use many endpoints would list every pair of
    them). ``-q`` shows only pairs that share tests. The report itself keeps every comparison."""
    comparisons = list(report.get("comparisons") or ())
    if verbosity >= 1:
        return [str(c.get("verdict")) for c in comparisons]
    shared = [c for c in comparisons if c.get("shared_tests")]
    unshared = len(comparisons) - len(shared)
    lines = [str(c.get("verdict")) for c in shared[:COMPARISON_LINES]]
    if verbosity < 0:
        return lines
    if len(shared) > COMPARISON_LINES:
        lines.append(
            f"... {len(shared) - COMPARISON_LINES} more comparisons of models sharing tests "
            "(-v shows all; --llm-report keeps every one)"
        )
    if unshared == 1 and not shared:
        lines.append(str(comparisons[0].get("verdict")))
    elif unshared:
        lines.append(f"{unshared} pairs of models share no tests: not compared (-v lists them)")
    return lines


# -- terminal ----------------------------------------------------------------------------------


def _quiet_lines(report: Report) -> list[str]:
    verdicts = comparison_lines(report, -1)
    if verdicts:
        return verdicts
    lines = []
    for spec, s in (report.get("models") or {}).items():
        latency = format_seconds(s.get("latency_p50_s"))
        lines.append(
            f"{spec}: {s.get('passed', 0)}/{s.get('tests', 0)} passed "
            f"({_rate(s.get('pass_rate'))}), median latency {latency}, "
            f"cost {format_cost(s.get('cost_usd'))}"
        )
    return lines


def terminal_lines(report: Report, verbosity: int) -> list[str]:
    """The summary of ``report`` for a terminal: ``verbosity`` as pytest's (``-1`` for ``-q``,
    ``0`` by default, ``1`` and more for ``-v``). No lines when no model ran."""
    if not report.get("models"):
        return []
    if verbosity < 0:
        return _quiet_lines(report)
    header, rows = model_table(report)
    lines = _aligned(header, rows) + _table_notes(report)
    comparisons = comparison_lines(report, verbosity)
    if comparisons:
        lines.append("")
        lines += comparisons
    matrix = _matrix_lines(report, verbosity)
    if matrix:
        lines.append("")
        lines += matrix
    return lines


# -- Markdown ----------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("*", "\\*").replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_escape(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return lines


def markdown(report: Report) -> str:
    """The run summary as GitHub-flavoured Markdown (a job summary): the per-model table, the
    comparisons, and the failing or differing tests in a collapsed block. ``""`` when no model
    ran."""
    if not report.get("models"):
        return ""
    header, rows = model_table(report)
    lines = ["### llmassert: LLM tests", "", *_md_table(header, rows)]
    notes = _table_notes(report)
    if notes:
        lines += ["", *(f"- {n}" for n in notes)]
    comparisons = report.get("comparisons") or ()
    if comparisons:
        lines += ["", "**Comparison**", ""]
        lines += [f"- {_md_escape(line)}" for line in comparison_lines(report, 0)]
    models, matrix, interesting = matrix_rows(report)
    if interesting:
        shown = matrix[: min(interesting, MARKDOWN_MATRIX_ROWS)]
        summary = f"{interesting} test{'s' if interesting != 1 else ''} failed or differ"
        lines += ["", f"<details><summary>{summary}</summary>", ""]
        lines += _md_table(["test", *models], [[f"`{k}`", *cells] for k, cells in shown])
        if interesting > len(shown):
            lines += ["", f"... and {interesting - len(shown)} more"]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
