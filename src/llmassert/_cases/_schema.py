"""The JSON Schema of case files (shipped as package data) and readable validation messages
naming file, line and field."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

from llmassert._cases._yaml import line_of

__all__ = ["SCHEMA_FILE", "case_errors", "field_name", "file_errors", "load_schema"]

#: The schema's file name inside the package (``llmassert/_cases/``).
SCHEMA_FILE = "case-file.schema.json"
_MAX_ERRORS = 10

_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "null",
}


@functools.lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The case-file JSON Schema (from the installed package)."""
    text = resources.files("llmassert._cases").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.lru_cache(maxsize=2)
def _validator(part: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = load_schema()
    if part != "file":
        schema = {**schema["$defs"][part], "$defs": schema["$defs"]}
    return Draft202012Validator(schema)


def field_name(path: Iterable[Any]) -> str:
    """``cases[0].checks[1]`` for the path ``["cases", 0, "checks", 1]``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _message(error: Any) -> tuple[list[Any], str]:
    """(path of the offending value, message) for one jsonschema error."""
    path = list(error.absolute_path)
    schema, value, kind = error.schema, error.instance, error.validator
    last = path[-1] if path else None
    if kind == "additionalProperties" and isinstance(value, Mapping):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(str(k) for k in value if k not in schema.get("properties", {}))
        key = extra[0]
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return [*path, key], f"unknown key {key!r}{hint}; valid keys: {', '.join(allowed)}"
    if kind == "required":
        missing = [k for k in error.validator_value if k not in value]
        return path, f"missing required key {missing[0]!r}"
    if kind == "type":
        wanted = error.validator_value
        names = [wanted] if isinstance(wanted, str) else list(wanted)
        return path, f"must be {' or '.join(_TYPES.get(n, n) for n in names)}, got {_kind(value)}"
    if kind in ("minItems", "minLength") and error.validator_value == 1:
        return path, "must not be empty"
    if kind in ("minProperties", "maxProperties"):
        return path, (
            "a check is one name or a one-key mapping, e.g. `- contains: Paris`; put each "
            f"check in its own list item (got {len(value)} keys: {', '.join(map(str, value))})"
        )
    if kind == "anyOf" and last == "cases":
        return path, (
            "must be a list of cases or the path of a .jsonl / .csv file of vars, got "
            f"{_kind(value)}"
        )
    if (
        kind == "anyOf"
        and isinstance(schema.get("description"), str)
        and "check" in str(schema.get("description"))
    ):
        return path, (
            "a check is a name (`- not_refusal`) or a one-key mapping (`- contains: Paris`), "
            f"got {_kind(value)}"
        )
    if kind == "enum":
        return path, f"must be one of {', '.join(map(repr, error.validator_value))}, got {value!r}"
    if kind == "minimum":
        return path, f"must be >= {error.validator_value}, got {value!r}"
    if kind == "maximum":
        return path, f"must be <= {error.validator_value}, got {value!r}"
    if kind == "exclusiveMinimum":
        return path, f"must be > {error.validator_value}, got {value!r}"
    if kind == "exclusiveMaximum":
        return path, f"must be < {error.validator_value}, got {value!r}"
    if kind == "pattern" and path and path[-2:-1] == ["marks"]:
        return path, f"a mark name must be a Python identifier, got {value!r}"
    return path, str(error.message)


def _leaves(errors: Iterable[Any]) -> Iterator[Any]:
    """The errors to show: an ``anyOf`` whose value has the type of one branch is explained by
    that branch's own errors (a list of cases with a bad case names the bad field)."""
    for error in errors:
        if error.validator != "anyOf" or not error.context:
            yield error
            continue
        branches: dict[int, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [
            subs
            for subs in branches.values()
            if not any(sub.validator in ("type", "const") and not sub.relative_path for sub in subs)
        ]
        if len(fitting) == 1:
            yield from _leaves(fitting[0])
        else:
            yield error


def _errors(part: str, tree: Any, root: Any, prefix: list[Any]) -> list[tuple[int, str]]:
    found = []
    for error in _leaves(_validator(part).iter_errors(tree)):
        path, message = _message(error)
        full = [*prefix, *path]
        found.append((line_of(root, full), f"{field_name(full)}: {message}"))
    found.sort()
    return found[:_MAX_ERRORS]


def file_errors(tree: Any) -> list[tuple[int, str]]:
    """``(line, "field: message")`` for every schema violation of a whole case file."""
    return _errors("file", tree, tree, [])


def case_errors(case: Any) -> list[tuple[int, str]]:
    """The same for one case object (a ``.jsonl`` row with a ``vars`` key)."""
    return _errors("case", case, case, [])
