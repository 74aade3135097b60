"""Errors and fault injection, observed through the real openai SDK."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import openai
import pytest

from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, Rule


def _client(server: LLMServer, **kwargs: Any) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=server.openai_base_url, api_key="test", **kwargs)


def _ask(client: openai.OpenAI, prompt: str = "hello there", **kwargs: Any) -> Any:
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": prompt}], **kwargs
    )


def _wait_idle(server: LLMServer, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while server.in_flight:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


# ---------------------------------------------------------------- error replies


@pytest.mark.parametrize(
    ("status", "exception", "code"),
    [
        (400, openai.BadRequestError, None),
        (401, openai.AuthenticationError, "invalid_api_key"),
        (403, openai.PermissionDeniedError, "permission_denied"),
        (404, openai.NotFoundError, "model_not_found"),
        (409, openai.ConflictError, "conflict"),
        (422, openai.UnprocessableEntityError, None),
        (429, openai.RateLimitError, "rate_limit_exceeded"),
        (500, openai.InternalServerError, None),
        (502, openai.InternalServerError, None),
        (503, openai.InternalServerError, "service_unavailable"),
    ],
)
def test_error_statuses_map_to_sdk_exceptions(
    llm_server: LLMServer, status: int, exception: type[openai.APIStatusError], code: str | None
) -> None:
    llm_server.add_rule(ErrorReply(status=status))
    with pytest.raises(exception) as caught:
        _ask(_client(llm_server))
    error = caught.value
    assert error.status_code == status
    assert error.code == code
    assert isinstance(error.body, dict)
    assert set(error.body) == {"message", "type", "param", "code"}
    assert error.body["message"]
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert llm_server.request_count == 1  # max_retries=0: exactly one attempt


def test_error_fields_are_passed_through(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Reply(
            error=ErrorReply(
                status=400,
                message="This model's maximum context length is 10 tokens.",
                code="context_length_exceeded",
                param="messages",
            )
        )
    )
    with pytest.raises(openai.BadRequestError) as caught:
        _ask(_client(llm_server))
    assert caught.value.code == "context_length_exceeded"
    assert caught.value.param == "messages"
    assert "maximum context length" in caught.value.message


def test_insufficient_quota_vs_rate_limit(llm_server: LLMServer) -> None:
    llm_server.add_rule(ErrorReply(status=429, code="insufficient_quota"))
    with pytest.raises(openai.RateLimitError) as caught:
        _ask(_client(llm_server))
    assert caught.value.code == "insufficient_quota"
    assert caught.value.type == "insufficient_quota"
    assert "quota" in caught.value.message


def test_retry_after_headers(llm_server: LLMServer) -> None:
    llm_server.add_rule(ErrorReply(status=429, retry_after=2, retry_after_ms=1500))
    with pytest.raises(openai.RateLimitError) as caught:
        _ask(_client(llm_server))
    headers = caught.value.response.headers
    assert headers["retry-after"] == "2"
    assert headers["retry-after-ms"] == "1500"
    assert headers["x-request-id"].startswith("req_")


@pytest.mark.asyncio
async def test_async_client_gets_the_same_exceptions(llm_server: LLMServer) -> None:
    llm_server.add_rule(ErrorReply(status=429, message="slow down"))
    async with openai.AsyncOpenAI(
        base_url=llm_server.openai_base_url, api_key="k", max_retries=0
    ) as client:
        with pytest.raises(openai.RateLimitError, match="slow down"):
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )


# ---------------------------------------------------------------- N failures, then success


def test_rule_fails_n_times_then_succeeds_with_sdk_retries(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Rule(
            "finally",
            fault=Fault(fail_times=2, fail_with=ErrorReply(status=503, retry_after_ms=1)),
        )
    )
    completion = _ask(_client(llm_server, max_retries=2))
    assert completion.choices[0].message.content == "finally"
    assert llm_server.request_count == 3
    retry_counts = [r.headers["x-stainless-retry-count"] for r in llm_server.requests]
    assert retry_counts == ["0", "1", "2"]


def test_failures_without_retries_surface(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("ok", fault=Fault(fail_times=1)))
    client = _client(llm_server)
    with pytest.raises(openai.InternalServerError):
        _ask(client)
    assert _ask(client).choices[0].message.content == "ok"


def test_global_fault_fails_first_n_requests_of_the_server(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("a", model="a"))
    llm_server.fault = Fault(fail_times=1, fail_with=ErrorReply(status=502))
    client = _client(llm_server)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="a", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 502
    # Counted per server: the next request (another model) already succeeds.
    assert _ask(client, "next").choices[0].message.content == "next"


def test_a_rule_fault_replaces_the_global_fault(llm_server: LLMServer) -> None:
    llm_server.fault = Fault(fail_times=5)
    llm_server.add_rule(Rule("rule ok", model="fine", fault=Fault(latency_s=0.001)))
    completion = _client(llm_server).chat.completions.create(
        model="fine", messages=[{"role": "user", "content": "x"}]
    )
    assert completion.choices[0].message.content == "rule ok"


# ---------------------------------------------------------------- latency


def test_fixed_latency(llm_server: LLMServer) -> None:
    llm_server.fault = Fault(latency_s=0.05)
    start = time.perf_counter()
    _ask(_client(llm_server))
    assert time.perf_counter() - start >= 0.05


def test_latency_jitter_stays_in_bounds(llm_server: LLMServer) -> None:
    llm_server.fault = Fault(latency_s=0.01, latency_jitter_s=0.02, seed=7)
    client = _client(llm_server)
    for _ in range(3):
        start = time.perf_counter()
        _ask(client)
        elapsed = time.perf_counter() - start
        assert 0.01 <= elapsed < 0.5


def test_time_to_first_token_and_token_delay(llm_server: LLMServer) -> None:
    llm_server.add_rule("one two three four five six seven")
    llm_server.fault = Fault(ttft_s=0.06, token_delay_s=0.01)
    start = time.perf_counter()
    stream = _ask(_client(llm_server), stream=True)
    arrivals = [time.perf_counter() - start for _chunk in stream]
    assert arrivals[0] >= 0.06
    # 5+ content chunks, the finish chunk and [DONE] each come token_delay_s apart.
    assert arrivals[-1] - arrivals[0] >= 0.05


# ---------------------------------------------------------------- holding until N in flight


def _ask_in_threads(server: LLMServer, n: int) -> list[str]:
    """``n`` requests at once, each from its own thread; their answers in order."""
    answers: list[str] = [""] * n

    def one(i: int) -> None:
        completion = _ask(_client(server), f"request {i}")
        answers[i] = completion.choices[0].message.content or ""

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_hold_until_in_flight_holds_replies_until_that_many_are_in_flight(
    llm_server: LLMServer,
) -> None:
    llm_server.fault = Fault(hold_until_in_flight=5, hold_timeout_s=20)
    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.extend(_ask_in_threads(llm_server, 1)))
    first.start()
    assert llm_server.wait_for_in_flight(1)
    first.join(timeout=0.3)
    assert first.is_alive()  # one request alone is held
    assert _ask_in_threads(llm_server, 4) == [f"request {i}" for i in range(4)]
    first.join(timeout=10)
    assert answers == ["request 0"]
    assert llm_server.max_in_flight == 5
    assert llm_server.errors == []
    # once the count was reached, later requests are not held
    start = time.perf_counter()
    assert _ask(_client(llm_server), "later").choices[0].message.content == "later"
    assert time.perf_counter() - start < 5
    # reset_counters() starts the count over: a lone request is held again
    llm_server.reset_counters()
    llm_server.fault = Fault(hold_until_in_flight=2, hold_timeout_s=0.2)
    start = time.perf_counter()
    assert _ask(_client(llm_server), "alone").choices[0].message.content == "alone"
    assert time.perf_counter() - start >= 0.2


def test_a_held_reply_goes_after_the_hold_timeout_and_the_server_says_so(
    llm_server: LLMServer,
) -> None:
    llm_server.add_rule(Rule("held", fault=Fault(hold_until_in_flight=3, hold_timeout_s=0.2)))
    start = time.perf_counter()
    assert _ask_in_threads(llm_server, 2) == ["held", "held"]
    assert time.perf_counter() - start >= 0.2
    assert llm_server.max_in_flight == 2
    assert llm_server.errors == [
        "llmassert test server: Fault(hold_until_in_flight=3) let replies go after "
        "hold_timeout_s=0.2 with only 2 requests in flight"
    ]
    # the timeout opened the count: the next request goes at once, with no second note
    assert _ask(_client(llm_server)).choices[0].message.content == "held"
    assert len(llm_server.errors) == 1


def test_stop_does_not_wait_for_a_held_reply() -> None:
    server = LLMServer(fault=Fault(hold_until_in_flight=2, hold_timeout_s=60)).start()
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            _ask(_client(server, timeout=30))
        except openai.APIError as exc:
            errors.append(exc)

    thread = threading.Thread(target=ask)
    thread.start()
    assert server.wait_for_in_flight(1)
    start = time.perf_counter()
    server.stop()
    thread.join(timeout=10)
    assert time.perf_counter() - start < 10  # not the 60 s hold timeout
    assert not thread.is_alive()
    assert [type(e) for e in errors] == [openai.APIConnectionError]


# ---------------------------------------------------------------- hang, reset, broken bodies


def test_hang_vs_client_timeout(llm_server: LLMServer) -> None:
    llm_server.fault = Fault(hang=True)
    start = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        _ask(_client(llm_server, timeout=0.2))
    assert time.perf_counter() - start < 2
    assert llm_server.request_count == 1
    assert _wait_idle(llm_server)  # the hung handler ends when the client goes away


def test_connection_reset(llm_server: LLMServer) -> None:
    llm_server.fault = Fault(reset_connection=True)
    with pytest.raises(openai.APIConnectionError) as caught:
        _ask(_client(llm_server))
    assert not isinstance(caught.value, openai.APITimeoutError)
    llm_server.fault = None
    assert _ask(_client(llm_server), "works again").choices[0].message.content == "works again"


def test_malformed_json_body(llm_server: LLMServer) -> None:
    llm_server.fault = Fault(malformed_json=True)
    raw = _client(llm_server).chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": "x"}]
    )
    assert raw.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        raw.parse()


def test_malformed_stream_event(llm_server: LLMServer) -> None:
    llm_server.fault = Fault(malformed_json=True)
    with pytest.raises(json.JSONDecodeError):
        list(_ask(_client(llm_server), stream=True))


def test_error_mid_stream(llm_server: LLMServer) -> None:
    llm_server.add_rule("a long answer that will be cut off midway")
    llm_server.fault = Fault(
        stream_error_after=3, fail_with=ErrorReply(status=500, message="the model crashed")
    )
    received: list[str] = []

    def consume() -> None:
        for chunk in _ask(_client(llm_server), stream=True):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIError, match="the model crashed"):
        consume()
    assert len(received) == 3
    assert "".join(received) == "a long answer "


def test_faults_apply_to_other_apis(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(ErrorReply(status=503), api="embeddings"))
    client = _client(llm_server)
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="e", input="x")
    assert client.completions.create(model="c", prompt="fine").choices[0].text == "fine"


def test_latency_jitter_is_reproducible_with_a_seed() -> None:
    def draws(seed: int | None) -> list[float]:
        server = LLMServer()  # no need to start it: the draws are the server's own
        fault = Fault(latency_s=0.1, latency_jitter_s=0.05, seed=seed)
        return [server._latency(fault) for _ in range(5)]

    first = draws(1)
    assert first == draws(1)
    assert first != draws(2)
    assert all(0.1 <= value <= 0.15 for value in first)
    assert len(set(first)) == 5


def test_stream_stalls_after_n_events(llm_server: LLMServer) -> None:
    llm_server.add_rule("a stream that stalls in the middle")
    llm_server.fault = Fault(stream_error_after=2, hang=True)
    received: list[str] = []

    def consume() -> None:
        for chunk in _ask(_client(llm_server, timeout=0.3), stream=True):
            received.append(chunk.choices[0].delta.content or "")

    start = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        consume()
    assert time.perf_counter() - start < 3
    assert received == ["", "a "]
    assert _wait_idle(llm_server)


def test_connection_drops_after_n_events(llm_server: LLMServer) -> None:
    llm_server.add_rule("a stream whose connection drops")
    llm_server.fault = Fault(stream_error_after=3, reset_connection=True)
    received: list[str] = []

    def consume() -> None:
        for chunk in _ask(_client(llm_server), stream=True):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIConnectionError):
        consume()
    assert len(received) == 3
    assert llm_server.request_count == 1
