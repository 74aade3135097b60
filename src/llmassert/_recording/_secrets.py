"""Keeping secrets out of recordings.

Headers are kept by allow-list (never ``authorization``, ``x-api-key``, cookies, organisation or
project ids). Bodies are scanned before writing for the *values* of secrets in use (every
``*_API_KEY`` / ``*_TOKEN`` / ``*_SECRET`` environment variable, the keys the proxy saw, keys
registered with :func:`register_secret`) and for API-key *shapes* (``sk-...``, ``sk-ant-...``,
AWS, GitHub, Google, Hugging Face, Slack tokens, ``Bearer ...``). A hit is replaced by
``[redacted:<what>]`` and reported. The registry itself lives in
:mod:`llmassert._secret_registry`, so the model layer registers and masks without this package.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from llmassert._secret_registry import (
    MIN_SECRET_LEN,
    PLACEHOLDERS,
    known_secrets,
    register_secret,
)

__all__ = [
    "Redaction",
    "SecretScanner",
    "filter_headers",
    "register_secret",
]

#: Response headers worth keeping (exact names, lower case).
_ALLOWED_HEADERS = frozenset(
    {
        "content-type",
        "x-request-id",
        "request-id",
        "openai-processing-ms",
        "openai-version",
        "retry-after",
        "retry-after-ms",
        "x-should-retry",
    }
)
#: ... and prefixes (rate-limit information).
_ALLOWED_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")

#: Placeholder keys llmassert itself sets for replay; not secrets.
PLACEHOLDER_KEY = "llmassert-replay-placeholder"

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("api-key-shape sk-", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")),
    ("api-key-shape AWS", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("api-key-shape GitHub", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})")),
    ("api-key-shape Google", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("api-key-shape Hugging Face", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("api-key-shape Slack", re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}")),
    ("bearer token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{16,}=*")),
)


def filter_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed headers, lower-cased, sorted: never credentials, cookies or org ids."""
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _ALLOWED_HEADERS or lower.startswith(_ALLOWED_PREFIXES):
            kept[lower] = value
    return dict(sorted(kept.items()))


@dataclass(frozen=True)
class Redaction:
    """One secret removed before writing: ``what`` it was (never the value), ``where`` it was."""

    what: str
    where: str

    def describe(self) -> str:
        return f"{self.what} in {self.where}"


