"""Text checks: equals, contains, icontains, contains_any, contains_all, starts_with, ends_with,
regex - results, exact failure messages, properties, edge cases."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmassert
from llmassert import (
    LLMAssertionError,
    Response,
    UsageError,
    assert_contains,
    assert_contains_all,
    assert_contains_any,
    assert_ends_with,
    assert_equals,
    assert_icontains,
    assert_not_contains,
    assert_not_regex,
    assert_regex,
    assert_starts_with,
    contains,
    contains_all,
    contains_any,
    ends_with,
    equals,
    icontains,
    regex,
    starts_with,
)


def message(exc: pytest.ExceptionInfo[LLMAssertionError]) -> str:
    return str(exc.value)


def test_contains_passes_and_reports_where() -> None:
    result = contains("Paris")("The capital is Paris.")
    assert result
    assert result.passed
    assert result.check == "contains"
    assert result.reason == "found 'Paris' at char 15"
    assert result.focus == (15, 20)


def test_contains_failure_message_notes_different_case() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains("The capital of France is paris.", "Paris")
    assert message(exc) == (
        "assert_contains failed: expected the output to contain 'Paris' (case-sensitive)\n"
        "output (31 chars): 'The capital of France is paris.'\n"
        "note: found 'paris' with different case at char 25"
    )
    assert isinstance(exc.value, AssertionError)
    assert exc.value.result is not None
    assert not exc.value.result.passed


def test_contains_failure_message_shows_closest_match() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains("The capital is Parsi, I think.", "Paris")
    assert message(exc) == (
        "assert_contains failed: expected the output to contain 'Paris' (case-sensitive)\n"
        "output (30 chars): 'The capital is Parsi, I think.'\n"
        "note: closest match 'Parsi' at char 15 (80% similar)"
    )


def test_contains_notes_whitespace_and_unicode_form_differences() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains("Welcome to New\u00a0York!", "New York")
    assert message(exc).splitlines()[-1] == (
        "note: found 'New\\xa0York' at char 11: it differs only in whitespace"
    )
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains("Un cafe\u0301 noir", "caf\u00e9")
    assert (
        message(exc)
        .splitlines()[-1]
        .startswith("note: the output contains it in another Unicode normalization form")
    )


def test_contains_failure_without_any_near_match() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains("Lyon", "Paris")
    assert message(exc) == (
        "assert_contains failed: expected the output to contain 'Paris' (case-sensitive)\n"
        "output (4 chars): 'Lyon'\n"
        "reason: 'Paris' not found"
    )


def test_not_contains_failure_message() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_not_contains("I love Paris", "Paris")
    assert message(exc) == (
        "assert_not_contains failed: expected the output not to contain 'Paris' "
        "(case-sensitive)\n"
        "output (12 chars): 'I love Paris'\n"
        "reason: found 'Paris' at char 7"
    )


def test_assert_helper_returns_the_result() -> None:
    result = assert_contains("Paris!", "Paris")
    assert result.passed
    assert result.reason == "found 'Paris' at char 0"


def test_icontains_and_ignore_case() -> None:
    assert icontains("PARIS")("paris")
    assert contains("PARIS", ignore_case=True)("paris")
    assert not contains("PARIS")("paris")
    assert icontains("straße")("STRASSE") is not None  # casefold never crashes
    assert assert_icontains("Ünïcödé text", "ünïcödé").focus == (0, 7)
    with pytest.raises(LLMAssertionError, match=r"\(case-insensitive\)"):
        assert_icontains("Lyon", "paris")


def test_contains_any_and_all() -> None:
    assert contains_any(["Paris", "Lyon"])("Lyon")
    assert not contains_any(["Paris", "Lyon"])("Nice")
    result = contains_all(["a", "b", "c"])("a c")
    assert not result
    assert result.score == pytest.approx(2 / 3)
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains_all("apples and pears", ["apples", "bananas"])
    assert message(exc) == (
        "assert_contains_all failed: expected the output to contain all of ['apples', "
        "'bananas'] (case-sensitive)\n"
        "output (16 chars): 'apples and pears'\n"
        "reason: found 'apples' at char 0; missing 'bananas'"
    )
    with pytest.raises(LLMAssertionError, match="to contain none of"):
        llmassert.assert_not_contains_any("I like Lyon", ["Paris", "Lyon"])
    assert assert_contains_any("x Nice", ["Nice"]).passed


def test_equals_strips_and_reports_first_difference() -> None:
    assert equals("Paris")("  Paris\n")
    assert not equals("Paris", strip=False)("Paris\n")
    assert equals("paris", ignore_case=True)("PARIS")
    with pytest.raises(LLMAssertionError) as exc:
        assert_equals("The answer is 41.", "The answer is 42.")
    assert message(exc) == (
        "assert_equals failed: expected the output to equal 'The answer is 42.' "
        "(case-sensitive, ignoring surrounding whitespace)\n"
        "output (17 chars): 'The answer is 41.'\n"
        "note: first difference at char 15: expected ...'nswer is 42.', got "
        "...'nswer is 41.'\n"
        "note: expected 17 chars, got 17"
    )
    with pytest.raises(LLMAssertionError, match="differ only in case"):
        assert_equals("PARIS", "Paris")
    with pytest.raises(LLMAssertionError, match="differ only in whitespace"):
        assert_equals("New  York", "New York")
    with pytest.raises(LLMAssertionError, match="differ only in Unicode normalization form"):
        assert_equals("cafe\u0301", "caf\u00e9")


def test_starts_and_ends_with() -> None:
    assert starts_with("Yes")("  Yes, it is.")
    assert not starts_with("Yes", strip=False)("  Yes")
    assert ends_with("?")("Really?\n")
    assert starts_with("yes", ignore_case=True)("YES")
    with pytest.raises(LLMAssertionError) as exc:
        assert_starts_with("No, never.", "Yes")
    assert message(exc) == (
        "assert_starts_with failed: expected the output to start with 'Yes' (case-sensitive, "
        "ignoring leading whitespace)\n"
        "output (10 chars): 'No, never.'\n"
        "reason: the output starts with 'No, never.'"
    )
    with pytest.raises(LLMAssertionError, match=r"the output ends with 'I did it\.'"):
        assert_ends_with("I did it.", "?")


def test_regex_search_fullmatch_and_flags() -> None:
    assert regex(r"\d{4}")("in 1999")
    assert regex(r"\d{4}")("in 1999").value.group(0) == "1999"
    assert not regex(r"\d{4}", fullmatch=True)("in 1999")
    assert regex("paris", flags="i")("PARIS")
    assert regex("paris", flags=re.IGNORECASE)("PARIS")
    with pytest.raises(LLMAssertionError) as exc:
        assert_regex("Call 555-1234 now", r"\d{3}-\d{4}", fullmatch=True)
    assert message(exc) == (
        "assert_regex failed: expected the output to fully match the pattern '\\\\d{3}-\\\\d{4}'\n"
        "output (17 chars): 'Call 555-1234 now'\n"
        "reason: the pattern matches '555-1234' at char 5, not the whole output"
    )
    with pytest.raises(LLMAssertionError, match="matches only the first 4 of 8 chars"):
        assert_regex("abcd1234", r"[a-z]+", fullmatch=True)
    with pytest.raises(LLMAssertionError, match="no match anywhere"):
        assert_regex("abc", r"\d")
    with pytest.raises(LLMAssertionError, match="not to match"):
        assert_not_regex("abc1", r"\d")


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (lambda: regex("("), "invalid pattern '(': missing ), unterminated subpattern"),
        (lambda: regex("a", flags="q"), "argument 'flags'"),
        (lambda: contains(3), "argument 'value' must be a str, got int 3"),
        (lambda: contains(""), "argument 'value' must not be empty"),
        (lambda: contains("a", ignore_case="yes"), "must be True or False"),
        (lambda: contains_any("abc"), "must be a list of strings"),
        (lambda: contains_all([]), "must not be empty"),
        (lambda: contains_any(["a", 1]), "must be a str"),
    ],
)
def test_bad_arguments_are_usage_errors(build: object, needle: str) -> None:
    with pytest.raises(UsageError) as exc:
        build()  # type: ignore[operator]
    assert needle in str(exc.value)
    assert isinstance(exc.value, ValueError)
    assert not isinstance(exc.value, AssertionError)


def test_bad_arguments_through_assert_helpers_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="invalid pattern"):
        assert_regex("abc", "[")
    with pytest.raises(UsageError, match=r"takes a str or an llmassert\.Response, got int"):
        assert_contains(42, "4")
    with pytest.raises(UsageError, match="got None"):
        contains("a")(None)


def test_wrong_helper_arguments_are_usage_errors_with_usage() -> None:
    with pytest.raises(UsageError) as exc:
        assert_contains("x")
    assert str(exc.value) == (
        "assert_contains: contains() missing 1 required positional argument: 'value'; usage: "
        "assert_contains(output, value, *, ignore_case=False)"
    )
    with pytest.raises(UsageError, match=r"unexpected keyword argument 'flag'; usage: "):
        assert_regex("x", "a", flag="i")
    with pytest.raises(UsageError, match=r"equals=<unset>, contains=<unset>"):
        llmassert.assert_json_value("{}")


def test_checks_accept_responses() -> None:
    reply = Response(text="Paris is lovely", model="m")
    assert contains("Paris")(reply)
    assert assert_starts_with(reply, "Paris").passed


def test_empty_output() -> None:
    assert not contains("a")("")
    assert equals("")("  ")
    assert not regex(".")("")
    assert regex("^$", fullmatch=True)("")
    assert not starts_with("a")("")
    refusal_only = Response(text="", model="m", refusal="I can't help with that.")
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains(refusal_only, "Paris")
    assert message(exc) == (
        "assert_contains failed: expected the output to contain 'Paris' (case-sensitive)\n"
        "output (0 chars): ''\n"
        'provider refusal: "I can\'t help with that."\n'
        "reason: 'Paris' not found"
    )


def test_huge_output_is_truncated_around_the_relevant_part() -> None:
    text = "x" * 500_000 + " paris " + "y" * 500_000
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains(text, "Paris")
    lines = message(exc).splitlines()
    assert lines[1].startswith("output (1,000,007 chars, showing 499,903-500,103): '... xxx")
    assert "paris" in lines[1]
    assert lines[1].endswith("yyy ...'")
    assert lines[2] == "note: found 'paris' with different case at char 500001"
    assert len(message(exc)) < 500


def test_huge_output_without_match_stays_fast_and_short() -> None:
    text = "lorem ipsum " * 100_000
    with pytest.raises(LLMAssertionError) as exc:
        assert_contains(text, "Paris")
    assert len(message(exc)) < 400
    assert "showing 0-200" in message(exc)


def test_negation_operators() -> None:
    c = contains("a")
    assert (~c).name == "not_contains"
    assert c.negate().negate() is c
    assert repr(~c) == "~contains('a')"
    assert (~c)("b")
    assert not (~c)("a")
    assert (~c)("b").check == "not_contains"


texts = st.text(max_size=60)
needles = st.text(min_size=1, max_size=6)


@settings(deadline=None)
@given(texts, needles)
def test_property_contains_is_substring(text: str, needle: str) -> None:
    assert contains(needle)(text).passed == (needle in text)
    assert (~contains(needle))(text).passed == (needle not in text)


@settings(deadline=None)
@given(texts, needles)
def test_property_starts_ends_with(text: str, needle: str) -> None:
    assert starts_with(needle, strip=False)(text).passed == text.startswith(needle)
    assert ends_with(needle, strip=False)(text).passed == text.endswith(needle)
    assert (~ends_with(needle, strip=False))(text).passed == (not text.endswith(needle))


@settings(deadline=None)
@given(texts, st.lists(needles, min_size=1, max_size=4))
def test_property_contains_any_all(text: str, values: list[str]) -> None:
    assert contains_any(values)(text).passed == any(v in text for v in values)
    assert contains_all(values)(text).passed == all(v in text for v in values)
    assert (~contains_all(values))(text).passed == (not all(v in text for v in values))


@settings(deadline=None)
@given(texts, texts)
def test_property_equals_without_strip(text: str, other: str) -> None:
    assert equals(other, strip=False)(text).passed == (text == other)
    assert equals(other)(text).passed == (text.strip() == other.strip())


@settings(deadline=None)
@given(texts, st.sampled_from([r"\d+", r"[aeiou]{2}", r"^\w", r"\s$", "ab|cd"]))
def test_property_regex_matches_re(text: str, pattern: str) -> None:
    assert regex(pattern)(text).passed == (re.search(pattern, text) is not None)
    assert regex(pattern, fullmatch=True)(text).passed == (re.fullmatch(pattern, text) is not None)
    assert (~regex(pattern))(text).passed == (re.search(pattern, text) is None)


@settings(deadline=None)
@given(texts, needles)
def test_property_icontains_is_casefolded_substring_for_ascii(text: str, needle: str) -> None:
    if text.isascii() and needle.isascii():
        assert icontains(needle)(text).passed == (needle.lower() in text.lower())


@settings(deadline=None)
@given(texts, needles)
def test_property_failure_message_always_renders(text: str, needle: str) -> None:
    result = contains(needle)(text)
    if not result:
        with pytest.raises(LLMAssertionError) as exc:
            assert_contains(text, needle)
        assert exc.value.args[0].startswith("assert_contains failed: expected the output")
