"""The result of running one check on one output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckResult"]


def _json_safe(value: object) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_json_safe(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


@dataclass(frozen=True)
class CheckResult:
    """What a check decided about one output. Truthy when the check passed.

    ``reason`` is one human sentence about what was observed; ``expected`` states what the
    check wanted (``"expected the output to contain 'Paris' (case-sensitive)"``); ``notes`` are
    the extra lines a failure message shows (schema errors, the closest match, a parse error
    with a caret); ``focus`` is the ``(start, end)`` character span of the output the failure is
    about, so long outputs are shown truncated around it. ``value`` carries what the check
    extracted, e.g. the parsed JSON of ``json`` or the match of ``regex``.
    """

    passed: bool
    reason: str
    #: The check's name as used in case files, e.g. ``contains`` or ``not_contains``.
    check: str
    score: float | None = None
    expected: str = ""
    notes: tuple[str, ...] = ()
    focus: tuple[int, int] | None = None
    value: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.passed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for reports (``value`` is left out: it may not be serialisable).
        API-key shapes in the texts are masked."""
        from llmassert._checks._pii import redact_secrets

        return {
            "check": self.check,
            "passed": self.passed,
            "score": self.score,
            "reason": redact_secrets(self.reason),
            "expected": redact_secrets(self.expected),
            "notes": [redact_secrets(n) for n in self.notes],
            "details": {k: v for k, v in self.details.items() if _json_safe(v)},
        }

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"{self.check} {verdict}: {self.reason}"

    def __repr__(self) -> str:
        score = "" if self.score is None else f", score={self.score:.3g}"
        return (
            f"CheckResult({self.check} {'passed' if self.passed else 'failed'}{score}: "
            f"{self.reason!r})"
        )
