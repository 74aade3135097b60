"""The ``assert_*`` helpers, generated from one rule: for every check ``<name>`` there are
``assert_<name>(output, *args, **kwargs)`` and ``assert_not_<name>(output, ...)``.

Each builds the check, runs it and raises :class:`llmassert.LLMAssertionError` with a readable
message when it fails; it returns the :class:`CheckResult` when it passes (e.g. the parsed JSON
is ``assert_json(reply).value``). Bad arguments raise :class:`llmassert.UsageError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from llmassert._checks._base import Check
from llmassert._checks._base import check as by_name
from llmassert._checks._custom import custom
from llmassert._checks._format import failure_message
from llmassert._checks._json import json, json_value
from llmassert._checks._judge import judge, semantic_similar
from llmassert._checks._length import length
from llmassert._checks._pii import pii
from llmassert._checks._refusal import refusal
from llmassert._checks._result import CheckResult
from llmassert._checks._runtime import cost, finish_reason, latency, tokens
from llmassert._checks._schema import matches_schema
from llmassert._checks._similarity import similar
from llmassert._checks._text import (
    contains,
    contains_all,
    contains_any,
    ends_with,
    equals,
    icontains,
    regex,
    starts_with,
)
from llmassert._checks._tools import tool_call
from llmassert._errors import LLMAssertionError, UsageError

P = ParamSpec("P")

AssertHelper = Callable[Concatenate[object, P], CheckResult]


def _build(
    factory: Callable[..., Check], helper: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Check:
    try:
        return factory(*args, **kwargs)
    except TypeError as exc:
        try:
            inspect.signature(factory).bind(*args, **kwargs)
        except TypeError:
            sig = inspect.signature(factory)
            plain = sig.replace(
                parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()],
                return_annotation=sig.empty,
            )
            usage = f"{helper}(output, {str(plain)[1:]}" if sig.parameters else f"{helper}(output)"
            raise UsageError(f"{helper}: {exc}; usage: {usage}") from None
        raise


def _asserter(factory: Callable[P, Check], *, negate: bool = False) -> AssertHelper[P]:
    base = factory.__name__
    helper = f"assert_not_{base}" if negate else f"assert_{base}"

    def run(output: object, /, *args: P.args, **kwargs: P.kwargs) -> CheckResult:
        __tracebackhide__ = True
        try:
            check = _build(factory, helper, args, kwargs)
            if negate:
                check = check.negate()
            result = check(output)
        except UsageError as exc:
            raise exc.with_traceback(None) from None
        if not result.passed:
            raise LLMAssertionError(failure_message(helper, result, output), result=result)
        return result

    run.__name__ = run.__qualname__ = helper
    run.__module__ = "llmassert"
    what = "fails" if negate else "passes"
    run.__doc__ = (
        f"Assert that the check ``{base}`` {what} on ``output`` (see ``llmassert.{base}``).\n\n"
        f"Raises ``LLMAssertionError`` with the output, the expectation and the reason "
        f"otherwise; returns the ``CheckResult``.\n\n{factory.__doc__ or ''}"
    )
    return run


assert_equals = _asserter(equals)
assert_not_equals = _asserter(equals, negate=True)
assert_contains = _asserter(contains)
assert_not_contains = _asserter(contains, negate=True)
assert_icontains = _asserter(icontains)
assert_not_icontains = _asserter(icontains, negate=True)
assert_contains_any = _asserter(contains_any)
assert_not_contains_any = _asserter(contains_any, negate=True)
assert_contains_all = _asserter(contains_all)
assert_not_contains_all = _asserter(contains_all, negate=True)
assert_starts_with = _asserter(starts_with)
assert_not_starts_with = _asserter(starts_with, negate=True)
assert_ends_with = _asserter(ends_with)
assert_not_ends_with = _asserter(ends_with, negate=True)
assert_regex = _asserter(regex)
assert_not_regex = _asserter(regex, negate=True)
assert_length = _asserter(length)
assert_not_length = _asserter(length, negate=True)
assert_similar = _asserter(similar)
assert_not_similar = _asserter(similar, negate=True)
assert_pii = _asserter(pii)
assert_not_pii = _asserter(pii, negate=True)
assert_json = _asserter(json)
assert_not_json = _asserter(json, negate=True)
assert_json_value = _asserter(json_value)
assert_not_json_value = _asserter(json_value, negate=True)
assert_matches_schema = _asserter(matches_schema)
assert_not_matches_schema = _asserter(matches_schema, negate=True)
assert_refusal = _asserter(refusal)
assert_not_refusal = _asserter(refusal, negate=True)
assert_latency = _asserter(latency)
assert_not_latency = _asserter(latency, negate=True)
assert_cost = _asserter(cost)
assert_not_cost = _asserter(cost, negate=True)
assert_tokens = _asserter(tokens)
assert_not_tokens = _asserter(tokens, negate=True)
assert_finish_reason = _asserter(finish_reason)
assert_not_finish_reason = _asserter(finish_reason, negate=True)
assert_tool_call = _asserter(tool_call)
assert_not_tool_call = _asserter(tool_call, negate=True)
assert_custom = _asserter(custom)
assert_not_custom = _asserter(custom, negate=True)
assert_judge = _asserter(judge)
assert_not_judge = _asserter(judge, negate=True)
assert_semantic_similar = _asserter(semantic_similar)
assert_not_semantic_similar = _asserter(semantic_similar, negate=True)


def assert_check(output: object, check: Check | str, /, *args: Any, **kwargs: Any) -> CheckResult:
    """Assert that a check passes on ``output``: a check object (``assert_check(reply,
    is_paris)``) or a check by name with its arguments (``assert_check(reply, "not_contains",
    "Paris")``), e.g. checks built from data."""
    __tracebackhide__ = True
    try:
        if isinstance(check, Check):
            if args or kwargs:
                raise UsageError(
                    "assert_check: arguments go to the check when it is built, e.g. "
                    "assert_check(reply, contains('Paris')) or assert_check(reply, 'contains', "
                    "'Paris')"
                )
            built = check
        elif isinstance(check, str):
            built = by_name(check, *args, **kwargs)
        else:
            raise UsageError(
                f"assert_check: expected a check (e.g. contains('Paris')) or a check name, got "
                f"{type(check).__name__}"
            )
        result = built(output)
    except UsageError as exc:
        raise exc.with_traceback(None) from None
    if not result.passed:
        helper = f"assert_check({result.check})"
        raise LLMAssertionError(failure_message(helper, result, output), result=result)
    return result


__all__ = sorted(n for n in globals() if n.startswith("assert_"))
