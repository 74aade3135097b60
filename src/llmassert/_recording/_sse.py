"""Server-sent events: parse a byte stream into events, and frame events back into bytes.

An event is stored as ``{"event": <name or None>, "data": <text>}`` (plus ``"id"`` when the
stream sent one); multi-line data is joined with ``\\n`` as the SSE specification says, and framed
back as one ``data:`` line per line, so what a client reads from a replay is what it read live.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SSEParser", "frame_event"]


def frame_event(event: dict[str, Any]) -> bytes:
    """The wire form of one stored event."""
    parts = []
    if event.get("event"):
        parts.append(f"event: {event['event']}\n")
    if event.get("id") is not None:
        parts.append(f"id: {event['id']}\n")
    for line in str(event.get("data", "")).split("\n"):
        parts.append(f"data: {line}\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8")


class SSEParser:
    """Incremental parser: ``feed`` bytes as they arrive, then ``finish``."""

    def __init__(self) -> None:
        self._buffer = ""
        self._pending = b""
        self.events: list[dict[str, Any]] = []
        self._name: str | None = None
        self._id: str | None = None
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> None:
        data = self._pending + chunk
        try:
            text = data.decode("utf-8")
            self._pending = b""
        except UnicodeDecodeError as exc:  # a multi-byte character split across chunks
            text = data[: exc.start].decode("utf-8")
            self._pending = data[exc.start :]
        self._buffer += text.replace("\r\n", "\n").replace("\r", "\n")
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._line(line)

    def _line(self, line: str) -> None:
        if line == "":
            self._dispatch()
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._name = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value

    def _dispatch(self) -> None:
        if self._data or self._name is not None:
            event: dict[str, Any] = {"event": self._name, "data": "\n".join(self._data)}
            if self._id is not None:
                event["id"] = self._id
            self.events.append(event)
        self._name, self._id, self._data = None, None, []

    def finish(self) -> list[dict[str, Any]]:
        if self._buffer:
            self._line(self._buffer)
            self._buffer = ""
        self._dispatch()
        return self.events
