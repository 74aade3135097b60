"""Embeddings for ``semantic_similar``: ``POST /v1/embeddings`` of an OpenAI or
OpenAI-compatible endpoint, through the same interceptors as every model call (record & replay,
spending guards) and cached in-process by (spec, text), so a reference shared by many tests is
embedded once per run.
"""

from __future__ import annotations

import base64
import math
import struct
import threading
from collections.abc import Callable, Sequence
from copy import copy
from typing import Any

from llmassert._errors import LLMAssertError, ProviderError, UsageError
from llmassert._judge import _stats
from llmassert._models._model import Model, _from_here, _wrap
from llmassert._models._pricing import cost_usd
from llmassert._models._wire import WireRequest, WireResponse
from llmassert._observe import note_call
from llmassert._response import Response, Usage

__all__ = ["PATH", "EmbeddingModel", "clear_cache", "cosine"]

PATH = "/v1/embeddings"

_lock = threading.Lock()
#: (spec, text) -> vector.
_cache: dict[tuple[str, str], tuple[float, ...]] = {}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 when either is all zeros)."""
    if len(a) != len(b):
        raise ValueError(f"vectors of different sizes ({len(a)} and {len(b)})")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _vector(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):  # encoding_format "base64": little-endian float32
        raw = base64.b64decode(value)
        return tuple(struct.unpack(f"<{len(raw) // 4}f", raw))
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return tuple(float(v) for v in value)
    raise ValueError("an embedding is neither a list of numbers nor base64")


class EmbeddingModel(Model):
    """A :class:`~llmassert.Model` whose calls are embeddings (``Response.purpose`` is
    ``"embedding"``): :meth:`embed` returns one vector per text."""

    purpose = "embedding"

    @classmethod
    def like(cls, model: Model) -> EmbeddingModel:
        """The embeddings model of the same spec, endpoint, interceptors and budget."""
        mine = copy(model)
        mine.__class__ = cls
        mine.purpose = "embedding"
        return mine  # type: ignore[return-value]

    def _finish(self, wire: WireResponse, gen: Any = None) -> Response:
        if wire.status >= 400:
            return super()._finish(wire, gen)  # raises the mapped error
        body = wire.body if isinstance(wire.body, dict) else {}
        usage_body = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        tokens = usage_body.get("prompt_tokens") if isinstance(usage_body, dict) else None
        usage = Usage(input_tokens=tokens if isinstance(tokens, int) else None, output_tokens=0)
        return Response(
            text="",
            model=str(body.get("model") or self.model),
            provider=self.provider,
            finish_reason="stop",
            usage=usage,
            latency_s=wire.latency_s,
            retries=wire.retries,
            replayed=wire.replayed,
            spec=self.spec,
            purpose=self.purpose,
            cost_usd=cost_usd(self._price_provider(), self.model, usage, self.endpoint.prices),
            request_id=wire.headers.get("x-request-id"),
            raw=body,
        )

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """One vector per text, in order; texts embedded before (same spec) come from the
        in-process cache, the others in one request."""
        __tracebackhide__ = True
        if self.endpoint.wire != "openai":
            raise UsageError(
                f"{self.spec}: embeddings need an OpenAI or OpenAI-compatible endpoint "
                "(/v1/embeddings); Anthropic has no embeddings API. Pick e.g. "
                "--llm-embedding-model openai:text-embedding-3-small"
            )
        with _lock:
            missing = list(dict.fromkeys(t for t in texts if (self.spec, t) not in _cache))
        if missing:
            vectors = self._fetch(missing)
            with _lock:
                for text, vector in zip(missing, vectors, strict=True):
                    _cache[(self.spec, text)] = vector
        with _lock:
            return [_cache[(self.spec, t)] for t in texts]

    def _fetch(self, texts: list[str]) -> list[tuple[float, ...]]:
        from llmassert._models._occurrence import default_context
        from llmassert._models._sampling import with_sample

        request = WireRequest(
            provider="openai",
            spec=self.spec,
            path=PATH,
            body={"model": self._body_model(), "input": texts},
            base_url=self._base_url,
            context=with_sample(self._context() or default_context()),
        )
        timeout = self.endpoint.timeout_s

        def innermost(req: WireRequest) -> WireResponse:
            return self._live(req, timeout, frozenset())

        send: Callable[[WireRequest], WireResponse] = innermost
        for interceptor in reversed(self._interceptors()):
            send = _wrap(interceptor, send)
        try:
            response = self._finish(send(request))
        except LLMAssertError as exc:
            raise _from_here(exc)  # noqa: B904
        _stats.note(response)
        _stats.count("embedding", items=len(texts))
        # in the running test's report sample, as a grader call (purpose "embedding"): the
        # texts embedded are its prompt; an embedding has no text output
        note_call(response, [{"role": "input", "content": text} for text in texts])
        data = response.raw.get("data") if isinstance(response.raw, dict) else None
        try:
            if not isinstance(data, list) or len(data) != len(texts):
                raise ValueError(f"expected {len(texts)} embeddings, got {data!r:.80}")
            ordered = sorted(data, key=lambda d: int(d.get("index", 0)))
            return [_vector(item.get("embedding")) for item in ordered]
        except (ValueError, TypeError, AttributeError) as exc:
            raise ProviderError(
                f"{self.spec}: the embeddings answer cannot be read ({exc})", endpoint=self.spec
            ) from None
