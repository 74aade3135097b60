"""The shared wire helpers every wire-format module builds on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from llmassert.testing import ErrorReply, Reply, ReplyToolCall, ServerRequest
from llmassert.testing._wire import (
    DONE,
    SSEEvent,
    content_text,
    error_headers,
    estimate_tokens,
    input_token_estimate,
    last_user_text,
    new_id,
    output_token_estimate,
    split_text,
)


@given(text=st.text(max_size=400), size=st.integers(min_value=1, max_value=40))
@settings(max_examples=300, deadline=None)
def test_split_text_rejoins_exactly_in_bounded_non_empty_pieces(text: str, size: int) -> None:
    pieces = split_text(text, size)
    assert "".join(pieces) == text
    assert all(pieces)
    # A piece only exceeds `size` by whitespace kept with its word.
    assert all(len(piece.rstrip()) <= size or not piece.strip() for piece in pieces)


def test_split_text_streams_words_and_cuts_long_ones() -> None:
    assert split_text("") == []
    assert split_text("Hello there, world") == ["Hello ", "there, ", "world"]
    assert split_text('{"city":"Paris"}', 6) == ['{"city', '":"Par', 'is"}']


def test_sse_event_framing() -> None:
    assert SSEEvent(data={"a": 1, "b": "é"}).encode() == 'data: {"a":1,"b":"é"}\n\n'.encode()
    assert SSEEvent(data={"type": "ping"}, event="ping").encode() == (
        b'event: ping\ndata: {"type":"ping"}\n\n'
    )
    assert DONE.encode() == b"data: [DONE]\n\n"


def test_content_text_normalises_every_content_shape() -> None:
    assert content_text(None) == ""
    assert content_text("plain") == "plain"
    assert content_text([{"type": "text", "text": "a"}, {"type": "image_url"}, "b"]) == "a\nb"
    assert content_text([{"type": "input_text", "text": "x"}]) == "x"
    assert content_text([{"type": "tool_result", "content": [{"type": "text", "text": "42"}]}]) == (
        "42"
    )
    assert content_text({"type": "refusal", "refusal": "no"}) == "no"


def test_token_estimates() -> None:
    assert [estimate_tokens(t) for t in ("", "a", "abcd", "abcde")] == [1, 1, 1, 2]
    request = ServerRequest(
        method="POST",
        path="/v1/chat/completions",
        provider="openai",
        api="chat.completions",
        messages=({"role": "system", "content": "12345678"}, {"role": "user", "content": "1234"}),
        prompt="1234",
    )
    assert input_token_estimate(request) == 3
    assert input_token_estimate(request, Reply(input_tokens=99)) == 99
    call = ReplyToolCall("f", {"x": 1})  # "f" + '{"x":1}' = 8 characters
    assert output_token_estimate(Reply(tool_calls=(call,))) == 2
    assert output_token_estimate(Reply(text="abcdefgh", output_tokens=5)) == 5


def test_error_headers() -> None:
    headers = error_headers(ErrorReply(status=429, retry_after=2.0, retry_after_ms=1500))
    assert headers == {"retry-after": "2", "retry-after-ms": "1500"}
    assert error_headers(ErrorReply(retry_after=0.5, headers={"X-Extra": "1"})) == {
        "retry-after": "0.5",
        "x-extra": "1",
    }


def test_new_ids_are_unique_and_prefixed() -> None:
    ids = {new_id("chatcmpl-") for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("chatcmpl-") and len(i) == len("chatcmpl-") + 24 for i in ids)


def test_last_user_text_is_what_rules_match_on() -> None:
    history = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "question"},
        {"role": "assistant", "content": "answer"},
        {"role": "tool", "content": "18C"},
    ]
    assert last_user_text(history) == "question"
    assert last_user_text(history[:1]) == "be brief"  # no user message: the last message
    assert last_user_text([]) == ""
