"""Rules files: the test server's scripted behaviour as YAML.

::

    rules:
      - name: capital
        prompt_regex: "capital of France"
        reply: Paris
      - model: gpt-4o-mini
        reply: {json: {"sentiment": "positive"}}
      - prompt: "weather?"
        reply:
          tool_calls: [{name: get_weather, arguments: {city: Paris}}]
      - api: embeddings
        fault: {latency_s: 0.05, fail_times: 2, fail_with: {status: 503}}
      - model: broken
        error: {status: 429, retry_after: 1}

A top-level list of rules is accepted too. Each rule's keys: ``name``, ``model``, ``prompt``,
``prompt_regex``, ``api``, ``provider``, ``times``, ``reply`` (a string, or a mapping of
:class:`Reply` fields), ``error`` (a mapping of :class:`ErrorReply` fields), ``fault`` (a mapping
of :class:`Fault` fields; ``fail_with`` a mapping of ErrorReply fields), and the Python callables
of a rule as import paths ``"package.module:function"``: ``when`` (a predicate on the
:class:`ServerRequest`) and ``reply_from`` (computes the reply from the request). A rule without
``reply``, ``reply_from`` or ``error`` echoes the prompt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from llmassert._errors import ConfigError
from llmassert.testing._fault import Fault
from llmassert.testing._reply import ErrorReply, Reply, ReplyToolCall
from llmassert.testing._rules import ReplySpec, Rule

__all__ = ["load_rules", "rules_from_data"]

_RULE_KEYS = (
    "name",
    "model",
    "prompt",
    "prompt_regex",
    "api",
    "provider",
    "times",
    "reply",
    "reply_from",
    "error",
    "fault",
    "when",
)

_T = TypeVar("_T")


def _is_path(source: str | os.PathLike[str]) -> bool:
    if isinstance(source, os.PathLike):
        return True
    if "\n" in source or not source.strip():
        return False
    return source.endswith((".yaml", ".yml")) or Path(source).is_file()


def load_rules(source: str | os.PathLike[str]) -> list[Rule]:
    """Rules from a YAML file (a path) or YAML text.

    Errors raise :class:`~llmassert.ConfigError` naming the file, the rule index and the field.
    """
    import yaml

    folder = Path.cwd()
    if _is_path(source):
        path = Path(source)
        where = str(path)
        folder = path.resolve().parent
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"rules file {where}: not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"rules file {where}: cannot be read: {exc}") from None
    else:
        where, text = "<rules text>", str(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"rules file {where}:{line}: invalid YAML ({problem}); fix the syntax"
        ) from None
    return rules_from_data(data, where, folder=folder)


def rules_from_data(
    data: Any, where: str = "<rules>", *, folder: str | os.PathLike[str] | None = None
) -> list[Rule]:
    """Rules from already-parsed data (``{"rules": [...]}`` or a list of rule mappings).

    Import paths (``when``, ``reply_from``) whose module is not importable are also looked
    for in ``folder`` (the rules file's folder) and then the current directory."""
    folders = [Path(folder)] if folder is not None else []
    folders.append(Path.cwd())
    if data is None:
        return []
    if isinstance(data, Mapping):
        extra = sorted(set(data) - {"rules"})
        if extra:
            raise ConfigError(
                f"rules file {where}: unknown top-level key(s) {', '.join(map(str, extra))}; "
                "expected only 'rules' (a list of rules)"
            )
        data = data.get("rules") or []
    if not isinstance(data, list):
        raise ConfigError(
            f"rules file {where}: expected a list of rules (or a mapping with 'rules'), "
            f"got {type(data).__name__}"
        )
    return [
        _rule(item, f"rules file {where}: rule {index}", folders) for index, item in enumerate(data)
    ]


def _rule(item: Any, where: str, folders: list[Path]) -> Rule:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a mapping of rule fields, got {item!r}")
    name = item.get("name")
    if name is not None:
        where = f"{where} ({name!r})"
    unknown = sorted(str(k) for k in item if k not in _RULE_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(_RULE_KEYS)}"
        )
    given = [key for key in ("reply", "reply_from", "error") if key in item]
    if len(given) > 1:
        raise ConfigError(f"{where}: give only one of 'reply', 'reply_from', 'error'")
    reply: ReplySpec = None
    if item.get("reply_from") is not None:
        reply = _callable(item["reply_from"], f"{where}: reply_from", folders)
    elif item.get("error") is not None:
        reply = _build(ErrorReply, item["error"], f"{where}: error")
    elif isinstance(item.get("reply"), str):
        reply = str(item["reply"])
    elif item.get("reply") is not None:
        reply = _reply(item["reply"], f"{where}: reply")
    fault = _fault(item["fault"], f"{where}: fault") if item.get("fault") is not None else None
    for key in ("model", "prompt", "prompt_regex", "api", "provider", "name"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise ConfigError(f"{where}: {key} must be a string, got {item[key]!r}")
    try:
        return Rule(
            reply,
            model=item.get("model"),
            prompt=item.get("prompt"),
            prompt_regex=item.get("prompt_regex"),
            api=item.get("api"),
            provider=item.get("provider"),
            times=item.get("times"),
            when=_callable(item["when"], f"{where}: when", folders)
            if item.get("when") is not None
            else None,
            fault=fault,
            name=name,
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _import(name: str, folders: list[Path]) -> Any:
    """``importlib.import_module(name)``; when its top-level package is not found, retried with
    ``folders`` at the front of ``sys.path`` (for the duration of the import only)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name.partition(".")[0] or not folders:
            raise
    added = [str(f) for f in folders if str(f) not in sys.path]
    sys.path[:0] = added
    try:
        return importlib.import_module(name)
    finally:
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)


def _callable(path: Any, where: str, folders: list[Path]) -> Callable[..., Any]:
    """The function an import path ``"package.module:function"`` names."""
    if not isinstance(path, str) or ":" not in path:
        raise ConfigError(
            f"{where}: expected an import path 'package.module:function', got {path!r}"
        )
    module_name, _, attribute = path.partition(":")
    try:
        target: Any = _import(module_name, folders)
        for part in attribute.split("."):
            target = getattr(target, part)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: cannot import {module_name!r} ({exc}); put it next to the rules file, "
            "in the current folder or on PYTHONPATH"
        ) from None
    except AttributeError:
        raise ConfigError(f"{where}: module {module_name!r} has no {attribute!r}") from None
    if not callable(target):
        raise ConfigError(f"{where}: {path!r} is not callable")
    return target  # type: ignore[no-any-return]


def _reply(value: Any, where: str) -> Reply:
    if isinstance(value, str):
        return Reply(text=value)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a string or a mapping of Reply fields, got {value!r}")
    fields = dict(value)
    if fields.get("tool_calls") is not None:
        calls = fields["tool_calls"]
        if not isinstance(calls, list):
            raise ConfigError(f"{where}: tool_calls must be a list of {{name, arguments}}")
        fields["tool_calls"] = tuple(
            _build(ReplyToolCall, call, f"{where}: tool_calls[{i}]") for i, call in enumerate(calls)
        )
    if fields.get("error") is not None:
        fields["error"] = _build(ErrorReply, fields["error"], f"{where}: error")
    if fields.get("choices") is not None:
        choices = fields["choices"]
        if not isinstance(choices, list):
            raise ConfigError(f"{where}: choices must be a list of replies")
        fields["choices"] = tuple(
            _reply(choice, f"{where}: choices[{i}]") for i, choice in enumerate(choices)
        )
    return _build(Reply, fields, where)


def _fault(value: Any, where: str) -> Fault:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of Fault fields, got {value!r}")
    fields = dict(value)
    if fields.get("fail_with") is not None:
        fields["fail_with"] = _build(ErrorReply, fields["fail_with"], f"{where}: fail_with")
    return _build(Fault, fields, where)


def _build(cls: type[_T], value: Any, where: str) -> _T:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of {cls.__name__} fields, got {value!r}")
    valid = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in value if k not in valid)
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(valid)}"
        )
    try:
        return cls(**value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
