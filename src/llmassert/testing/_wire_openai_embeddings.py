"""OpenAI Embeddings (``POST /v1/embeddings``): deterministic unit vectors from a hash of each
input, so equal texts embed equally and different texts (almost surely) differently; or the
vectors a rule scripts (``Reply(embeddings=...)``)."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from collections.abc import Iterator, Mapping
from typing import Any

from llmassert.testing._reply import Reply
from llmassert.testing._request import ServerRequest
from llmassert.testing._wire import RequestView, SSEEvent, estimate_tokens
from llmassert.testing._wire_openai_errors import render_error, render_stream_error

__all__ = [
    "API",
    "DEFAULT_DIMENSIONS",
    "PROVIDER",
    "describe",
    "embed",
    "render_body",
    "render_error",
    "render_stream",
    "render_stream_error",
]

API = "embeddings"
PROVIDER = "openai"

#: Vector size when the request gives no ``dimensions`` (that of ``text-embedding-3-small``).
DEFAULT_DIMENSIONS = 1536


def _inputs(body: Mapping[str, Any]) -> list[str]:
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if all(isinstance(v, int) for v in value):
            return [" ".join(str(v) for v in value)]  # one input given as token ids
        return [v if isinstance(v, str) else " ".join(str(t) for t in v) for v in value]
    return []


def describe(body: Any) -> RequestView:
    if not isinstance(body, Mapping):
        return RequestView()
    model = body.get("model")
    inputs = _inputs(body)
    return RequestView(
        model=model if isinstance(model, str) else None,
        prompt=inputs[0] if len(inputs) == 1 else "\n".join(inputs),
        stream=False,
    )


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The server's embedding of ``text``: a unit vector seeded by the SHA-256 of the text."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    vector = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _dimensions(body: Mapping[str, Any]) -> int:
    value = body.get("dimensions")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return DEFAULT_DIMENSIONS


def render_body(request: ServerRequest, reply: Reply) -> dict[str, Any]:
    body = request.body if isinstance(request.body, Mapping) else {}
    inputs = _inputs(body)
    dimensions = _dimensions(body)
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(inputs):
        if reply.embeddings:  # scripted vectors, cycled when fewer than the inputs
            vector = [float(v) for v in reply.embeddings[index % len(reply.embeddings)]]
        else:
            vector = embed(text, dimensions)
        embedding: Any = (
            base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
            if as_base64
            else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    if reply.input_tokens is not None:
        tokens = reply.input_tokens
    else:
        tokens = sum(estimate_tokens(text) for text in inputs)
    return {
        "object": "list",
        "data": data,
        "model": request.model or "unknown",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def render_stream(request: ServerRequest, reply: Reply) -> Iterator[SSEEvent]:
    """Embeddings are never streamed; the whole body as one event, for completeness."""
    yield SSEEvent(data=render_body(request, reply))
