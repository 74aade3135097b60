"""Type-checked with `mypy --strict` (see pyproject.toml): the public API as a user's strict
code sees it. Never run; it only has to type-check."""

from __future__ import annotations

from llmassert import (
    LLMAssertionError,
    Response,
    UsageError,
    assert_contains,
    assert_matches_schema,
    assert_not_refusal,
    assert_pass_rate,
    contains,
    is_refusal,
    model,
)


def user_code() -> None:
    reply: Response = model("demo:finetuned").complete("What is the capital of France?")
    assert_contains(reply, "Paris")
    assert_not_refusal(reply)
    assert_matches_schema('{"a": 1}', {"type": "object"})
    verdict = contains("Paris")(reply)
    assert verdict.passed
    assert is_refusal("I can't help with that.")
    assert_pass_rate([verdict], 1.0)
    error: type[Exception] = UsageError
    failure: type[AssertionError] = LLMAssertionError
    del error, failure
