"""One request as the test server saw it: what rules match on and what the request log keeps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ServerRequest"]


@dataclass(frozen=True)
class ServerRequest:
    """A request received by the test server.

    ``headers`` are lower-cased, with secret values (``authorization``, ``proxy-authorization``,
    ``x-api-key``, ``api-key``, ``cookie``, ``set-cookie``, ``openai-organization``,
    ``openai-project``) replaced by a short fingerprint such as ``sha256:1a2b3c4d``
    (:func:`llmassert.testing.fingerprint`) so tests can tell keys apart without the key ever
    being stored.
    """

    method: str
    path: str
    #: ``openai`` or ``anthropic``.
    provider: str
    #: ``chat.completions``, ``completions``, ``responses``, ``embeddings``, ``models`` or
    #: ``messages``.
    api: str
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The parsed JSON body (``None`` for GET or a body that is not JSON).
    body: Any = None
    model: str | None = None
    #: Chat history normalised to ``[{"role": ..., "content": <text>}]`` (system included).
    messages: tuple[Mapping[str, str], ...] = ()
    #: The text rules match on: the last user message, or the raw prompt of the legacy
    #: Completions API, or the ``input`` of the Responses API.
    prompt: str = ""
    stream: bool = False
    #: Seconds since the epoch when the request arrived.
    received_at: float = 0.0
    #: The id the server sent back (``x-request-id`` for OpenAI, ``request-id`` for Anthropic).
    request_id: str = ""
    #: The query string parameters (e.g. Azure's ``api-version``); key-like ones (``key``,
    #: ``api-key``, ``api_key``, ``access_token``, ...) fingerprinted like secret headers.
    query: Mapping[str, str] = field(default_factory=dict)
