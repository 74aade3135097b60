"""``llmassert serve``: run the local OpenAI/Anthropic-compatible test server in the foreground.

Prints ``OPENAI_BASE_URL=<url>`` and ``ANTHROPIC_BASE_URL=<url>`` (each on its own line, flushed)
so scripts can read them, then serves until SIGINT or SIGTERM and exits 0. Each request is
logged on stderr (one line, no headers: never a key) unless ``--quiet``. The server keeps only
the last :data:`REQUEST_LOG_LIMIT` requests in memory, so a long-running one stays flat.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import warnings
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmassert.testing._request import ServerRequest

__all__ = ["REQUEST_LOG_LIMIT", "configure_parser", "describe_request", "run"]

#: Requests (and rule errors) the CLI server keeps in memory: nothing outside the process reads
#: its request log, so only a few recent ones, not every body ever received.
REQUEST_LOG_LIMIT = 100


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules",
        default=None,
        metavar="FILE",
        help="YAML rules file scripting the replies (default: echo every prompt back).",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="Interface to bind (default 127.0.0.1). Anything else exposes the server.",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="Port to listen on (default 0: any free port)."
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="Do not log each request on stderr.",
    )


def describe_request(request: ServerRequest) -> str:
    """One log line for a request: time, method, path, model, stream flag and the prompt."""
    stamp = time.strftime("%H:%M:%S", time.localtime(request.received_at))
    prompt = request.prompt.replace("\n", " ")
    if len(prompt) > 60:
        prompt = prompt[:57] + "..."
    parts = [stamp, request.method, request.path]
    if request.model:
        parts.append(f"model={request.model}")
    if request.stream:
        parts.append("stream")
    if prompt:
        parts.append(f"prompt={prompt!r}")
    return " ".join(parts)


def _log_request(request: ServerRequest) -> None:
    print(describe_request(request), file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from llmassert.testing._server import LLMServer, PublicInterfaceWarning, is_loopback
    from llmassert.testing._yaml_rules import load_rules

    rules = load_rules(args.rules) if args.rules else []
    if not is_loopback(args.host):
        print(
            f"WARNING: binding the llmassert test server to {args.host}, which is not a "
            "loopback address: anyone who can reach this machine can use it. Use --host "
            "127.0.0.1 unless you really mean it.",
            file=sys.stderr,
            flush=True,
        )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        log = None if getattr(args, "quiet", False) else _log_request
        with warnings.catch_warnings():  # the loud warning above says it already
            warnings.simplefilter("ignore", PublicInterfaceWarning)
            server = LLMServer(
                rules,
                host=args.host,
                port=args.port,
                on_request=log,
                request_log_limit=REQUEST_LOG_LIMIT,
            ).start()
        try:
            print(f"OPENAI_BASE_URL={server.openai_base_url}", flush=True)
            print(f"ANTHROPIC_BASE_URL={server.anthropic_base_url}", flush=True)
            source = f" from {args.rules}" if args.rules else ""
            print(
                f"llmassert test server on {server.url}: {len(rules)} rule(s){source}; "
                "unmatched prompts are echoed. Ctrl-C to stop.",
                file=sys.stderr,
                flush=True,
            )
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
