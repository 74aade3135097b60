"""pii, similar, length, custom, the check registry (build_check / check) and pass rates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmassert
from llmassert import (
    CheckResult,
    LLMAssertionError,
    Response,
    Usage,
    UsageError,
    assert_custom,
    assert_length,
    assert_not_pii,
    assert_pass_rate,
    assert_pii,
    assert_similar,
    contains,
    custom,
    length,
    pii,
    similar,
)
from llmassert._checks._base import build_check, check_names
from llmassert._checks._passrate import wilson_interval


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("write to john.doe@example.com today", "email", "j***@example.com"),
        ("call +1 415-555-0134 now", "phone", "+* ***-***-0134"),
        ("key sk-proj-abcdefghijklmnopqrstuvwx ok", "api_key", "sk-p...wx"),
        ("key sk-ant-api03-abcdefghijklmnopqrstuv", "api_key", "sk-a...uv"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "api_key", "AKIA...LE"),
        ("gh ghp_" + "a" * 36, "api_key", "ghp_...aa"),
        ("card 4111 1111 1111 1111 thanks", "credit_card", "**** **** **** 1111"),
        ("iban GB82 WEST 1234 5698 7654 32 ok", "iban", "**** **** **** **** **54 32"),
    ],
)
def test_pii_kinds_are_found_and_masked(text: str, kind: str, masked: str) -> None:
    result = pii()(text)
    assert result, result.reason
    assert result.details["kinds"] == [kind]
    assert masked in result.reason


@pytest.mark.parametrize(
    "text",
    [
        "The answer is 42 and the year 2024.",
        "card 4111 1111 1111 1112 fails Luhn",
        "version 1.2.3 and sk-short",
        "ISBN 978-3-16-148410-0",
        "",
    ],
)
def test_pii_no_false_alarms(text: str) -> None:
    assert not pii()(text)


def test_not_pii_message_masks_values() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_not_pii("Contact jane@corp.io or use sk-abcdefghijklmnopqrstuvwxyz.")
    text = str(exc.value)
    assert "jane@corp.io" not in text.split("\n", 2)[2]
    assert text.splitlines()[0] == (
        "assert_not_pii failed: expected the output to contain no PII-like data (email, "
        "api_key, credit_card, iban, phone)"
    )
    assert text.splitlines()[2:] == [
        "found PII-like data (values masked):",
        "  - email j***@corp.io at char 8",
        "  - api_key sk-a...yz at char 28",
    ]
    assert assert_pii("a@b.co", kinds=["email"]).passed
    assert not pii(kinds=["phone"])("a@b.co")
    with pytest.raises(UsageError, match="argument 'kinds' must be a list of"):
        pii(kinds=["ssn"])


def test_similar() -> None:
    assert similar("Paris is the capital")("Paris is the capital.")
    assert not similar("Paris", min_ratio=0.95)("Pariss")
    assert similar("paris", ignore_case=True, min_ratio=1.0)("PARIS")
    assert similar("kitten", max_distance=3)("sitting")
    assert not similar("kitten", max_distance=2)("sitting")
    assert similar("Paris", metric="partial", min_ratio=1.0)("I love Paris!")
    assert similar("b a", metric="token_sort", min_ratio=1.0)("a b")
    result = similar("Paris", min_ratio=0.95)("Pariss")
    assert result.score == pytest.approx(10 / 11)
    with pytest.raises(LLMAssertionError) as exc:
        assert_similar("Pariss", "Paris", min_ratio=0.95)
    assert str(exc.value) == (
        "assert_similar failed: expected the output to be similar to 'Paris' (ratio >= 95%)\n"
        "output (6 chars): 'Pariss'\n"
        "reason: ratio similarity 91% (required 95%)"
    )
    with pytest.raises(UsageError, match="unknown metric 'cosine'"):
        similar("x", metric="cosine")
    with pytest.raises(UsageError, match="not both"):
        similar("x", min_ratio=0.5, max_distance=2)
    with pytest.raises(UsageError, match="between 0 and 1"):
        similar("x", min_ratio=80)


@settings(deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_property_similar_negation_is_opposite(a: str, b: str) -> None:
    c = similar(a, min_ratio=0.5)
    assert c(b).passed != (~c)(b).passed


def test_length_chars_words_tokens() -> None:
    assert length(max_chars=5)("abcde")
    assert not length(min_words=3)("two words")
    with pytest.raises(LLMAssertionError) as exc:
        assert_length("one two three", max_words=2, max_tokens=1)
    assert str(exc.value) == (
        "assert_length failed: expected the output to have <= 2 words and <= 1 tokens\n"
        "output (13 chars): 'one two three'\n"
        "reason: 3 words > 2; 4 tokens (approximation: chars/4) > 1"
    )
    r = Response(text="x" * 400, model="m", usage=Usage(output_tokens=7))
    result = length(max_tokens=10)(r)
    assert result
    assert result.reason == "7 tokens (usage.output_tokens)"
    assert not length(max_tokens=10, tokenizer="approx")(r)
    with pytest.raises(UsageError, match="give at least one of min_chars, max_chars, min_words"):
        length()
    with pytest.raises(UsageError, match="min_chars=5 is above max_chars=2"):
        length(min_chars=5, max_chars=2)
    with pytest.raises(UsageError, match="tokenizer must be"):
        length(max_tokens=2, tokenizer="bpe")
    with pytest.raises(UsageError, match=r"needs a Response with usage\.output_tokens"):
        length(max_tokens=2, tokenizer="usage")("text")


def test_custom_checks() -> None:
    assert custom(lambda t: "!" in str(t))("hi!")
    result = custom(lambda t: (False, "too quiet"), name="loud")("hi")
    assert not result
    assert result.reason == "too quiet"
    assert result.check == "custom"

    def polite(text: object) -> CheckResult:
        return CheckResult(passed="please" in str(text), reason="looked for please", check="x")

    assert custom(polite)("please")
    with pytest.raises(LLMAssertionError) as exc:
        assert_custom(
            "hi",
            lambda t: (t.endswith("!"), "no exclamation mark"),
            description="to be enthusiastic",
        )
    assert str(exc.value) == (
        "assert_custom failed: expected the output to be enthusiastic\n"
        "output (2 chars): 'hi'\n"
        "reason: no exclamation mark"
    )
    with pytest.raises(UsageError, match="must return a bool"):
        custom(lambda t: "yes")("x")
    with pytest.raises(UsageError, match=r"cannot import 'nope\.mod:f'"):
        custom("nope.mod:f")
    assert custom("os.path:isabs")("/abs")
    with pytest.raises(UsageError, match="must be a callable or an import path"):
        custom(42)  # type: ignore[arg-type]


def test_build_check_by_name_with_negation() -> None:
    assert build_check("contains", {"value": "Paris"})("Paris")
    assert build_check("contains", "Paris")("Paris")
    assert build_check("not_contains", "Paris")("Lyon")
    assert build_check("contains_any", ["a", "b"])("b")
    assert build_check("regex", {"pattern": "a", "flags": "i"})("A")
    assert build_check("json")('{"a": 1}')
    assert build_check("not_refusal", True)("Paris.")
    assert build_check("matches_schema", {"type": "object"})("{}")
    assert build_check("length", {"max_words": 2})("a b")
    assert build_check("json_value", {"pointer": "/a", "equals": 1})('{"a": 1}')
    assert llmassert.check("not_contains", "x")("abc")
    assert llmassert.check("contains_any", ["x", "a"])("abc")


def test_build_check_resolves_schema_files_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "reply.json").write_text('{"type": "object", "required": ["a"]}')
    check = build_check("matches_schema", "schemas/reply.json", base_dir=tmp_path)
    assert check('{"a": 1}')
    assert not check("{}")
    negated = build_check("not_matches_schema", {"schema": "schemas/reply.json"}, base_dir=tmp_path)
    assert negated("{}")
    with pytest.raises(UsageError, match=r"^cases\.yaml: check 'matches_schema': schema file"):
        build_check("matches_schema", "nope.json", base_dir=tmp_path, where="cases.yaml: ")


def test_build_check_errors_name_the_key() -> None:
    with pytest.raises(UsageError) as exc:
        build_check("contians", "x", where="cases/llm_x.yaml, case 'capital': ")
    assert str(exc.value).startswith(
        "cases/llm_x.yaml, case 'capital': unknown check 'contians': did you mean 'contains'?"
    )
    with pytest.raises(UsageError, match="did you mean 'not_contains'"):
        build_check("not_contans", "x")
    with pytest.raises(UsageError, match=r"check 'contains': bad arguments .*its arguments are"):
        build_check("contains", {"value": "x", "nope": 1})
    with pytest.raises(UsageError, match=r"^f\.yaml: check 'regex': invalid pattern"):
        build_check("regex", "(", where="f.yaml: ")
    with pytest.raises(UsageError, match="non-empty string"):
        build_check("", "x")
    with pytest.raises(UsageError, match="bad arguments"):
        llmassert.check("contains", "a", "b")


def test_every_check_has_assert_helpers_and_public_names() -> None:
    names = check_names()
    assert {"contains", "json", "matches_schema", "refusal", "pii", "tool_call"} <= set(names)
    for name in names:
        assert name in llmassert.__all__, name
        for helper in (f"assert_{name}", f"assert_not_{name}"):
            assert helper in llmassert.__all__, helper
            fn = getattr(llmassert, helper)
            assert fn.__name__ == helper
    assert "assert_pass_rate" in llmassert.__all__


def test_wilson_interval() -> None:
    low, high = wilson_interval(7, 10)
    assert (round(low, 2), round(high, 2)) == (0.40, 0.89)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert 0.69 < low < 0.73


def test_assert_pass_rate_message() -> None:
    results = [contains("Paris")(t) for t in ["Paris"] * 7 + ["Lyon", "Nice", "paris"]]
    with pytest.raises(LLMAssertionError) as exc:
        assert_pass_rate(results, 0.8)
    assert str(exc.value) == (
        "assert_pass_rate failed: 7/10 passed (70%, 95% CI 40%-89%), required >= 80%\n"
        "failures (3):\n"
        "  - #8 contains failed: 'Paris' not found\n"
        "  - #9 contains failed: 'Paris' not found\n"
        "  - #10 contains failed: 'Paris' not found (found 'paris' with different case at "
        "char 0)\n"
        "note: with 10 samples the 95% CI is 50 points wide; more samples narrow it"
    )
    summary = assert_pass_rate(results, 0.7)
    assert summary.rate == 0.7
    assert str(summary) == "7/10 passed (70%, 95% CI 40%-89%), required >= 70%"


def test_assert_pass_rate_with_check_and_bools() -> None:
    assert assert_pass_rate(["Paris", "Paris!", "Lyon"], 0.6, check=contains("Paris"))
    assert assert_pass_rate([True, True, False, True], 0.75)
    with pytest.raises(LLMAssertionError, match="reason: no results were given"):
        assert_pass_rate([], 0.5)
    with pytest.raises(UsageError, match="min_rate must be a fraction"):
        assert_pass_rate([True], 80)
    with pytest.raises(UsageError, match=r"pass check=\.\.\. to check raw outputs"):
        assert_pass_rate(["Paris"], 0.5)
    many = [False] * 30
    with pytest.raises(LLMAssertionError, match=r"\.\.\. and 25 more"):
        assert_pass_rate(many, 0.5)


def test_one_megabyte_outputs_stay_fast_and_messages_short() -> None:
    import time

    from llmassert import is_refusal, json, matches_schema, regex

    huge = "lorem ipsum dolor sit amet " * 40_000  # ~1 MB
    start = time.perf_counter()
    assert not is_refusal(huge)
    assert not pii()(huge)
    assert not regex(r"\d{5}")(huge)
    assert not json()(huge)
    assert not matches_schema({"type": "object"})(huge)
    assert time.perf_counter() - start < 5.0
    with pytest.raises(LLMAssertionError) as exc:
        llmassert.assert_json(huge)
    assert len(str(exc.value)) < 800
    assert "output (1,080,000 chars, showing 0-200)" in str(exc.value)


def test_length_tokens_exclude_reasoning() -> None:
    r = Response(text="ok", model="m", usage=Usage(output_tokens=100, reasoning_tokens=98))
    result = length(max_tokens=5)(r)
    assert result
    assert result.reason == "2 tokens (usage.output_tokens minus reasoning_tokens)"


def test_response_look_alikes_are_accepted() -> None:
    class Reply:
        text = "Paris is lovely"
        refusal = None
        finish_reason = "stop"
        raw_finish_reason = "stop"
        latency_s = 0.2

    assert contains("Paris")(Reply())
    assert llmassert.latency(1.0)(Reply())
    assert llmassert.finish_reason("stop")(Reply())
    assert not llmassert.is_refusal(Reply())


def test_text_checks_do_not_import_heavy_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llmassert\n"
        "llmassert.assert_contains('Paris', 'Paris')\n"
        "llmassert.assert_not_refusal('Paris.')\n"
        "llmassert.assert_json('{}')\n"
        "llmassert.check('not_regex', 'x')('abc')\n"
        "print(' '.join(sorted(m for m in ('jsonschema', 'rapidfuzz', 'yaml', 'openai') "
        "if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_check_result_to_dict_is_json_ready() -> None:
    import json as std_json

    result = llmassert.contains_all(["a", "b"])("a")
    data = result.to_dict()
    assert data == {
        "check": "contains_all",
        "passed": False,
        "score": 0.5,
        "reason": "found 'a' at char 0; missing 'b'",
        "expected": "expected the output to contain all of ['a', 'b'] (case-sensitive)",
        "notes": ["reason: found 'a' at char 0; missing 'b'"],
        "details": {"found": ["a"], "missing": ["b"]},
    }
    std_json.dumps(llmassert.refusal()("I can't help with that.").to_dict())


NEGATABLE = [
    lambda: llmassert.json(),
    lambda: llmassert.json(extract=True),
    lambda: llmassert.regex(r"\d+"),
    lambda: llmassert.equals("abc"),
    lambda: llmassert.icontains("Ab"),
    lambda: llmassert.length(min_words=2, max_chars=20),
    lambda: llmassert.similar("hello", min_ratio=0.5),
    lambda: llmassert.json_value("/a", equals=1, extract=True),
    lambda: llmassert.matches_schema({"type": "object"}, extract=True),
    lambda: llmassert.refusal(),
    lambda: pii(),
]


@settings(deadline=None)
@given(st.text(max_size=40) | st.sampled_from(['{"a": 1}', "I can't help", "a@b.co", "x 12"]))
def test_property_every_negation_is_the_opposite(text: str) -> None:
    for build in NEGATABLE:
        check = build()
        assert check(text).passed != (~check)(text).passed


def test_failure_messages_never_carry_secrets() -> None:
    key = "sk-proj-" + "a1b2c3d4" * 4
    with pytest.raises(LLMAssertionError) as exc:
        llmassert.assert_not_regex(f"Your key is {key}.", r"sk-\S+")
    assert key not in str(exc.value)
    assert "sk-p" in str(exc.value)
    with pytest.raises(LLMAssertionError) as exc:
        assert_not_pii(f"mail bob@example.org, key {key}")
    assert "bob@example.org" not in str(exc.value)
    assert key not in str(exc.value)
    assert key not in str(llmassert.regex(r"sk-\S+")(key).to_dict())


def test_assert_check_with_objects_and_names() -> None:
    is_paris = contains("Paris")
    assert llmassert.assert_check("Paris!", is_paris).passed
    assert llmassert.assert_check("Lyon", "not_contains", "Paris").passed
    assert llmassert.assert_check("{}", "matches_schema", {"type": "object"}).passed
    with pytest.raises(LLMAssertionError) as exc:
        llmassert.assert_check("Lyon", ~contains("Lyon"))
    assert str(exc.value) == (
        "assert_check(not_contains) failed: expected the output not to contain 'Lyon' "
        "(case-sensitive)\n"
        "output (4 chars): 'Lyon'\n"
        "reason: found 'Lyon' at char 0"
    )
    with pytest.raises(UsageError, match="arguments go to the check when it is built"):
        llmassert.assert_check("x", is_paris, "extra")
    with pytest.raises(UsageError, match="unknown check 'contain'"):
        llmassert.assert_check("x", "contain", "y")
    with pytest.raises(UsageError, match="expected a check"):
        llmassert.assert_check("x", 42)  # type: ignore[arg-type]


def test_check_result_repr_is_short() -> None:
    assert repr(contains("Paris")("Lyon")) == "CheckResult(contains failed: \"'Paris' not found\")"
    assert repr(similar("abc", min_ratio=0.5)("abd")) == (
        "CheckResult(similar passed, score=0.667: 'ratio similarity 67% (required 50%)')"
    )


def test_each_check_name_maps_to_the_module_that_registers_it() -> None:
    from llmassert._checks import _base

    names = check_names()  # imports every check module
    assert sorted(_base.HOME_MODULES) == names
    for name in names:
        module = _base._REGISTRY[name].__module__
        assert module == f"llmassert._checks.{_base.HOME_MODULES[name]}", name
