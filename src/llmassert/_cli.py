"""The ``llmassert`` command line.

Each subcommand lives in its own module, which provides ``configure_parser(parser)`` and
``run(args) -> int``; this module only dispatches. Add a subcommand by adding it to ``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from llmassert._errors import LLMAssertError
from llmassert._version import __version__

__all__ = ["main"]

# name -> (module, one-line help)
_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("llmassert.testing._cli", "run the local OpenAI/Anthropic-compatible test server"),
    "recordings": ("llmassert._recording._cli", "inspect and prune the record & replay store"),
    "dataset": ("llmassert._templates._cli", "check fine-tuning data against a prompt template"),
    "report": ("llmassert._reports._cli", "show, diff, merge run reports (JSON); render HTML"),
}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmassert",
        description="llmassert: simple, fast, trustworthy tests for LLM behaviour.",
    )
    parser.add_argument("--version", action="version", version=f"llmassert {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure_parser(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        code: int = run(args)
    except LLMAssertError as exc:
        print(f"llmassert {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
