"""``custom``: any Python callable becomes a check."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from llmassert._checks._base import Check, Outcome, register
from llmassert._checks._result import CheckResult
from llmassert._errors import UsageError

__all__ = ["custom"]


def _resolve(fn: object) -> Callable[[Any], Any]:
    if callable(fn):
        return fn
    if isinstance(fn, str) and ":" in fn:
        module, _, attr = fn.partition(":")
        try:
            target: Any = importlib.import_module(module)
            for part in attr.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as exc:
            raise UsageError(
                f"check 'custom': cannot import {fn!r} ({exc}); use 'package.module:function'"
            ) from None
        if callable(target):
            return target  # type: ignore[no-any-return]
    raise UsageError(
        f"check 'custom': argument 'fn' must be a callable or an import path "
        f"'package.module:function', got {fn!r}"
    )


class _Custom(Check):
    name = "custom"

    def __init__(self, fn: object, name: object, description: object) -> None:
        super().__init__()
        self.fn = _resolve(fn)
        label = name if name is not None else getattr(self.fn, "__name__", "custom check")
        if not isinstance(label, str) or not label:
            raise UsageError(f"check 'custom': argument 'name' must be a string, got {name!r}")
        self.label = label
        if description is not None and not isinstance(description, str):
            raise UsageError(
                f"check 'custom': argument 'description' must be a string, got {description!r}"
            )
        self.description = description
        self._args = repr(fn) if isinstance(fn, str) else self.label

    def expectation(self) -> str:
        return self.description or f"to satisfy {self.label}"

    def negated_expectation(self) -> str:
        return f"not {self.description}" if self.description else f"not to satisfy {self.label}"

    def evaluate(self, output: object) -> Outcome:
        got = self.fn(output)
        if isinstance(got, CheckResult):
            return Outcome(
                got.passed,
                got.reason,
                notes=got.notes,
                focus=got.focus,
                score=got.score,
                value=got.value,
                details=got.details,
            )
        if isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], bool):
            ok, reason = got
            return Outcome(ok, str(reason) or f"{self.label} returned {ok}")
        if isinstance(got, bool):
            return Outcome(got, f"{self.label} returned {got}")
        raise UsageError(
            f"custom check {self.label!r} returned {got!r}; it must return a bool, a "
            "(bool, reason) tuple or a CheckResult"
        )


@register("custom")
def custom(
    fn: Callable[[Any], Any] | str, *, name: str | None = None, description: str | None = None
) -> Check:
    """Turn ``fn(output)`` - returning ``bool``, ``(bool, reason)`` or a ``CheckResult`` - into a
    check. ``fn`` may be an import path ``"package.module:function"`` (for case files).
    ``description`` is the expectation shown on failure, e.g. ``"to be polite"``."""
    return _Custom(fn, name, description)
