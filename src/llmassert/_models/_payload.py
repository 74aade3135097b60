"""Reading provider JSON without the SDKs' typed models (so a replay never imports an SDK).

Answers are parsed from their JSON with these tolerant accessors: a field that is missing,
``null`` or of the wrong shape reads as empty, as the SDKs' lenient construction would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["as_dict", "as_list", "event_data"]

_EMPTY: Mapping[str, Any] = {}


def as_dict(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty mapping."""
    return value if isinstance(value, Mapping) else _EMPTY


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def event_data(event: Mapping[str, Any]) -> Any:
    """The parsed JSON ``data`` of an SSE event (``None`` for ``[DONE]`` and non-JSON)."""
    data = str(event.get("data", ""))
    if data == "[DONE]":
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None
