"""A minimal server-sent-events decoder: lines in, ``{"event", "data"}`` dicts out."""

from __future__ import annotations

from typing import Any

__all__ = ["SSEDecoder"]


class SSEDecoder:
    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        """Feed one line (without its newline); return an event when a blank line ends one."""
        line = line.rstrip("\r")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def flush(self) -> dict[str, Any] | None:
        if not self._data:
            self._event = None
            return None
        event = {"event": self._event, "data": "\n".join(self._data)}
        self._event, self._data = None, []
        return event
