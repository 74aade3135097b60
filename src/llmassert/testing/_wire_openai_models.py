"""``GET /v1/models`` and ``GET /v1/models/{id}``, in the OpenAI shape
(``{"object": "list", "data": [...]}``) or the Anthropic one (``{"data": [...], "has_more",
"first_id", "last_id"}``, chosen by the ``/anthropic`` path prefix or an ``anthropic-version``
header)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from llmassert.testing._reply import Reply
from llmassert.testing._request import ServerRequest
from llmassert.testing._wire import RequestView, SSEEvent
from llmassert.testing._wire_openai_errors import render_error, render_stream_error

__all__ = [
    "API",
    "PROVIDER",
    "describe",
    "render_body",
    "render_error",
    "render_list",
    "render_model",
    "render_stream",
    "render_stream_error",
]

API = "models"
PROVIDER = "openai"

#: A fixed creation time (2024-01-01T00:00:00Z) so listings are deterministic.
_CREATED = 1704067200
_CREATED_ISO = "2024-01-01T00:00:00Z"


def describe(body: Any) -> RequestView:
    return RequestView()


def render_model(model_id: str, provider: str = "openai") -> dict[str, Any]:
    if provider == "anthropic":
        return {
            "type": "model",
            "id": model_id,
            "display_name": model_id,
            "created_at": _CREATED_ISO,
            "lifecycle": "active",
            "max_input_tokens": 200_000,
            "max_tokens": 64_000,
        }
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": "llmassert"}


def render_list(model_ids: Sequence[str], provider: str = "openai") -> dict[str, Any]:
    data = [render_model(model_id, provider) for model_id in model_ids]
    if provider == "anthropic":
        return {
            "data": data,
            "has_more": False,
            "first_id": model_ids[0] if model_ids else None,
            "last_id": model_ids[-1] if model_ids else None,
        }
    return {"object": "list", "data": data}


def render_body(request: ServerRequest, reply: Reply) -> dict[str, Any]:
    """The model named by the request (the server core lists every known model itself)."""
    return render_model(request.model or "unknown", request.provider)


def render_stream(request: ServerRequest, reply: Reply) -> Iterator[SSEEvent]:
    yield SSEEvent(data=render_body(request, reply))
