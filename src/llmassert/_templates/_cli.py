"""``llmassert dataset check FILE --template TEMPLATE``: exit 0 when every record matches and
no hygiene check finds anything, 1 otherwise, 2 on a usage error."""

from __future__ import annotations

import argparse

from llmassert._templates._check import Finding, check_dataset
from llmassert._templates._export import LAYOUTS
from llmassert._templates._hf import HFChatTemplate
from llmassert._templates._template import PromptTemplate, load_template

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="check a fine-tuning JSONL file against a prompt template",
        description="Check every record of FILE against TEMPLATE; findings are named FILE:LINE. "
        "Exit 0: clean; 1: a mismatch, a malformed line or a hygiene finding; 2: usage error.",
    )
    check.add_argument("file", metavar="FILE", help="the JSONL dataset")
    check.add_argument(
        "--template",
        required=True,
        metavar="TEMPLATE",
        help="template YAML, or a tokenizer_config.json (its chat_template checks text records)",
    )
    check.add_argument("--layout", choices=LAYOUTS, help="force the layout (default: detect)")
    check.add_argument("--max-tokens", type=int, metavar="N", help="token budget per record")
    check.add_argument(
        "--tokenizer", default="approx", help="approx (chars/4) or tiktoken:<encoding>"
    )
    check.add_argument("--overlap", metavar="TEST_FILE", help="flag prompts also in this file")
    check.add_argument("--no-empty", action="store_true", help="skip the empty-output check")
    check.add_argument("--no-duplicates", action="store_true", help="skip the duplicate check")
    check.add_argument("--no-pii", action="store_true", help="skip the PII / secrets check")


def run(args: argparse.Namespace) -> int:
    template: PromptTemplate | HFChatTemplate
    if str(args.template).endswith(".json"):
        template = HFChatTemplate.load(args.template)
    else:
        template = load_template(args.template)
    path = str(args.file)

    def show(finding: Finding) -> None:
        print(finding.format(path))

    report = check_dataset(
        path,
        template,
        layout=args.layout,
        empty=not args.no_empty,
        duplicates=not args.no_duplicates,
        pii=not args.no_pii,
        max_tokens=args.max_tokens,
        tokenizer=args.tokenizer,
        overlap=args.overlap,
        on_finding=show,
        keep_findings=False,
    )
    print(report.summary())
    return 0 if report.ok else 1
