"""Is a 2xx answer really a completion? One check for live calls, the recording proxy and
replays, dispatched on the request path (``/v1/chat/completions``, ``/v1/messages``, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmassert._models import _anthropic, _openai

__all__ = ["COMPLETION_PATHS", "completion_problem"]

#: The completion endpoints whose answers are checked, and the API each one speaks.
COMPLETION_PATHS: Mapping[str, tuple[str, str]] = {
    **{path: ("openai", api) for api, path in _openai.PATHS.items()},
    _anthropic.PATH: ("anthropic", "chat"),
}


def completion_problem(
    path: str, body: Any = None, events: Sequence[Mapping[str, Any]] | None = None
) -> str | None:
    """Why a 2xx answer to a POST on ``path`` is not a completion (the missing field), or
    ``None`` when it is one or ``path`` is not a completion endpoint."""
    known = COMPLETION_PATHS.get(path)
    if known is None:
        return None
    wire, api = known
    if wire == "anthropic":
        return _anthropic.problem(body, events)
    return _openai.problem(api, body, events)
