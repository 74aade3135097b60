"""``matches_schema``: the output is JSON valid against a JSON Schema (via ``jsonschema``)."""

from __future__ import annotations

import json as _std_json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmassert._checks._base import Check, Outcome, args_repr, register, require_bool
from llmassert._checks._format import quote
from llmassert._checks._json import parse_json, truncation_hint
from llmassert._checks._output import describe_type, text_of
from llmassert._errors import UsageError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = ["compile_schema", "matches_schema", "schema_errors"]

#: How many schema errors a failure message lists.
MAX_ERRORS = 10


def _load_schema(schema: object, check: str) -> Any:
    if isinstance(schema, Mapping | bool):
        return schema
    if isinstance(schema, str | os.PathLike):
        path = Path(schema)
        if not path.is_file():
            raise UsageError(
                f"check {check!r}: schema file {str(path)!r} not found; pass a schema dict or "
                "the path of a .json / .yaml schema file"
            )
        raw = path.read_text(encoding="utf-8")
        try:
            if path.suffix.lower() in {".yaml", ".yml"}:
                import yaml

                return yaml.safe_load(raw)
            return _std_json.loads(raw)
        except Exception as exc:  # any parse error of the schema file is the user's to fix
            raise UsageError(
                f"check {check!r}: schema file {str(path)!r} is not valid "
                f"{'YAML' if path.suffix.lower() in {'.yaml', '.yml'} else 'JSON'}: {exc}"
            ) from None
    raise UsageError(
        f"check {check!r}: argument 'schema' must be a JSON Schema (a dict) or a schema file "
        f"path, got {describe_type(schema)}"
    )


@lru_cache(maxsize=256)
def _compile(key: str) -> Validator:
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import SchemaError

    schema = _std_json.loads(key)
    cls = validators.validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        raise UsageError(
            f"invalid JSON Schema ({cls.__name__}) at {'/' + where if where else 'the root'}: "
            f"{exc.message}; fix the schema"
        ) from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def compile_schema(schema: object, check: str = "matches_schema") -> Validator:
    """A validator for ``schema`` (Draft 2020-12 unless ``$schema`` says otherwise), checked
    and compiled once and cached. An invalid schema raises :class:`UsageError`."""
    loaded = _load_schema(schema, check)
    try:
        key = _std_json.dumps(loaded, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"check {check!r}: the schema is not JSON-serialisable: {exc}") from None
    try:
        return _compile(key)
    except UsageError as exc:
        raise UsageError(f"check {check!r}: {exc}") from None


def schema_errors(validator: Validator, instance: Any) -> list[str]:
    """Every validation error as ``"$.path: message"``, the most relevant first."""
    from jsonschema.exceptions import best_match, relevance

    errors = list(validator.iter_errors(instance))
    if not errors:
        return []
    best = best_match(errors)
    ordered = sorted(errors, key=relevance, reverse=True)
    if best is not None and best not in ordered:
        ordered.insert(0, best)
    elif best is not None:
        ordered.remove(best)
        ordered.insert(0, best)
    return [f"{e.json_path}: {_short(e.message)}" for e in ordered]


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 4] + " ..."


def _locate(text: str, span: tuple[int, int] | None, first_error: str) -> tuple[int, int] | None:
    """Where in the text the first error's key is (for truncation), else the JSON's start."""
    path = first_error.split(":", 1)[0]
    keys = re.findall(r"\.([A-Za-z_][\w-]*)|\['([^']*)'\]", path)
    if keys:
        last = keys[-1][0] or keys[-1][1]
        at = text.find(_std_json.dumps(last), span[0] if span else 0)
        if at >= 0:
            return (at, at + len(last) + 2)
    return span


class _MatchesSchema(Check):
    name = "matches_schema"

    def __init__(self, schema: object, extract: object) -> None:
        super().__init__()
        self.validator = compile_schema(schema)
        self.extract = require_bool("matches_schema", "extract", extract)
        self._args = args_repr(
            schema if isinstance(schema, str | os.PathLike) else "<schema>",
            extract=self.extract or None,
        )
        title = (
            self.validator.schema.get("title")
            if isinstance(self.validator.schema, Mapping)
            else None
        )
        self.title = f" {quote(str(title), 40)}" if title else ""

    def expectation(self) -> str:
        return f"to be JSON matching the schema{self.title}"

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        parsed = parse_json(text, extract=self.extract)
        if not parsed.ok:
            parse_notes = parsed.notes + truncation_hint(output)
            return Outcome(False, parsed.error, notes=parse_notes, focus=parsed.span)
        errors = schema_errors(self.validator, parsed.value)
        if not errors:
            return Outcome(
                True, "the JSON matches the schema", value=parsed.value, focus=parsed.span
            )
        n = len(errors)
        notes = [f"{n} schema error{'s' if n != 1 else ''} (most relevant first):"]
        notes += [f"  - {e}" for e in errors[:MAX_ERRORS]]
        if n > MAX_ERRORS:
            notes.append(f"  ... and {n - MAX_ERRORS} more")
        return Outcome(
            False,
            f"{n} schema error{'s' if n != 1 else ''}, first: {errors[0]}",
            notes=tuple(notes),
            focus=_locate(text, parsed.span, errors[0]),
            value=parsed.value,
            details={"errors": errors},
        )


@register("matches_schema")
def matches_schema(
    schema: Mapping[str, Any] | bool | str | Path, *, extract: bool = False
) -> Check:
    """The output is JSON valid against ``schema`` (a dict, or a .json/.yaml file path).

    Draft 2020-12 unless the schema's ``$schema`` names another draft; ``format`` is checked.
    ``extract=True`` accepts JSON inside a ```json fence or prose, like ``json``.
    """
    return _MatchesSchema(schema, extract)
