"""``llmassert serve`` (work in progress)."""

from __future__ import annotations

import argparse


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", default=None, metavar="FILE")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("llmassert serve lands with the test server")
