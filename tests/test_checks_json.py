"""JSON checks: json (strict / extract), json_value (RFC 6901 pointers), matches_schema."""

from __future__ import annotations

import json as std_json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmassert import (
    LLMAssertionError,
    Response,
    UsageError,
    assert_json,
    assert_json_value,
    assert_matches_schema,
    assert_not_json,
    json,
    json_value,
    matches_schema,
)
from llmassert._checks._schema import compile_schema

PERSON = {
    "title": "person",
    "type": "object",
    "required": ["name", "age", "email"],
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "email": {"type": "string"},
    },
}


def test_json_strict_passes_with_value() -> None:
    result = assert_json(' {"a": [1, 2]}\n')
    assert result.value == {"a": [1, 2]}
    assert result.reason == "valid JSON: an object with 1 key"


def test_json_failure_shows_line_col_and_caret() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_json('{"a": 1,\n "b": [1, 2,, 3]}')
    assert str(exc.value) == (
        "assert_json failed: expected the output to be valid JSON (the whole output)\n"
        'output (26 chars): \'{"a": 1,\\n "b": [1, 2,, 3]}\'\n'
        "error: Expecting value at line 2, col 13 (char 21)\n"
        '  2 |  "b": [1, 2,, 3]}\n'
        "    |             ^"
    )


def test_json_strict_rejects_fences_with_a_hint() -> None:
    text = 'Here you go:\n```json\n{"a": 1}\n```'
    with pytest.raises(LLMAssertionError) as exc:
        assert_json(text)
    assert str(exc.value).splitlines()[-1] == (
        "hint: the JSON is wrapped in a ``` fence; use extract=True to accept that"
    )
    assert assert_json(text, extract=True).value == {"a": 1}


def test_json_strict_rejects_prose_with_a_hint() -> None:
    with pytest.raises(LLMAssertionError, match="has 10 chars of text before the JSON"):
        assert_json('Result is {"a": 1}')
    assert json(extract=True)('Result is {"a": 1} - done').value == {"a": 1}
    assert json(extract=True)("The list: [1, 2] ok").value == [1, 2]


def test_json_extract_reports_broken_fence() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_json('```json\n{"a": 1,}\n```', extract=True)
    assert "error: Expecting property name enclosed in double quotes at line 2, col 9" in str(
        exc.value
    )


def test_json_rejects_nan_and_infinity() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_json('\n{"a": NaN}')
    assert str(exc.value).splitlines()[2:] == [
        "error: NaN is not valid JSON (use null or a string) at line 2, col 7 (char 7)",
        '  2 | {"a": NaN}',
        "    |       ^",
    ]
    assert not json(extract=True)("x [1, -Infinity] y")
    assert json()('{"a": "NaN"}')


def test_json_cut_off_by_the_token_limit_says_so() -> None:
    cut = Response(text='{"items": [1, 2, 3', model="m", finish_reason="length")
    with pytest.raises(LLMAssertionError) as exc:
        assert_json(cut)
    assert str(exc.value).splitlines()[-1] == (
        "hint: the response was cut off by its token limit (finish_reason 'length'); raise "
        "max_tokens"
    )
    with pytest.raises(LLMAssertionError, match="raise max_tokens"):
        assert_matches_schema(cut, PERSON)


def test_json_edge_cases() -> None:
    assert not json()("")
    assert json()("").reason == "the output is empty, not JSON"
    assert not json(extract=True)("no json here")
    assert (
        json(extract=True)("no json here").reason == "no JSON object or array found in the output"
    )
    assert json()("42").value == 42
    assert json()('"héllo ✓"').value == "héllo ✓"
    assert not json()(Response(text="", model="m", refusal="nope"))
    with pytest.raises(LLMAssertionError, match="not to be valid JSON"):
        assert_not_json("[]")
    assert assert_not_json("nope").passed
    deep = "[" * 100_000 + "]" * 100_000
    assert not json()(deep)


@settings(deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    )
)
def test_property_json_roundtrip(value: object) -> None:
    text = std_json.dumps(value)
    assert json()(text).value == value
    if isinstance(value, dict | list):
        assert json(extract=True)(f"Answer:\n```json\n{text}\n```").value == value


def test_json_value_pointer_equals_contains_exists() -> None:
    doc = '{"user": {"name": "Ada", "tags": ["x", "y"], "a/b": 1, "m~n": 2}, "n": 1}'
    assert json_value("/user/name", equals="Ada")(doc)
    assert json_value("/user/tags/1", equals="y")(doc)
    assert json_value("/user/a~1b", equals=1)(doc)
    assert json_value("/user/m~0n", equals=2)(doc)
    assert json_value("/user/tags", contains="x")(doc)
    assert json_value("/user/name", contains="Ad")(doc)
    assert json_value("/user", contains={"name": "Ada"})(doc)
    assert json_value("/user")(doc).value["name"] == "Ada"
    assert json_value("", contains="n")(doc)
    assert not json_value("/n", equals=True)(doc)  # JSON: true is not 1
    assert json_value("/n", equals=1.0)(doc)
    assert not json_value("/user/tags/2")(doc)
    assert not json_value("/user/tags/01")(doc)


