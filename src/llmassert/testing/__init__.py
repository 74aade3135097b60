"""The local OpenAI/Anthropic-compatible LLM test server.

A real HTTP server on 127.0.0.1 that the official ``openai`` and ``anthropic`` SDKs (and any
other client) talk to unchanged via ``base_url``, scripted by rules, with fault injection and a
request log. See the "Test server" page of the docs.

::

    from llmassert.testing import LLMServer, Rule, Reply

    with LLMServer([Rule("Paris", prompt_regex="capital of France")]) as server:
        client = OpenAI(base_url=server.openai_base_url, api_key="test")
"""

from __future__ import annotations

from llmassert.testing._fault import Fault
from llmassert.testing._headers import fingerprint
from llmassert.testing._reply import ErrorReply, Reply, ReplyToolCall
from llmassert.testing._request import ServerRequest
from llmassert.testing._rules import Rule
from llmassert.testing._server import DEMO_MODELS, LLMServer
from llmassert.testing._yaml_rules import load_rules

__all__ = [
    "DEMO_MODELS",
    "ErrorReply",
    "Fault",
    "LLMServer",
    "Reply",
    "ReplyToolCall",
    "Rule",
    "ServerRequest",
    "fingerprint",
    "load_rules",
]
