"""Runtime checks (latency, cost, tokens, finish_reason) and tool_call, on Response objects."""

from __future__ import annotations

import pytest

from llmassert import (
    LLMAssertionError,
    Response,
    ToolCall,
    Usage,
    UsageError,
    assert_cost,
    assert_finish_reason,
    assert_latency,
    assert_not_tool_call,
    assert_tokens,
    assert_tool_call,
    cost,
    finish_reason,
    latency,
    tokens,
    tool_call,
)


def reply(**kwargs: object) -> Response:
    base: dict[str, object] = {"text": "Paris.", "model": "gpt-x", "spec": "openai:gpt-x"}
    base.update(kwargs)
    return Response(**base)  # type: ignore[arg-type]


def test_latency() -> None:
    assert latency(2.0)(reply(latency_s=1.5))
    assert not latency(1.0)(reply(latency_s=1.5))
    with pytest.raises(LLMAssertionError) as exc:
        assert_latency(reply(latency_s=2.3456), 2)
    assert str(exc.value) == (
        "assert_latency failed: expected the latency to be <= 2 s\n"
        "output (6 chars): 'Paris.'\n"
        "reason: latency 2.346 s (limit 2 s)"
    )
    assert not latency(1)(reply()).passed
    assert latency(1)(reply()).reason == "the response has no latency (latency_s is None)"


def test_runtime_checks_on_a_plain_string_are_usage_errors() -> None:
    with pytest.raises(UsageError) as exc:
        assert_latency("Paris.", 2.0)
    assert str(exc.value) == (
        "check 'latency' needs an llmassert.Response (it reads .latency_s), got str: pass the "
        "Response returned by complete(), not its .text"
    )
    with pytest.raises(UsageError, match=r"reads \.cost_usd"):
        cost(0.01)("text")


def test_cost_known_and_unknown() -> None:
    assert cost(0.01)(reply(cost_usd=0.002))
    assert not cost(0.001)(reply(cost_usd=0.002))
    with pytest.raises(LLMAssertionError) as exc:
        assert_cost(reply(), 0.01)
    assert str(exc.value) == (
        "assert_cost failed: expected the cost to be <= $0.01\n"
        "output (6 chars): 'Paris.'\n"
        "reason: the cost is unknown: no price for openai:gpt-x in the price table\n"
        "hint: pass allow_unknown=True to accept unknown costs, or add the model's price"
    )
    assert assert_cost(reply(), 0.01, allow_unknown=True).passed


def test_tokens() -> None:
    r = reply(usage=Usage(input_tokens=10, output_tokens=120))
    assert tokens(max_output=200)(r)
    assert tokens(max_total=130)(r)
    with pytest.raises(LLMAssertionError, match=r"reason: output tokens 120 > 100"):
        assert_tokens(r, max_output=100)
    with pytest.raises(LLMAssertionError, match="output tokens unknown"):
        assert_tokens(reply(), max_output=100)
    with pytest.raises(UsageError, match="give at least one of"):
        tokens()
    with pytest.raises(UsageError, match="argument 'max_output' must be an int"):
        tokens(max_output=1.5)


def test_finish_reason() -> None:
    assert finish_reason("stop")(reply(finish_reason="stop", raw_finish_reason="end_turn"))
    assert finish_reason("end_turn")(reply(finish_reason="stop", raw_finish_reason="end_turn"))
    assert finish_reason(["stop", "length"])(reply(finish_reason="length"))
    with pytest.raises(LLMAssertionError) as exc:
        assert_finish_reason(reply(finish_reason="length", raw_finish_reason="max_tokens"), "stop")
    assert str(exc.value).splitlines()[0] == (
        "assert_finish_reason failed: expected the finish reason to be 'stop'"
    )
    assert str(exc.value).splitlines()[-1] == (
        "reason: the finish reason is 'length' (raw: 'max_tokens')"
    )
    with pytest.raises(UsageError, match="must be a finish reason"):
        finish_reason(3)  # type: ignore[arg-type]


WEATHER = {
    "type": "object",
    "required": ["city"],
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
}


def call(name: str, args: dict[str, object], raw: str | None = None) -> ToolCall:
    import json

    return ToolCall(name=name, arguments=args, arguments_json=raw or json.dumps(args))


def test_tool_call_passes() -> None:
    r = reply(text="", tool_calls=(call("get_weather", {"city": "Paris", "days": 3}),))
    result = assert_tool_call(r, "get_weather", schema=WEATHER, arguments={"city": "Paris"})
    assert result.value.name == "get_weather"
    assert tool_call("get_weather")(r)
    assert_not_tool_call(r, "search")


def test_tool_call_failures() -> None:
    with pytest.raises(LLMAssertionError) as exc:
        assert_tool_call(reply(), "get_weather")
    assert str(exc.value) == (
        "assert_tool_call failed: expected the response to call the tool 'get_weather'\n"
        "output (6 chars): 'Paris.'\n"
        "reason: the response called no tool"
    )
    r = reply(text="", tool_calls=(call("search", {"q": "x"}),))
    with pytest.raises(LLMAssertionError, match="reason: the response called 'search', not"):
        assert_tool_call(r, "get_weather")
    bad = reply(text="", tool_calls=(call("get_weather", {"city": 3, "days": "x"}),))
    with pytest.raises(LLMAssertionError) as exc:
        assert_tool_call(bad, "get_weather", schema=WEATHER, arguments={"city": "Paris"})
    assert str(exc.value).splitlines()[2:] == [
        "tool calls: get_weather",
        "'get_weather' was called but its arguments do not match:",
        "  - $.days: 'x' is not of type 'integer'",
        "  - $.city: 3 is not of type 'string'",
        "  - argument 'city' is 3, expected \"Paris\"",
    ]
    broken = reply(text="", tool_calls=(call("get_weather", {}, raw='{"city": '),))
    with pytest.raises(LLMAssertionError, match="its arguments are not valid JSON"):
        assert_tool_call(broken, "get_weather", schema=WEATHER)


def test_tool_call_bad_arguments() -> None:
    with pytest.raises(UsageError, match="invalid JSON Schema"):
        tool_call("x", schema={"type": 5})
    with pytest.raises(UsageError, match="argument 'arguments' must be a dict"):
        tool_call("x", arguments=["a"])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"reads \.tool_calls"):
        tool_call("x")("plain text")
