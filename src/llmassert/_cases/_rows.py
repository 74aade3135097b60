"""Streaming the rows of a ``.jsonl`` / ``.csv`` case table, one at a time (a 100k-row table is
never held as a tree)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmassert._errors import ConfigError

__all__ = ["iter_rows"]


def iter_rows(path: Path, shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` for every row of ``path``; ``shown`` is the name used in messages.
    Blank ``.jsonl`` lines are skipped; a ``.csv`` row's values are strings."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the cases file: {exc.strerror or exc}") from None
    with handle:
        if path.suffix.lower() == ".csv":
            yield from _csv_rows(handle, shown)
        else:
            yield from _jsonl_rows(handle, shown)


def _jsonl_rows(handle: Any, shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{shown}:{number}: invalid JSON: {exc}") from None
        if not isinstance(row, dict):
            raise ConfigError(
                f"{shown}:{number}: each line must be a JSON object of vars, got "
                f"{type(row).__name__}"
            )
        yield number, row


def _csv_rows(handle: Any, shown: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ConfigError(f"{shown}:1: invalid CSV: {exc}") from None
    names = [name.strip() for name in header]
    empty = [i + 1 for i, name in enumerate(names) if not name]
    if empty:
        raise ConfigError(f"{shown}:1: column {empty[0]} of the header row has no name")
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ConfigError(f"{shown}:{start}: invalid CSV: {exc}") from None
        if not values:
            continue
        if len(values) != len(names):
            raise ConfigError(
                f"{shown}:{start}: {len(values)} values for {len(names)} columns "
                f"({', '.join(names)})"
            )
        yield start, dict(zip(names, values, strict=True))
