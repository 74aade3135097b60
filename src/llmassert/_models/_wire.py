"""The wire-level request/response pair every model call goes through.

A model call is built as a :class:`WireRequest` (the exact JSON body for the endpoint's HTTP
path), passed through the interceptors (record & replay, spending guards, ...) and finally sent
by the provider. The provider parses the :class:`WireResponse` into a
:class:`llmassert.Response`; a replayed call parses a stored ``WireResponse`` the same way, so
the replay path needs no SDK and no HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Interceptor",
    "WireRequest",
    "WireResponse",
    "default_interceptors",
    "set_default_interceptors",
]


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request to a model endpoint, before any transport-level detail."""

    #: Wire format family: ``openai`` or ``anthropic``.
    provider: str
    #: The model spec the user wrote (``openai:gpt-4o-mini``, ``ft-support``, ...).
    spec: str
    #: e.g. ``/v1/chat/completions``, ``/v1/responses``, ``/v1/completions``, ``/v1/messages``.
    path: str
    #: The exact JSON body (``model`` and ``stream`` included). Never holds credentials.
    body: Mapping[str, Any]
    #: The endpoint's base URL (informational: it is not part of a recording's identity).
    base_url: str = ""
    #: The test (or sample) this call belongs to, when known; set by the pytest plugin.
    context: str | None = None
    #: A call to the in-process demo endpoint (``demo:MODEL`` or a named ``provider = "demo"``
    #: endpoint): local and deterministic, so record & replay leaves it alone.
    local: bool = False


@dataclass(frozen=True)
class WireResponse:
    """What came back: a JSON body, or for a streamed call the SSE events in order."""

    status: int = 200
    body: Any = None
    #: Streamed calls: ``[{"event": <name or None>, "data": <raw data string>}, ...]``.
    events: tuple[Mapping[str, Any], ...] | None = None
    #: Allow-listed response headers (request ids, rate-limit info); never credentials.
    headers: Mapping[str, str] = field(default_factory=dict)
    latency_s: float | None = None
    ttft_s: float | None = None
    #: Set by record & replay when the response came from the store.
    replayed: bool = False
    #: How many retries the live call needed.
    retries: int = 0
    #: A live error answer (status >= 400): the SDK's exception, kept as the raised error's
    #: ``sdk_error`` (never stored, never compared).
    sdk_error: BaseException | None = field(default=None, compare=False, repr=False)


class Interceptor(Protocol):
    """Wraps the sending of a :class:`WireRequest` (record & replay, guards, logging).

    ``send`` performs the call (through any further interceptors); an interceptor may answer
    without calling it (a replay) or refuse with an exception (a spending guard).
    """

    def call(
        self, request: WireRequest, send: Callable[[WireRequest], WireResponse]
    ) -> WireResponse: ...

    async def acall(
        self,
        request: WireRequest,
        send: Callable[[WireRequest], Awaitable[WireResponse]],
    ) -> WireResponse: ...


#: Interceptors of every model built without ``interceptors=``. The pytest plugin installs
#: record & replay here for the length of a run, so a model a test builds itself with
#: ``llmassert.model(...)`` obeys the record mode too (in mode ``none`` it cannot go live).
#: Kept here, not in :mod:`llmassert._models._model`, so the plugin can install them at
#: start-up without importing the model stack.
_default_interceptors: list[Interceptor] = []


def set_default_interceptors(interceptors: Sequence[Interceptor]) -> list[Interceptor]:
    """Set the interceptors of models built without ``interceptors=`` (``[]`` to clear).
    Returns the previous defaults, to restore them later."""
    previous = list(_default_interceptors)
    _default_interceptors[:] = list(interceptors)
    return previous


def default_interceptors() -> list[Interceptor]:
    """The interceptors of the moment for models built without ``interceptors=``."""
    return list(_default_interceptors)
