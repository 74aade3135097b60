"""Reports as text: the terminal summary (:func:`terminal_lines`) and the Markdown of a GitHub
job summary (:func:`markdown`).

The terminal summary is the per-model table, then each comparison's verdict line, then a test x
model outcome matrix. The matrix shows the rows worth reading first — tests whose outcome
differs between models, then tests that did not pass, then tests that ran on some models only —
at most :data:`MATRIX_ROWS` of them by default; ``-v`` shows every row, ``-q`` only the verdict
lines (or one line per model when a single model ran).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmassert._reports._facts import unattributed_calls
from llmassert._reports._kinds import KINDS

__all__ = [
    "MATRIX_ROWS",
    "MatrixRow",
    "comparison_lines",
    "format_cost",
    "format_seconds",
    "group_counts",
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
    for purpose, label in (("judge", "judge"), ("embedding", "embeddings")):
        totals = report.get(purpose) or {}
        if totals.get("calls"):
            notes.append(
                f"{label}: {totals['calls']} call{'' if totals['calls'] == 1 else 's'}, "
                f"{format_cost(totals.get('cost_usd'))}, "
                f"{format_seconds(totals.get('latency_s_total'))} in total (not in the table)"
            )
    fixtures = _fixtures_note(report)
    return notes + ([fixtures] if fixtures else [])


_SCOPES = ("class", "module", "package", "session")


def _number_sum(calls: Sequence[Mapping[str, Any]], field: str) -> float | None:
    values = [
        float(c[field])
        for c in calls
        if isinstance(c.get(field), int | float) and not isinstance(c[field], bool)
    ]
    return sum(values) if values else None


def _fixtures_note(report: Report) -> str | None:
    """``fixtures: 2 calls made by module- and session-scoped fixtures (greeting, shared),
    ...``: the model calls of wider-scoped fixtures, attributed to no test."""
    groups = [g for g in report.get("unattributed") or () if isinstance(g, Mapping)]
    groups = [
        g
        for g in groups
        if any(c.get("purpose", "model") == "model" for c in unattributed_calls([g]))
    ]
    if not groups:
        return None
    calls = [c for c in unattributed_calls(groups) if c.get("purpose", "model") == "model"]
    names = sorted({str(g.get("fixture")) for g in groups})
    scopes = [s for s in _SCOPES if any(g.get("scope") == s for g in groups)]
    scopes += sorted({str(g.get("scope")) for g in groups} - set(scopes))
    scoped = f"{scopes[-1]}-scoped"  # "module-scoped", "module- and session-scoped"
    if len(scopes) > 1:
        scoped = ", ".join(f"{s}-" for s in scopes[:-1]) + f" and {scoped}"
    rows = report.get("models") or {}
    counted = sum(1 for c in calls if c.get("model") in rows)
    if counted == len(calls):
        where = "in their model's row"
    elif counted == 0:
        where = "in no row: no test ran on their model"
    else:
        where = f"{counted} of them in their model's row"
    plural = "" if len(calls) == 1 else "s"
    fixture_word = "fixture" if len(names) == 1 else "fixtures"
    return (
        f"fixtures: {len(calls)} call{plural} made by {scoped} {fixture_word} "
        f"({', '.join(names)}), {format_cost(_number_sum(calls, 'cost_usd'))}, "
        f"{format_seconds(_number_sum(calls, 'latency_s'))} in total ({where}; attributed to "
        "no test)"
    )


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


#: The groups of matrix rows, in the order they are shown (the last is not shown without -v).
DIFFER, NOT_PASSED, PARTIAL, PASSED = "differ", "not passed", "partial", "passed"
_GROUPS = (DIFFER, NOT_PASSED, PARTIAL, PASSED)


@dataclass(frozen=True)
class MatrixRow:
    """One row of the outcome matrix: the test's key, one cell per model (``-``: not run on it),
    its group (:data:`DIFFER`, :data:`NOT_PASSED`, :data:`PARTIAL`, :data:`PASSED`) and on how
    many of the models it ran."""

    key: str
    cells: list[str]
    group: str
    ran_on: int


def matrix_rows(report: Report) -> tuple[list[str], list[MatrixRow]]:
    """The models (columns) and the rows, in the order worth reading: outcomes (or sample
    counts) that differ between the models the test ran on; then tests that did not pass
    everywhere they ran; then tests that passed but ran on some models only; then the rest.
    The groups are disjoint: a test that ran on one model only and failed there is in the
    second."""
    models = list(report.get("models") or {})
    cells: dict[str, dict[str, Mapping[str, Any]]] = {}
    for test in report.get("tests") or ():
        if test.get("model") in models:
            cells.setdefault(str(test.get("key")), {}).setdefault(str(test["model"]), test)
    rows = []
    for key, by_model in cells.items():
        row = [_cell(by_model.get(m)) for m in models]
        ran = [_cell(by_model[m]) for m in models if m in by_model]
        if len(set(ran)) > 1:
            group = DIFFER
        elif any(by_model[m].get("outcome") != "passed" for m in by_model):
            group = NOT_PASSED
        elif len(by_model) < len(models):
            group = PARTIAL
        else:
            group = PASSED
        rows.append(MatrixRow(key, row, group, len(by_model)))
    rows.sort(key=lambda r: (_GROUPS.index(r.group), r.key))
    return models, rows


def _interesting(rows: Sequence[MatrixRow]) -> int:
    return sum(1 for r in rows if r.group != PASSED)


def group_counts(rows: Sequence[MatrixRow], models: int) -> list[str]:
    """How many of ``rows`` are in each group, in words (empty groups left out):
    ``["3 differ between models", "2 did not pass", "1 passed, on one model only"]``."""
    parts = []
    differ = sum(1 for r in rows if r.group == DIFFER)
    if differ:
        parts.append(f"{differ} differ between models")
    not_passed = sum(1 for r in rows if r.group == NOT_PASSED)
    if not_passed:
        parts.append(f"{not_passed} did not pass")
    partial = [r for r in rows if r.group == PARTIAL]
    if partial:
        where = (
            "passed, on one model only"
            if all(r.ran_on == 1 for r in partial)
            else f"passed, on some of the {models} models"
        )
        parts.append(f"{len(partial)} {where}")
    passed = sum(1 for r in rows if r.group == PASSED)
    if passed:
        parts.append(f"{passed} passed on every model")
    return parts


def _matrix_lines(report: Report, verbosity: int) -> list[str]:
    models, rows = matrix_rows(report)
    if not rows:
        return []
    interesting = _interesting(rows)
    if verbosity < 1:
        if not interesting:
            return [f"all {len(rows)} tests passed on every model"]
        shown = rows[: min(interesting, MATRIX_ROWS)]
    else:
        shown = rows
    columns = len(models) if verbosity >= 1 else min(len(models), MATRIX_MODELS)
    header = ["test", *models[:columns]]
    table = [[_shorten(r.key, _KEY_WIDTH), *r.cells[:columns]] for r in shown]
    lines = _aligned(header, table)
    if columns < len(models):
        lines.append(f"(the first {columns} of {len(models)} models; -v shows all)")
    hidden = rows[len(shown) :]
    if hidden:
        what = ", ".join(group_counts(hidden, len(models)))
        rows_word = "row" if len(hidden) == 1 else "rows"
        lines.append(f"... {len(hidden)} more {rows_word} ({what}; -v shows all)")
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
    ``0`` by default, ``1`` and more for ``-v``). No lines when no model ran (but the note on
    the calls of shared fixtures, when only they called a model)."""
    if not report.get("models"):
        fixtures = _fixtures_note(report)
        return [fixtures] if fixtures and verbosity >= 0 else []
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
    models, matrix = matrix_rows(report)
    interesting = _interesting(matrix)
    if interesting:
        shown = matrix[: min(interesting, MARKDOWN_MATRIX_ROWS)]
        summary = "tests: " + ", ".join(group_counts(matrix[:interesting], len(models)))
        lines += ["", f"<details><summary>{summary}</summary>", ""]
        lines += _md_table(["test", *models], [[f"`{r.key}`", *r.cells] for r in shown])
        if interesting > len(shown):
            lines += ["", f"... and {interesting - len(shown)} more"]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
