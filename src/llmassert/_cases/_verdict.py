"""Judging one case: run its checks on a response, and the failure message (the rendered
prompt, the output and every failing check's message, as the assertion helpers show them)."""

from __future__ import annotations

from collections.abc import Sequence

from llmassert._cases._file import Case
from llmassert._checks._format import output_line, quote
from llmassert._checks._result import CheckResult
from llmassert._response import Response

__all__ = ["case_failure", "failed_checks", "failure_lines", "prompt_lines", "run_checks"]

#: The most characters of a prompt part a failure message shows.
PROMPT_CHARS = 300


def run_checks(case: Case, response: Response) -> list[CheckResult]:
    """Every check of ``case`` on ``response``, in the order the file gives them (a ``judge``
    check sees the case's system prompt and input)."""
    from llmassert._checks._judge import case_parts

    with case_parts(case.system, case.prompt):
        return [check(response) for check in case.checks]


def failed_checks(results: Sequence[CheckResult]) -> list[CheckResult]:
    return [result for result in results if not result.passed]


def prompt_lines(case: Case) -> list[str]:
    """The rendered prompt, one line per part (long parts shortened in the middle)."""
    lines = []
    if case.system is not None:
        lines.append(f"system: {quote(case.system, PROMPT_CHARS)}")
    if isinstance(case.prompt, str):
        lines.append(f"prompt: {quote(case.prompt, PROMPT_CHARS)}")
    else:
        for message in case.prompt:
            lines.append(f"{message['role']}: {quote(message['content'], PROMPT_CHARS)}")
    return lines


def failure_lines(response: Response, failures: Sequence[CheckResult]) -> list[str]:
    """The output and each failing check: what it expected and why it failed."""
    focus = failures[0].focus if len(failures) == 1 else None
    lines = [output_line(response.text, focus)]
    if response.refusal:
        lines.append(f"provider refusal: {quote(str(response.refusal), 120)}")
    for result in failures:
        lines.append(f"- {result.check} failed: {result.expected}")
        notes = list(result.notes) or [f"reason: {result.reason}"]
        lines += [f"    {note}" for note in notes]
    return lines


def case_failure(case: Case, spec: str, response: Response) -> str | None:
    """The failure message of ``case`` on ``response`` (``None`` when every check passes)."""
    failures = failed_checks(run_checks(case, response))
    if not failures:
        return None
    lines = [f"case {case.id!r} on {spec}: {len(failures)} of {len(case.checks)} checks failed"]
    lines += prompt_lines(case) + failure_lines(response, failures)
    from llmassert._checks._pii import redact_secrets

    return redact_secrets("\n".join(lines))
