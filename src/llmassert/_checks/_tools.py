"""``tool_call``: the response called a tool, optionally with arguments matching a schema."""

from __future__ import annotations

import json as _std_json
from collections.abc import Mapping
from typing import Any

from llmassert._checks._base import Check, Outcome, args_repr, register, require_str
from llmassert._checks._json import json_equal
from llmassert._checks._output import response_attr
from llmassert._checks._schema import compile_schema, schema_errors
from llmassert._errors import UsageError

__all__ = ["tool_call"]


class _ToolCall(Check):
    name = "tool_call"
    subject = "the response"

    def __init__(self, name: object, schema: object, arguments: object) -> None:
        super().__init__()
        self.tool = require_str("tool_call", "name", name)
        self.validator = compile_schema(schema, "tool_call") if schema is not None else None
        if arguments is not None and not isinstance(arguments, Mapping):
            raise UsageError(
                f"check 'tool_call': argument 'arguments' must be a dict of expected argument "
                f"values, got {arguments!r}"
            )
        self.arguments: Mapping[str, Any] | None = arguments
        self._args = args_repr(
            name, schema="<schema>" if schema is not None else None, arguments=arguments
        )

    def expectation(self) -> str:
        extra = []
        if self.validator is not None:
            extra.append("arguments matching the schema")
        if self.arguments:
            extra.append(f"arguments including {_std_json.dumps(self.arguments)[:80]}")
        return f"to call the tool {self.tool!r}" + (f" with {' and '.join(extra)}" if extra else "")

    def evaluate(self, output: object) -> Outcome:
        calls = tuple(response_attr(output, "tool_calls", self.name) or ())
        if not calls:
            return Outcome(False, "the response called no tool")
        matching = [c for c in calls if getattr(c, "name", None) == self.tool]
        if not matching:
            names = ", ".join(repr(getattr(c, "name", c)) for c in calls)
            return Outcome(False, f"the response called {names}, not {self.tool!r}")
        problems: list[str] = []
        for call in matching:
            args = getattr(call, "arguments", None) or {}
            raw = getattr(call, "arguments_json", None)
            if not args and isinstance(raw, str) and raw.strip() not in ("", "{}"):
                # The parsed arguments are empty but the model wrote something: parse it here
                # so that invalid JSON is reported rather than checked as {}.
                try:
                    args = _std_json.loads(raw)
                except ValueError as exc:
                    problems.append(f"  - its arguments are not valid JSON ({exc}): {raw[:80]!r}")
                    continue
            errs = schema_errors(self.validator, args) if self.validator is not None else []
            wrong = [
                f"argument {k!r} is {_std_json.dumps(args.get(k, '<missing>'))}, expected "
                f"{_std_json.dumps(v)}"
                for k, v in (self.arguments or {}).items()
                if not isinstance(args, Mapping) or k not in args or not json_equal(args[k], v)
            ]
            if not errs and not wrong:
                return Outcome(
                    True, f"called {self.tool!r} with {_std_json.dumps(args)[:100]}", value=call
                )
            problems.extend([f"  - {e}" for e in errs] + [f"  - {w}" for w in wrong])
        return Outcome(
            False,
            f"called {self.tool!r} but its arguments do not match",
            notes=(f"{self.tool!r} was called but its arguments do not match:", *problems),
        )


@register("tool_call")
def tool_call(
    name: str,
    *,
    schema: Mapping[str, Any] | None = None,
    arguments: Mapping[str, Any] | None = None,
) -> Check:
    """The response called the tool ``name``; with ``schema``, its arguments are valid against
    that JSON Schema; with ``arguments``, they include those values."""
    return _ToolCall(name, schema, arguments)
