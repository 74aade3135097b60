"""JSON checks: ``json`` (the output is JSON) and ``json_value`` (the value at a JSON Pointer)."""

from __future__ import annotations

import json as _std_json
import re
from dataclasses import dataclass
from typing import Any

from llmassert._checks._base import Check, Outcome, args_repr, register, require_bool, require_str
from llmassert._checks._format import quote
from llmassert._checks._output import text_of
from llmassert._errors import UsageError

__all__ = [
    "JSONParse",
    "json",
    "json_equal",
    "json_value",
    "parse_json",
    "resolve_pointer",
    "truncation_hint",
]

_FENCE = re.compile(r"```[ \t]*(?:json[c5]?|JSON)?[ \t]*\r?\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class JSONParse:
    """The result of parsing an output as JSON."""

    ok: bool
    value: Any = None
    #: ``(start, end)`` of the JSON text inside the output.
    span: tuple[int, int] | None = None
    #: When parsing failed: one-line error and the extra lines (caret excerpt, hints).
    error: str = ""
    notes: tuple[str, ...] = ()


def _where(full: str, at: int) -> tuple[str, tuple[str, ...]]:
    """``"line L, col C (char N)"`` of position ``at`` in ``full``, and the caret excerpt: that
    line with a ``^`` under the position (long lines cut around it)."""
    line_start = full.rfind("\n", 0, at) + 1
    line_end = full.find("\n", at)
    line_end = len(full) if line_end < 0 else line_end
    line = full[line_start:line_end]
    col = at - line_start
    lineno = full.count("\n", 0, at) + 1
    where = f"line {lineno}, col {col + 1} (char {at})"
    if len(line) > 80:
        cut = max(0, col - 40)
        line = ("..." if cut else "") + line[cut : cut + 80] + "..."
        col = col - cut + (3 if cut else 0)
    gutter = f"  {lineno} | "
    return where, (gutter + line, " " * (len(gutter) - 2) + "| " + " " * col + "^")


class _NonStandardConstant(ValueError):
    """``NaN`` / ``Infinity``: Python's json reads them, JSON (RFC 8259) does not allow them."""


def _reject_constant(name: str) -> Any:
    raise _NonStandardConstant(name)


_DECODER = _std_json.JSONDecoder(parse_constant=_reject_constant)


def _decode(full: str, start: int, end: int) -> JSONParse:
    """Parse ``full[start:end]`` as one JSON document; errors give positions in ``full``."""
    doc = full[start:end]
    try:
        value = _DECODER.decode(doc)
    except _NonStandardConstant as exc:
        name = str(exc)
        m = re.search(r"-?" + re.escape(name.lstrip("-")), doc)
        at = start + (m.start() if m else 0)
        msg = f"{name} is not valid JSON (use null or a string)"
    except _std_json.JSONDecodeError as exc:
        at, msg = start + exc.pos, exc.msg
    except RecursionError:
        return JSONParse(False, error="invalid JSON: nested too deeply to parse")
    else:
        return JSONParse(True, value=value, span=(start, end))
    where, caret = _where(full, at)
    return JSONParse(
        False,
        span=(at, at + 1),
        error=f"invalid JSON at {where}: {msg}",
        notes=(f"error: {msg} at {where}", *caret),
    )


def _strict_hints(text: str) -> tuple[str, ...]:
    if _FENCE.search(text):
        return ("hint: the JSON is wrapped in a ``` fence; use extract=True to accept that",)
    first = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if first > 0 and text[:first].strip():
        return (
            f"hint: the output has {first} chars of text before the JSON; use extract=True to "
            "accept that",
        )
    return ()


def parse_json(text: str, *, extract: bool = False) -> JSONParse:
    """Parse ``text`` as JSON: the whole text (strict), or with ``extract`` the first ```json
    fence or the first ``{...}`` / ``[...]`` value found in prose."""
    if not extract:
        if not text.strip():
            return JSONParse(False, error="the output is empty, not JSON")
        base = len(text) - len(text.lstrip())
        parsed = _decode(text, base, len(text.rstrip()))
        if not parsed.ok:
            hints = _strict_hints(text)
            return JSONParse(
                False, span=parsed.span, error=parsed.error, notes=parsed.notes + hints
            )
        return parsed
    for m in _FENCE.finditer(text):
        body = m.group(1)
        stripped = body.strip()
        base = m.start(1) + (len(body) - len(body.lstrip()))
        parsed = _decode(text, base, base + len(stripped))
        if parsed.ok or stripped[:1] in ("{", "["):
            return parsed
    decoder = _DECODER
    first_error: JSONParse | None = None
    for m in re.finditer(r"[\[{]", text):
        try:
            value, end = decoder.raw_decode(text, m.start())
        except ValueError:  # JSONDecodeError or a NaN / Infinity constant
            if first_error is None:
                first_error = _decode(text, m.start(), len(text.rstrip()))
            continue
        except RecursionError:
            continue
        return JSONParse(True, value=value, span=(m.start(), end))
    lead = len(text) - len(text.lstrip())
    whole = _decode(text, lead, len(text.rstrip())) if text.strip() else None
    if whole is not None and whole.ok:
        return whole
    if first_error is not None:
        return first_error
    return JSONParse(False, error="no JSON object or array found in the output")


def truncation_hint(output: object) -> tuple[str, ...]:
    """A hint when the response was cut off by its token limit (its JSON cannot be complete)."""
    if getattr(output, "finish_reason", None) == "length":
        return (
            "hint: the response was cut off by its token limit (finish_reason 'length'); "
            "raise max_tokens",
        )
    return ()


def _short_json(value: Any, limit: int = 60) -> str:
    text = _std_json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object with {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"the {type(value).__name__} {quote(_std_json.dumps(value), 40)}"


class _JSON(Check):
    name = "json"

    def __init__(self, extract: object) -> None:
        super().__init__()
        self.extract = require_bool("json", "extract", extract)
        self._args = args_repr(extract=self.extract or None)

    def expectation(self) -> str:
        if self.extract:
            return "to contain valid JSON (in a ```json fence or in the text)"
        return "to be valid JSON (the whole output)"

    def evaluate(self, output: object) -> Outcome:
        parsed = parse_json(text_of(output, self.name), extract=self.extract)
        if parsed.ok:
            return Outcome(
                True,
                f"valid JSON: {_describe(parsed.value)}",
                focus=parsed.span,
                value=parsed.value,
            )
        notes = parsed.notes + truncation_hint(output)
        return Outcome(False, parsed.error, notes=notes, focus=parsed.span)


@register("json")
def json(*, extract: bool = False) -> Check:
    """The whole output is valid JSON; with ``extract=True``, JSON found in a ```json fence or in
    prose is accepted. ``CheckResult.value`` is the parsed value."""
    return _JSON(extract)


# -- JSON Pointer (RFC 6901) ---------------------------------------------------------------
class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_MISSING: Any = _Unset()


def _pointer_tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise UsageError(
            f"check 'json_value': invalid JSON Pointer {pointer!r}: it must be '' (the whole "
            f"document) or start with '/', e.g. '/{pointer}'"
        )
    if re.search(r"~(?![01])", pointer):
        raise UsageError(
            f"check 'json_value': invalid JSON Pointer {pointer!r}: '~' must be escaped as '~0' "
            "('/' as '~1')"
        )
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def resolve_pointer(doc: Any, tokens: list[str]) -> tuple[bool, Any, str]:
    """``(found, value, why_not)`` for the RFC 6901 pointer ``tokens`` in ``doc``."""
    cur = doc
    path = ""
    for tok in tokens:
        if isinstance(cur, dict):
            if tok not in cur:
                keys = ", ".join(quote(str(k), 30) for k in list(cur)[:10]) or "none"
                return False, None, f"no key {tok!r} at {path or '/'} (keys there: {keys})"
            cur = cur[tok]
        elif isinstance(cur, list):
            if not re.fullmatch(r"0|[1-9][0-9]*", tok) or int(tok) >= len(cur):
                return False, None, f"no index {tok!r} at {path or '/'} (array of {len(cur)})"
            cur = cur[int(tok)]
        else:
            return False, None, f"{path or '/'} is {_describe(cur)}, not an object or array"
        path += "/" + tok.replace("~", "~0").replace("/", "~1")
    return True, cur, ""


class _JSONValue(Check):
    name = "json_value"

    def __init__(self, pointer: object, equals: Any, contains: Any, extract: object) -> None:
        super().__init__()
        self.pointer = require_str("json_value", "pointer", pointer, empty=True)
        self.tokens = _pointer_tokens(self.pointer)
        if equals is not _MISSING and contains is not _MISSING:
            raise UsageError("check 'json_value': give either equals= or contains=, not both")
        self.equals = equals
        self.contains = contains
        self.extract = require_bool("json_value", "extract", extract)
        kw: dict[str, Any] = {}
        if equals is not _MISSING:
            kw["equals"] = equals
        if contains is not _MISSING:
            kw["contains"] = contains
        self._args = args_repr(pointer, **kw, extract=self.extract or None)

    def expectation(self) -> str:
        where = f"the JSON value at {self.pointer or '(root)'!r}"
        if self.equals is not _MISSING:
            return f"to have {where} equal to {_short_json(self.equals)}"
        if self.contains is not _MISSING:
            return f"to have {where} contain {_short_json(self.contains)}"
        return f"to have {where}"

    def negated_expectation(self) -> str:
        return "not " + self.expectation()

    def evaluate(self, output: object) -> Outcome:
        parsed = parse_json(text_of(output, self.name), extract=self.extract)
        if not parsed.ok:
            notes = parsed.notes + truncation_hint(output)
            return Outcome(False, parsed.error, notes=notes, focus=parsed.span)
        found, value, why = resolve_pointer(parsed.value, self.tokens)
        if not found:
            return Outcome(False, why, focus=parsed.span)
        shown = _short_json(value)
        if self.equals is not _MISSING:
            ok = json_equal(value, self.equals)
            return Outcome(
                ok, f"the value at {self.pointer!r} is {shown}", value=value, focus=parsed.span
            )
        if self.contains is not _MISSING:
            ok = _contains(value, self.contains)
            return Outcome(
                ok, f"the value at {self.pointer!r} is {shown}", value=value, focus=parsed.span
            )
        return Outcome(
            True, f"the value at {self.pointer!r} is {shown}", value=value, focus=parsed.span
        )


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``true != 1``; objects and arrays compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, list):
        return any(json_equal(x, item) for x in container)
    if isinstance(container, dict):
        if isinstance(item, dict):
            return all(k in container and json_equal(container[k], v) for k, v in item.items())
        return item in container
    return False


@register("json_value")
def json_value(
    pointer: str, *, equals: Any = _MISSING, contains: Any = _MISSING, extract: bool = False
) -> Check:
    """The output is JSON and the value at the JSON Pointer ``pointer`` (RFC 6901, e.g.
    ``"/user/name"``, ``"/items/0"``) exists, equals ``equals``, or contains ``contains``
    (a substring of a string, an item of an array, a key - or a sub-mapping - of an object)."""
    return _JSONValue(pointer, equals, contains, extract)
