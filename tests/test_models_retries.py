"""The one retry layer, concurrency limits, rpm budgets and spending guards, measured against the
local test server (its request count proves the SDKs' own retries are off)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from typing import Any

import pytest

from llmassert import (
    Budget,
    BudgetExceededError,
    Endpoint,
    EndpointUnreachableError,
    Model,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, Rule

_names = itertools.count()


@pytest.fixture(autouse=True)
def _whole_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under xdist each worker takes its share of every limit; these tests measure the whole."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _model(server: LLMServer, wire: str = "openai", **kw: Any) -> Model:
    # A fresh endpoint name per model: limiters are shared per endpoint, process-wide.
    name = f"retry{next(_names)}"
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    kw.setdefault("retry_initial_s", 0.001)
    budget = kw.pop("budget", None)
    endpoint = Endpoint(name=name, provider=wire, base_url=base, **kw)
    return Model(f"{name}:gpt-4o-mini", endpoints={name: endpoint}, budget=budget)


def _failing(status: int, times: int, **error: Any) -> Rule:
    return Rule(
        Reply(text="recovered"),
        fault=Fault(fail_times=times, fail_with=ErrorReply(status, **error)),
    )


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_transient_failures_are_retried_then_succeed(llm_server: LLMServer, status: int) -> None:
    llm_server.add_rule(_failing(status, 3))
    r = _model(llm_server).complete("hi")
    assert r.text == "recovered"
    assert r.retries == 3
    assert llm_server.request_count == 4  # SDK retries are off: exactly our 4 attempts


def test_each_retry_is_logged(llm_server: LLMServer, caplog: pytest.LogCaptureFixture) -> None:
    llm_server.add_rule(_failing(503, 2, message="busy"))
    with caplog.at_level(logging.WARNING, logger="llmassert"):
        _model(llm_server).complete("hi")
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2
    assert "retry 1/4 of retry" in retries[0]
    assert "busy" in retries[0]


def test_anthropic_529_overloaded_is_retried(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(529, 2))
    r = _model(llm_server, "anthropic").complete("hi")
    assert (r.text, r.retries, llm_server.request_count) == ("recovered", 2, 3)


def test_attempts_are_bounded_and_counted_in_the_message(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(500, 100, message="the GPU caught fire"))
    with pytest.raises(ServerError) as info:
        _model(llm_server, max_retries=2).complete("hi")
    assert llm_server.request_count == 3
    message = str(info.value)
    assert "the GPU caught fire" in message
    assert "Gave up after 3 attempts" in message
    assert info.value.status == 500
    assert info.value.request_id


def test_total_wait_is_bounded(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(503, 100, retry_after_ms=200))
    started = time.perf_counter()
    with pytest.raises(ServerError):
        _model(llm_server, max_retries=10, retry_total_wait_s=0.5).complete("hi")
    assert time.perf_counter() - started < 1.5
    assert llm_server.request_count == 3  # 2 waits of 0.2 s fit in 0.5 s, a third does not


@pytest.mark.parametrize(
    ("error", "expected"),
    [({"retry_after_ms": 300}, 0.3), ({"retry_after": 0.3}, 0.3)],
    ids=["retry-after-ms", "retry-after"],
)
def test_retry_after_is_honoured(
    llm_server: LLMServer, error: dict[str, Any], expected: float
) -> None:
    llm_server.add_rule(_failing(429, 1, **error))
    started = time.perf_counter()
    r = _model(llm_server).complete("hi")
    waited = time.perf_counter() - started
    assert r.retries == 1
    # at least the server's wait; the margin above is for a loaded machine (it still tells
    # 0.3 s from a value read in the wrong unit)
    assert expected <= waited < expected + 2.0


def test_retry_after_is_capped(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(429, 1, retry_after=3600))
    started = time.perf_counter()
    r = _model(llm_server, retry_max_wait_s=0.05).complete("hi")
    assert r.retries == 1
    assert time.perf_counter() - started < 3.0  # capped at 0.05 s, not the hour asked for


def test_quota_exhausted_is_never_retried(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(429, 5, code="insufficient_quota", type="insufficient_quota"))
    with pytest.raises(QuotaExceededError, match=r"quota exhausted.*Not retried") as info:
        _model(llm_server).complete("hi")
    assert isinstance(info.value, RateLimitError)
    assert llm_server.request_count == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_non_transient_errors_are_not_retried(llm_server: LLMServer, status: int) -> None:
    llm_server.add_rule(_failing(status, 5))
    with pytest.raises(ProviderError) as info:
        _model(llm_server).complete("hi")
    assert info.value.status == status
    assert llm_server.request_count == 1


def test_x_should_retry_overrides_the_status(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(400, 1, headers={"x-should-retry": "true"}))
    assert _model(llm_server).complete("hi").retries == 1
    llm_server.reset()
    llm_server.add_rule(_failing(500, 1, headers={"x-should-retry": "false"}))
    with pytest.raises(ServerError):
        _model(llm_server).complete("hi")
    assert llm_server.request_count == 1


def test_rate_limit_that_stays_raises_after_retries(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(429, 100))
    with pytest.raises(RateLimitError, match="--llm-concurrency"):
        _model(llm_server, max_retries=1).complete("hi")
    assert llm_server.request_count == 2


def test_mid_stream_error_is_retried(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Rule(Reply(text="a b c d"), fault=Fault(stream_error_after=1, fail_with=ErrorReply(500)))
    )
    with pytest.raises(ServerError, match=r"stream .* ended with an error"):
        _model(llm_server, max_retries=1).complete("hi", stream=True)
    assert llm_server.request_count == 2


def test_unreachable_endpoint_is_retried_then_names_the_url() -> None:
    endpoint = Endpoint(
        name="down",
        provider="openai",
        base_url="http://127.0.0.1:9/v1",
        max_retries=1,
        retry_initial_s=0.001,
    )
    with pytest.raises(EndpointUnreachableError, match=r"http://127\.0\.0\.1:9/v1") as info:
        Model("down:m", endpoints={"down": endpoint}).complete("hi")
    assert "Gave up after 2 attempts" in str(info.value)


@pytest.mark.asyncio
async def test_async_retries(llm_server: LLMServer) -> None:
    llm_server.add_rule(_failing(503, 2))
    r = await _model(llm_server).acomplete("hi", stream=True)
    assert (r.text, r.retries, llm_server.request_count) == ("recovered", 2, 3)


def test_concurrency_limit_holds_across_threads_and_event_loops(llm_server: LLMServer) -> None:
    # held until 3 are in flight at once (the limit reached), then 30 ms each: a fourth sent
    # past the limit would overlap them
    llm_server.add_rule(Rule(None, fault=Fault(hold_until_in_flight=3, latency_s=0.03)))
    m = _model(llm_server, max_concurrency=3)
    twin = Model(m.spec, endpoints={m.endpoint.name: m.endpoint})  # same endpoint, new object

    def threads() -> None:
        m.batch([f"t{i}" for i in range(9)], concurrency=9)

    def loop() -> None:
        asyncio.run(twin.abatch([f"a{i}" for i in range(9)], concurrency=9))

    workers = [threading.Thread(target=threads), threading.Thread(target=loop)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert llm_server.request_count == 18
    assert llm_server.max_in_flight == 3
    assert llm_server.errors == []  # the hold did not time out


def test_concurrency_setting_overrides_the_endpoint(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(None, fault=Fault(hold_until_in_flight=2, latency_s=0.02)))
    m = _model(llm_server, max_concurrency=50)
    limited = Model(m.spec, endpoints={m.endpoint.name: m.endpoint}, concurrency=2)
    limited.batch([str(i) for i in range(8)], concurrency=8)
    assert llm_server.max_in_flight == 2
    assert llm_server.errors == []


def test_rpm_budget_spaces_requests(llm_server: LLMServer) -> None:
    m = _model(llm_server, rpm=3000)  # 50 per second, bursts of 50
    started = time.perf_counter()
    m.batch([str(i) for i in range(60)], concurrency=8)
    assert time.perf_counter() - started >= 0.15  # 10 requests over the burst wait ~0.2 s


def test_tpm_budget_spaces_requests(llm_server: LLMServer) -> None:
    m = _model(llm_server, tpm=60 * 300)  # 300 tokens per second, bursts of 300
    started = time.perf_counter()
    m.batch([str(i) for i in range(16)], concurrency=4, max_tokens=10)  # ~30 tokens each
    assert time.perf_counter() - started >= 0.3


def test_max_calls_guard_stops_live_calls(llm_server: LLMServer) -> None:
    budget = Budget(max_calls=2)
    m = _model(llm_server, budget=budget)
    m.complete("one")
    m.complete("two")
    with pytest.raises(BudgetExceededError, match=r"--llm-max-calls 2 reached \(2 live calls"):
        m.complete("three")
    assert llm_server.request_count == 2


def test_max_cost_guard_counts_cost(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="x", input_tokens=1000, output_tokens=1000))
    budget = Budget(max_cost_usd=0.001)
    m = _model(llm_server, budget=budget, prices={"input": 0.4, "output": 0.6})
    m.complete("one")
    assert budget.cost_usd == pytest.approx(0.001)
    with pytest.raises(BudgetExceededError, match=r"--llm-max-cost 0.001 USD reached"):
        m.complete("two")
    assert llm_server.request_count == 1


def test_limits_are_shared_among_xdist_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmassert._models._limits import get_limiter

    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
    assert get_limiter(("xdist-test",), 10, rpm=100).max_in_flight == 2
    assert get_limiter(("xdist-test-2",), 2).max_in_flight == 1
    budget = Budget(max_cost_usd=1.0, max_calls=10)
    assert (budget.max_cost_usd, budget.max_calls) == (0.25, 2)


def test_replayed_calls_are_free(llm_server: LLMServer) -> None:
    from llmassert._models._wire import WireRequest, WireResponse

    class Replay:
        def call(self, request: WireRequest, send: Any) -> WireResponse:
            body = {"id": "r", "object": "chat.completion", "created": 0, "model": "m"}
            body["choices"] = [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}}
            ]
            return WireResponse(body=body, replayed=True)

        async def acall(self, request: WireRequest, send: Any) -> WireResponse:
            return self.call(request, send)

    budget = Budget(max_calls=0)
    m = _model(llm_server, budget=budget)
    m.interceptors = [Replay()]
    assert m.complete("hi").replayed
    assert budget.calls == 0
    assert llm_server.request_count == 0
