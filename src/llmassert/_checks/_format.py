"""Rendering failure messages: what was expected, the output (truncated around the part that
matters) and why the check failed."""

from __future__ import annotations

from llmassert._checks._output import is_response
from llmassert._checks._result import CheckResult

__all__ = ["excerpt", "failure_message", "output_line", "quote"]

#: The most characters of an output a failure message shows.
EXCERPT_CHARS = 200


def quote(text: str, limit: int = 60) -> str:
    """``repr`` of a short value, shortened in the middle when long."""
    if len(text) > limit:
        half = (limit - 5) // 2
        text = f"{text[:half]} ... {text[-half:]}"
    return repr(text)


def excerpt(
    text: str, focus: tuple[int, int] | None = None, limit: int = EXCERPT_CHARS
) -> tuple[int, int, str]:
    """The window ``(start, end, quoted)`` of ``text`` to show: all of it when short, else
    ``limit`` characters around ``focus`` (or the start), with ``...`` where it was cut."""
    n = len(text)
    if n <= limit * 3 // 2:  # cutting a few characters would hide more than it saves
        return 0, n, repr(text)
    if focus is None:
        start = 0
    else:
        a, b = focus
        b = min(max(a, b), a + limit)
        start = max(0, min(n - limit, (a + b) // 2 - limit // 2))
    end = min(n, start + limit)
    body = repr(text[start:end])
    q, inner = body[0], body[1:-1]
    if start > 0:
        inner = "... " + inner
    if end < n:
        inner += " ..."
    return start, end, f"{q}{inner}{q}"


def output_line(text: str, focus: tuple[int, int] | None = None, label: str = "output") -> str:
    start, end, shown = excerpt(text, focus)
    n = len(text)
    if start == 0 and end == n:
        return f"{label} ({n:,} chars): {shown}"
    return f"{label} ({n:,} chars, showing {start:,}-{end:,}): {shown}"


def _redact(text: str, check: str) -> str:
    """Secrets never reach a message; a PII check's findings are masked too."""
    from llmassert._checks._pii import mask_pii

    return mask_pii(text) if check in ("pii", "not_pii") else text


def failure_message(helper: str, result: CheckResult, output: object) -> str:
    """The message an ``assert_*`` helper raises with."""
    text = output if isinstance(output, str) else getattr(output, "text", "")
    lines = [f"{helper} failed: {result.expected}"]
    if isinstance(text, str):
        lines.append(output_line(_redact(text, result.check), result.focus))
    if is_response(output):
        refusal = getattr(output, "refusal", None)
        if refusal:
            lines.append(f"provider refusal: {quote(str(refusal), 120)}")
        calls = getattr(output, "tool_calls", ()) or ()
        if calls:
            names = ", ".join(str(getattr(c, "name", c)) for c in calls)
            lines.append(f"tool calls: {names}")
    if result.notes:
        lines.extend(result.notes)
    else:
        lines.append(f"reason: {result.reason}")
    from llmassert._checks._pii import redact_secrets

    return redact_secrets("\n".join(lines))
