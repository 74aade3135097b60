"""``llmassert report show | diff | merge``: run reports without re-running the tests.

* ``show REPORT [-v | -q] [--markdown]``: the summary as at the end of the run (or its
  Markdown job summary); exit 0.
* ``diff BASE NEW [--latency-margin F] [--cost-margin F]``: regressions and improvements of
  NEW against the baseline BASE; exit 1 when there is a regression (so CI can gate on it), 0
  otherwise.
* ``merge REPORT... -o OUT``: join CI shard reports into one (written atomically); exit 0.

Every command exits 2 on a usage error (a missing or malformed report, one clear message).
Each action is a ``(help, configure, run)`` entry of :data:`ACTIONS`; ``configure`` only builds
argparse options, so ``llmassert --help`` imports nothing heavy.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

__all__ = ["ACTIONS", "configure_parser", "run"]

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


def _fraction(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a fraction: {text!r} (e.g. 0.2 or 20%)") from None
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"a margin is a fraction >= 0 (e.g. 0.2), not {text!r}")
    return value


# -- show -----------------------------------------------------------------------------------------


def _configure_show(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT", help="a report written by --llm-report")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="every row of the outcome matrix"
    )
    parser.add_argument("-q", "--quiet", action="count", default=0, help="the verdict lines only")
    parser.add_argument(
        "--markdown", action="store_true", help="print the Markdown summary (GitHub job summary)"
    )


def _run_show(args: argparse.Namespace) -> int:
    from llmassert._reports._render import markdown, terminal_lines
    from llmassert._reports._schema import load_report

    report = load_report(args.report)
    if args.markdown:
        print(markdown(report), end="")
        return 0
    lines = terminal_lines(report, args.verbose - args.quiet)
    if not lines:
        lines = [f"{args.report}: no test of this report ran on a model"]
    print("\n".join(lines))
    return 0


# -- diff -----------------------------------------------------------------------------------------


def _configure_diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="the baseline report (a run you trust)")
    parser.add_argument("new", metavar="NEW", help="the report to check against it")
    parser.add_argument(
        "--latency-margin",
        type=_fraction,
        default=0.2,
        metavar="F",
        help="slower by more than this fraction is a regression (default 0.2)",
    )
    parser.add_argument(
        "--cost-margin",
        type=_fraction,
        default=0.2,
        metavar="F",
        help="dearer by more than this fraction is a regression (default 0.2)",
    )


def _run_diff(args: argparse.Namespace) -> int:
    from llmassert._reports._baseline import diff_reports
    from llmassert._reports._schema import load_report

    base, new = load_report(args.base), load_report(args.new)
    diff = diff_reports(base, new, latency_margin=args.latency_margin, cost_margin=args.cost_margin)
    print("\n".join(diff.lines()))
    return 1 if diff.regressions else 0


# -- merge ----------------------------------------------------------------------------------------


def _configure_merge(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", metavar="REPORT", nargs="+", help="shard reports")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="the merged report to write"
    )


def _run_merge(args: argparse.Namespace) -> int:
    from llmassert._files import atomic_write_text
    from llmassert._reports._merge import merge_reports
    from llmassert._reports._schema import load_report, to_json

    reports = [load_report(path) for path in args.reports]
    merged = merge_reports(reports, names=[str(p) for p in args.reports])
    atomic_write_text(Path(args.output), to_json(merged))
    shards = merged["run"]["shards"]
    print(
        f"merged {len(reports)} reports ({shards} shard{'s' if shards != 1 else ''}, "
        f"{len(merged['tests'])} tests) into {args.output}"
    )
    return 0


def _configure_html(parser: argparse.ArgumentParser) -> None:
    from llmassert._reports._html import configure_html_command

    configure_html_command(parser)


def _run_html(args: argparse.Namespace) -> int:
    from llmassert._reports._html import run_html_command

    return run_html_command(args)


#: action -> (one-line help, configure the parser, run). Another action (e.g. ``html``) is one
#: more entry.
ACTIONS: dict[str, tuple[str, Configure, Run]] = {
    "show": ("print a report's summary, comparison and outcome matrix", _configure_show, _run_show),
    "diff": ("regressions and improvements against a baseline report", _configure_diff, _run_diff),
    "merge": ("merge the reports of CI shards into one", _configure_merge, _run_merge),
    "html": ("write a report as one static HTML page", _configure_html, _run_html),
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", metavar="ACTION", required=True)
    for name, (help_text, configure, action) in ACTIONS.items():
        action_parser = sub.add_parser(name, help=help_text, description=help_text)
        configure(action_parser)
        action_parser.set_defaults(_report_run=action)


def run(args: argparse.Namespace) -> int:
    action: Run = args._report_run
    return action(args)