def test_json_value_failure_message() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_json_value('{"user": {"name": "Ada"}}', "/user/nam", equals="Ada")
    assert str(exc.value) == (
        "assert_json_value failed: expected the output to have the JSON value at '/user/nam' "
        'equal to "Ada"\n'
        'output (25 chars): \'{"user": {"name": "Ada"}}\'\n'
        "reason: no key 'nam' at /user (keys there: 'name')"
    )
    with pytest.raises(LLMAssertionError, match="the value at '/a' is \"b\""):
        assert_json_value('{"a": "b"}', "/a", equals="c")


@pytest.mark.parametrize(
    ("pointer", "needle"),
    [("user", "or start with '/', e.g. '/user'"), ("/a~2", "escaped")],
)
def test_json_value_bad_pointer(pointer: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        json_value(pointer)
    with pytest.raises(UsageError, match="not both"):
        json_value("/a", equals=1, contains=1)


def test_matches_schema_lists_every_error_best_first() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_matches_schema('{"name": "Ada", "age": "36"}', PERSON)
    assert str(exc.value) == (
        "assert_matches_schema failed: expected the output to be JSON matching the schema "
        "'person'\n"
        'output (28 chars): \'{"name": "Ada", "age": "36"}\'\n'
        "2 schema errors (most relevant first):\n"
        "  - $: 'email' is a required property\n"
        "  - $.age: '36' is not of type 'integer'"
    )
    assert exc.value.result.details["errors"][1] == "$.age: '36' is not of type 'integer'"


def test_matches_schema_passes_and_returns_value() -> None:
    result = assert_matches_schema('{"name": "Ada", "age": 36, "email": "a@b.c"}', PERSON)
    assert result.value["age"] == 36
    assert matches_schema(PERSON, extract=True)(
        'Sure:\n```json\n{"name": "Ada", "age": 36, "email": "a@b.c"}\n```'
    )


def test_matches_schema_parse_error_is_reported_like_json() -> None:
    with pytest.raises(LLMAssertionError, match="error: Expecting value at line 1, col 1"):
        assert_matches_schema("name: Ada", PERSON)


def test_matches_schema_truncates_long_output_around_first_error() -> None:
    filler = {f"k{i}": "v" * 20 for i in range(200)}
    doc = std_json.dumps({**filler, "name": "Ada", "email": "x", "age": -1})
    with pytest.raises(LLMAssertionError) as exc:
        assert_matches_schema(doc, PERSON)
    output_line = str(exc.value).splitlines()[1]
    assert '"age"' in output_line
    assert output_line.startswith(f"output ({len(doc):,} chars, showing")


def test_matches_schema_many_errors_are_capped() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    with pytest.raises(LLMAssertionError) as exc:
        assert_matches_schema(std_json.dumps(["x"] * 15), schema)
    lines = str(exc.value).splitlines()
    assert lines[2] == "15 schema errors (most relevant first):"
    assert lines[-1] == "  ... and 5 more"


def test_invalid_schema_is_a_usage_error_at_definition() -> None:
    with pytest.raises(UsageError) as exc:
        matches_schema({"type": "nope"})
    assert str(exc.value).startswith(
        "check 'matches_schema': invalid JSON Schema (Draft202012Validator) at /type:"
    )
    with pytest.raises(UsageError, match="must be a JSON Schema"):
        matches_schema(42)  # type: ignore[arg-type]


def test_schema_draft_is_honoured_and_validators_cached() -> None:
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    assert type(compile_schema(draft7)).__name__ == "Draft7Validator"
    assert type(compile_schema({"type": "object"})).__name__ == "Draft202012Validator"
    assert compile_schema({"type": "object"}) is compile_schema({"type": "object"})
    # draft 2020-12 keyword prefixItems works by default
    tuple_schema = {"type": "array", "prefixItems": [{"type": "integer"}]}
    assert not matches_schema(tuple_schema)('["x"]')


def test_schema_from_files(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(std_json.dumps(PERSON))
    (tmp_path / "s.yaml").write_text("type: object\nrequired: [a]\n")
    (tmp_path / "bad.yaml").write_text("type: [unclosed\n")
    assert not matches_schema(tmp_path / "s.json")('{"name": "Ada"}')
    assert matches_schema(str(tmp_path / "s.yaml"))('{"a": 1}')
    with pytest.raises(UsageError, match="is not valid YAML"):
        matches_schema(tmp_path / "bad.yaml")
    with pytest.raises(UsageError, match=r"schema file .*missing\.json' not found"):
        matches_schema(tmp_path / "missing.json")


def test_format_is_checked() -> None:
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}
    assert matches_schema(schema)('{"d": "2024-02-29"}')
    assert not matches_schema(schema)('{"d": "2024-02-30"}')
