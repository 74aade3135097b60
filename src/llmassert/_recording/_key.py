"""The canonical form of a model request and its hash: what makes two requests "the same".

Part of the identity: provider, HTTP method, endpoint path, query string, the JSON body with
sorted keys (model, messages and every generation parameter, ``stream`` included because streamed
and non-streamed responses differ) and the few request headers that change the response
(``anthropic-beta``, ``openai-beta``). Not part of it: auth headers, SDK telemetry headers
(``x-stainless-*``), retry counters, key order, the base URL.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmassert._models._occurrence import SAMPLE_MARK, test_of

if TYPE_CHECKING:
    from llmassert._models._wire import WireRequest

__all__ = [
    "SAMPLE_MARK",
    "SEMANTIC_HEADERS",
    "RequestKey",
    "describe_prompt",
    "key_for",
    "key_for_wire",
    "model_of",
    "test_of",
]

#: Request headers that change what the endpoint answers, so they are part of the identity.
SEMANTIC_HEADERS = ("anthropic-beta", "openai-beta")

_DIGEST_CHARS = 24

# A context ``<test id>#sample=<n>`` (SAMPLE_MARK) names one sample of a repeated test. Samples
# of one test share its occurrence counter (and its recordings), so the k-th sample's call gets
# its own recording instead of replaying the first sample's answer. SAMPLE_MARK and test_of are
# defined once, in llmassert._models._occurrence (shared with the demo models).


def _normalise(value: Any) -> Any:
    """Make equal-meaning JSON values equal: ``1.0`` and ``1`` are the same temperature."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return value


def _normalise_path(path: str) -> str:
    path = "/" + path.strip().lstrip("/")
    return path.rstrip("/") or "/"


def model_of(canonical: Mapping[str, Any]) -> str:
    """The model a canonical request (or a recording's ``request``) asks for, or ``""``."""
    body = canonical.get("body")
    if isinstance(body, Mapping) and isinstance(body.get("model"), str):
        return str(body["model"])
    return ""


@dataclass(frozen=True)
class RequestKey:
    """A request's identity: ``digest`` (24 hex chars of a SHA-256) of ``canonical``."""

    digest: str
    #: ``{"provider", "method", "path", "query", "headers", "body"}``, JSON-ready.
    canonical: Mapping[str, Any]

    @property
    def provider(self) -> str:
        return str(self.canonical.get("provider", ""))

    @property
    def path(self) -> str:
        return str(self.canonical.get("path", ""))

    @property
    def model(self) -> str:
        return model_of(self.canonical)

    @property
    def stream(self) -> bool:
        body = self.canonical.get("body")
        return isinstance(body, Mapping) and bool(body.get("stream"))


def key_for(
    provider: str,
    path: str,
    body: Any,
    *,
    method: str = "POST",
    query: str = "",
    headers: Mapping[str, str] | None = None,
) -> RequestKey:
    """The :class:`RequestKey` of a request given by its parts."""
    kept: dict[str, str] = {}
    for name, value in (headers or {}).items():
        lower = name.lower()
        if lower in SEMANTIC_HEADERS:
            kept[lower] = value
    canonical: dict[str, Any] = {
        "provider": provider,
        "method": method.upper(),
        "path": _normalise_path(path),
        "body": _normalise(body),
    }
    if query:
        canonical["query"] = "&".join(sorted(query.lstrip("?").split("&")))
    if kept:
        canonical["headers"] = dict(sorted(kept.items()))
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    return RequestKey(digest=digest, canonical=canonical)


def key_for_wire(request: WireRequest) -> RequestKey:
    """The :class:`RequestKey` of a model call made in-process (no headers: never credentials)."""
    return key_for(request.provider, request.path, dict(request.body))


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        for field in ("text", "content", "input_text"):
            if isinstance(content.get(field), (str, list)):
                return _text_of(content[field])
        return ""
    if isinstance(content, (list, tuple)):
        return " ".join(t for t in (_text_of(part) for part in content) if t)
    return ""


def describe_prompt(body: Any, words: int = 12) -> str:
    """The first words of the prompt in a request body (last user message, ``input``, ``prompt``),
    for messages that must name a request."""
    text = ""
    if isinstance(body, Mapping):
        messages = body.get("messages")
        if isinstance(messages, list) and messages:
            users = [m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
            last = users[-1] if users else messages[-1]
            text = _text_of(last.get("content") if isinstance(last, Mapping) else last)
        for field in ("input", "prompt"):
            if not text and field in body:
                text = _text_of(body[field])
    text = re.sub(r"\s+", " ", text).strip()
    parts = text.split(" ")
    if len(parts) > words:
        return " ".join(parts[:words]) + " ..."
    if len(text) > 120:
        return text[:117] + "..."
    return text