class SecretScanner:
    """Finds and redacts secrets in JSON-like values."""

    def __init__(
        self, extra: Iterable[tuple[str, str]] = (), env: Mapping[str, str] | None = None
    ) -> None:
        self._extra = dict(extra)
        self._env = env
        self._lock = threading.Lock()  # the proxy adds keys from its own thread

    def add(self, value: str | None, label: str) -> None:
        if value and len(value) >= MIN_SECRET_LEN and value not in PLACEHOLDERS:
            with self._lock:
                self._extra.setdefault(value, label)

    def _known(self) -> dict[str, str]:
        known = known_secrets(self._env)
        with self._lock:
            for value, label in self._extra.items():
                known.setdefault(value, label)
        return known

    def _values_pattern(self) -> tuple[dict[str, str], re.Pattern[str] | None]:
        known = self._known()
        # Longest first, so a key that contains another is replaced whole.
        ordered = sorted(known, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        return known, pattern

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Where secrets are in ``text``: ``(start, end, what)``, sorted, overlaps merged."""
        known, pattern = self._values_pattern()
        hits: list[tuple[int, int, str]] = []
        if pattern is not None:
            hits += [(m.start(), m.end(), known[m.group(0)]) for m in pattern.finditer(text)]
        for label, shape in _SHAPES:
            hits += [(m.start(), m.end(), label) for m in shape.finditer(text)]
        merged: list[tuple[int, int, str]] = []
        for start, end, label in sorted(hits):
            if merged and start < merged[-1][1]:
                last = merged[-1]
                merged[-1] = (last[0], max(last[1], end), last[2])
            else:
                merged.append((start, end, label))
        return merged

    def redact_events(
        self, events: list[dict[str, Any]] | None, where: str
    ) -> tuple[list[dict[str, Any]] | None, list[Redaction]]:
        """Redact a stream's events: first the text the stream's deltas add up to (a key the
        model echoes arrives cut into pieces across events; see :func:`_text_deltas`), then
        every event on its own. A secret spanning several deltas is replaced in the first of
        them by ``[redacted:<what>]`` and removed from the others, so the reassembled text
        holds the placeholder and no event holds a fragment of the secret."""
        if events is None:
            return None, []
        events = [dict(e) for e in events]
        parsed: dict[int, Any] = {}
        channels: dict[tuple[Any, ...], list[tuple[int, dict[str, Any], str]]] = {}
        for index, event in enumerate(events):
            data = event.get("data")
            if not isinstance(data, str) or not data.startswith("{"):
                continue
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            if not isinstance(doc, dict):
                continue
            parsed[index] = doc
            for channel, holder, name in _text_deltas(doc):
                channels.setdefault(channel, []).append((index, holder, name))
        found: list[Redaction] = []
        changed: set[int] = set()
        for pieces in channels.values():
            texts = [str(holder[name]) for _, holder, name in pieces]
            joined = "".join(texts)
            spans = self.spans(joined)
            if not spans:
                continue
            found += [Redaction(label, f"{where} (stream text)") for _, _, label in spans]
            start = 0
            for (index, holder, name), text in zip(pieces, texts, strict=True):
                end = start + len(text)
                new = _cut(joined, start, end, spans)
                if new != text:
                    holder[name] = new
                    changed.add(index)
                start = end
        for index in changed:
            events[index]["data"] = json.dumps(
                parsed[index], ensure_ascii=False, separators=(",", ":")
            )
        redacted, found_events = self.redact(events, where)
        return redacted, found + found_events

    def redact(self, value: Any, where: str) -> tuple[Any, list[Redaction]]:
        """Return ``value`` with every secret replaced, and what was replaced."""
        known, pattern = self._values_pattern()
        found: list[Redaction] = []

        def scrub(text: str, at: str) -> str:
            if pattern is not None and pattern.search(text):

                def by_value(match: re.Match[str]) -> str:
                    label = known[match.group(0)]
                    found.append(Redaction(label, at))
                    return f"[redacted:{label}]"

                text = pattern.sub(by_value, text)
            for label, shape in _SHAPES:
                if shape.search(text):

                    def by_shape(match: re.Match[str], label: str = label) -> str:
                        found.append(Redaction(label, at))
                        return f"[redacted:{label}]"

                    text = shape.sub(by_shape, text)
            return text

        def walk(item: Any, at: str) -> Any:
            if isinstance(item, str):
                return scrub(item, at)
            if isinstance(item, Mapping):
                return {scrub(str(k), at): walk(v, at) for k, v in item.items()}
            if isinstance(item, (list, tuple)):
                return [walk(v, at) for v in item]
            return item

        return walk(value, where), found


def _cut(joined: str, start: int, end: int, spans: list[tuple[int, int, str]]) -> str:
    """The piece ``joined[start:end]`` with the secrets' parts removed; a secret that starts
    in this piece leaves its placeholder here."""
    parts: list[str] = []
    pos = start
    for s_start, s_end, label in spans:
        if s_end <= start or s_start >= end:
            continue
        parts.append(joined[pos : max(s_start, start)])
        if s_start >= start:
            parts.append(f"[redacted:{label}]")
        pos = min(s_end, end)
    parts.append(joined[pos:end])
    return "".join(parts)


#: Delta fields of OpenAI chat choices that add up to a text.
_CHAT_DELTA_TEXT = ("content", "refusal", "reasoning_content", "reasoning")
#: Delta fields of Anthropic ``content_block_delta`` / ``content_block_start`` that do.
_ANTHROPIC_TEXT = ("text", "partial_json", "thinking")


def _text_deltas(doc: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], dict[str, Any], str]]:
    """The text pieces one stream event adds, as ``(channel, holder, field)``: the pieces of
    one channel, in event order, add up to one text (a choice's content, a tool call's
    arguments, a Responses output part, an Anthropic content block).

    OpenAI chat and completions chunks (``choices[].delta.content`` / ``refusal`` /
    ``reasoning_content``, ``delta.tool_calls[].function.arguments``, ``choices[].text``),
    Responses ``*.delta`` events, Anthropic ``content_block_start`` / ``content_block_delta``.
    """
    choices = doc.get("choices")
    if isinstance(choices, list):
        for position, choice in enumerate(choices):
            if not isinstance(choice, dict):
                continue
            number = choice.get("index", position)
            if isinstance(choice.get("text"), str):
                yield ("choice", number, "text"), choice, "text"
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            for name in _CHAT_DELTA_TEXT:
                if isinstance(delta.get(name), str):
                    yield ("choice", number, name), delta, name
            calls = delta.get("tool_calls")
            for slot, call in enumerate(calls if isinstance(calls, list) else ()):
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    channel = ("choice", number, "tool", call.get("index", slot))
                    yield channel, function, "arguments"
            function = delta.get("function_call")
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                yield ("choice", number, "function_call"), function, "arguments"
        return
    kind = doc.get("type")
    if not isinstance(kind, str):
        return
    if kind.endswith(".delta") and isinstance(doc.get("delta"), str):  # Responses
        ids = ("item_id", "output_index", "content_index", "summary_index")
        yield ("responses", kind, *(doc.get(k) for k in ids)), doc, "delta"
        return
    block = {"content_block_delta": "delta", "content_block_start": "content_block"}.get(kind)
    holder = doc.get(block) if block else None
    if isinstance(holder, dict):  # Anthropic
        for name in _ANTHROPIC_TEXT:
            if isinstance(holder.get(name), str):
                yield ("anthropic", doc.get("index"), name), holder, name
