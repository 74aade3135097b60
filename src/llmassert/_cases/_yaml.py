"""Safe YAML loading that remembers where every mapping key and list item is (for messages
naming file, line and field). Only the safe YAML types are built: no Python tags."""

from __future__ import annotations

from typing import Any

import yaml

from llmassert._errors import ConfigError

__all__ = ["LineDict", "LineList", "line_of", "load_yaml"]

#: The pure-Python safe loader: libyaml accepts some documents the YAML spec (and editors)
#: reject, such as a "?" inside a flow mapping; a case file means the same everywhere.
_Base: Any = yaml.SafeLoader


class LineDict(dict[Any, Any]):
    """A mapping from YAML: ``line`` is where it starts, ``lines[key]`` where each key is."""

    line: int = 0
    lines: dict[Any, int]


class LineList(list[Any]):
    """A sequence from YAML: ``line`` is where it starts, ``lines[i]`` where item ``i`` is."""

    line: int = 0
    lines: list[int]


class _Loader(_Base):  # type: ignore[misc]
    pass


def _mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ConfigError(
                f"line {key_node.start_mark.line + 1}: a mapping key must be a plain value"
            ) from None
        if key in result:
            raise ConfigError(
                f"line {key_node.start_mark.line + 1}: duplicate key {key!r} (first on line "
                f"{result.lines[key]})"
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_yaml(text: str) -> Any:
    """Parse one YAML document safely; raises :class:`ConfigError` with the line on a syntax
    error, a Python tag or a duplicate key."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = exc.problem or str(exc)
        if "could not determine a constructor" in (exc.problem or ""):
            problem += " (only plain YAML is allowed: no Python tags)"
        raise ConfigError(f"{where}invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}") from None


def line_of(root: Any, path: list[Any] | tuple[Any, ...]) -> int:
    """The line of the value at ``path`` (keys / indices) in a tree from :func:`load_yaml`: the
    line of its key or item when known, else of the closest enclosing node."""
    line = getattr(root, "line", 0)
    node = root
    for step in path:
        lines = getattr(node, "lines", None)
        if isinstance(node, LineDict) and lines is not None and step in lines:
            line = lines[step]
        elif isinstance(node, LineList) and lines is not None and isinstance(step, int):
            if 0 <= step < len(lines):
                line = lines[step]
        else:
            break
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return line
