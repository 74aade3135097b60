"""Assert helpers inside real pytest runs: the failure shows the user's line and the message,
never llmassert's internal frames."""

from __future__ import annotations

import pytest

TEST_FILE = """
from llmassert import Response, assert_contains, assert_matches_schema, assert_pass_rate
from llmassert import assert_check, assert_json_value, assert_not_contains, assert_regex
from llmassert import contains


def test_capital():
    reply = Response(text="The capital of France is paris.", model="demo")
    assert_contains(reply, "Paris")


def test_schema():
    assert_matches_schema('{"age": "36"}', {"type": "object", "required": ["name"]})


def test_rate():
    assert_pass_rate([contains("a")(t) for t in ["a", "b", "c"]], 0.9)


def test_bad_regex():
    assert_regex("abc", "(")


def test_negated():
    assert_not_contains("I cannot share the password.", "password")


def test_check_object():
    assert_check("Lyon", contains("Paris"))


def test_pointer():
    assert_json_value('{"user": {"age": 36}}', "/user/age", equals=37)
"""


def test_failures_show_the_user_line_and_message_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=TEST_FILE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=7)
    result.stdout.fnmatch_lines(
        [
            "*_ test_capital _*",
            '>       assert_contains(reply, "Paris")',
            "E       *LLMAssertionError: assert_contains failed: expected the output to contain "
            "'Paris' (case-sensitive)",
            "E       output (31 chars): 'The capital of France is paris.'",
            "E       note: found 'paris' with different case at char 25",
            "test_demo.py:8: LLMAssertionError",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_schema _*",
            "E       *assert_matches_schema failed: expected the output to be JSON matching the "
            "schema",
            "E       1 schema error (most relevant first):",
            "E         - $: 'name' is a required property",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_rate _*",
            "E       *assert_pass_rate failed: 1/3 passed (33%, 95% CI 6%-79%), required >= 90%",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_bad_regex _*",
            '>       assert_regex("abc", "(")',
            "E       *UsageError: check 'regex': invalid pattern '(': missing ), unterminated "
            "subpattern at position 0; fix the pattern*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ test_negated _*",
            '>       assert_not_contains("I cannot share the password.", "password")',
            "E       *assert_not_contains failed: expected the output not to contain 'password'*",
            "*_ test_check_object _*",
            '>       assert_check("Lyon", contains("Paris"))',
            "E       *assert_check(contains) failed: expected the output to contain 'Paris'*",
            "*_ test_pointer _*",
            '>       assert_json_value(\'{"user": {"age": 36}}\', "/user/age", equals=37)',
            "E       *assert_json_value failed: expected the output to have the JSON value at "
            "'/user/age' equal to 37",
        ]
    )
    out = result.stdout.str()
    internals = ("_asserts.py", "_passrate.py", "_base.py", "_text.py", "_schema.py", "_json.py")
    for internal in internals:
        assert internal not in out, f"internal frame {internal} shown:\n{out}"
