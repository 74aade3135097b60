"""Bounded failures of live calls: an unreachable endpoint costs one quick retry, then later
calls fail at once until a probe connects; one deadline per call, retries included;
non-transient failures are retried at most once; hints match the failure."""

from __future__ import annotations

import itertools
import math
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from llmassert import (
    Endpoint,
    EndpointUnreachableError,
    Model,
    ModelTimeoutError,
    ProviderError,
)
from llmassert._models._health import PROBE_INTERVAL_S
from llmassert.testing import Fault, LLMServer, Reply, Rule

_names = itertools.count()


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _model(base_url: str, context: str | None = None, **kw: Any) -> Model:
    # A fresh endpoint name per model: health and limits are kept per endpoint, process-wide.
    name = f"fw{next(_names)}"
    endpoint = Endpoint(name=name, provider="openai", base_url=base_url, **kw)
    return Model(f"{name}:m", endpoints={name: endpoint}, context=context)


# ---------------------------------------------------------------- an endpoint that is down


def test_six_tests_against_a_down_endpoint_finish_quickly(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_models = ["local"]
        llm_record = "off"

        [tool.llmassert.endpoints.local]
        base_url = "http://127.0.0.1:{_free_port()}/v1"
        model = "m"
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("i", range(6))
        def test_x(llm, i):
            llm.complete("hi")
        """
    )
    started = time.perf_counter()
    result = pytester.runpytest("-p", "no:randomly")
    took = time.perf_counter() - started
    result.assert_outcomes(failed=6)
    assert took < 8.0, took  # was ~6 s per test (5 attempts with backoff)
    out = result.stdout.str()
    assert out.count("Connection refused") >= 6
    assert out.count("unreachable since test_six_tests_against_a_down_endpoint") >= 5
    assert "retry 2/" not in out  # at most one quick retry


def test_calls_that_fail_at_once_are_not_counted_as_reaching_the_network(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_models = ["local"]
        llm_record = "once"

        [tool.llmassert.endpoints.local]
        base_url = "http://127.0.0.1:{_free_port()}/v1"
        model = "m"
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("i", range(4))
        def test_x(llm, i):
            llm.complete(f"hi {i}")
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    counts = re.search(r"llmassert recordings: 0 replayed, 0 recorded, (\d+) live, 0 missing", out)
    unsent = re.search(r"llmassert recordings: (\d+) calls? failed at once without a request", out)
    network = re.search(
        r"llmassert recordings: (\d+) requests? reached the network \((\d+) calls? \+ (\d+) "
        r"retr(?:y|ies)\); (\d+) of the calls failed",
        out,
    )
    assert counts, out
    assert unsent, out
    assert network, out
    live, at_once = int(counts.group(1)), int(unsent.group(1))
    # The first call finds the endpoint down; later ones fail at once (a probe, at most one
    # every 2 s, would be a live call of its own).
    assert live + at_once == 4
    assert at_once >= 2
    assert int(network.group(2)) == live == int(network.group(4))
    assert int(network.group(1)) == live + int(network.group(3))


def test_later_calls_fail_at_once_naming_the_first_test() -> None:
    m = _model(f"http://127.0.0.1:{_free_port()}/v1", context="tests/test_a.py::test_first")
    started = time.perf_counter()
    with pytest.raises(EndpointUnreachableError, match="Is the server running") as first:
        m.complete("hi")
    assert time.perf_counter() - started < 1.5  # one quick retry at most
    assert "Gave up after 2 attempts" in str(first.value)
    m.context = "tests/test_a.py::test_second"
    started = time.perf_counter()
    with pytest.raises(EndpointUnreachableError) as later:
        m.complete("hi")
    assert time.perf_counter() - started < 0.5  # no attempt at all (generous: loaded machines)
    message = str(later.value)
    assert "unreachable since tests/test_a.py::test_first" in message
    assert "Connection refused" in message
    assert f"at most one every {PROBE_INTERVAL_S:g} s" in message


def test_a_server_started_later_is_found_by_a_probe() -> None:
    port = _free_port()
    m = _model(f"http://127.0.0.1:{port}/v1", context="t")
    with pytest.raises(EndpointUnreachableError):
        m.complete("hi")
    with LLMServer([Reply(text="up again")], port=port) as server:
        with pytest.raises(EndpointUnreachableError, match="unreachable since t"):
            m.complete("hi")  # within the probe interval: not even tried
        assert server.request_count == 0
        time.sleep(PROBE_INTERVAL_S + 0.1)
        assert m.complete("hi").text == "up again"
        assert m.complete("hi").text == "up again"
        assert server.request_count == 2


def test_a_new_run_starts_afresh(pytester: pytest.Pytester) -> None:
    port = _free_port()
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_models = ["local"]
        llm_record = "off"

        [tool.llmassert.endpoints.local]
        base_url = "http://127.0.0.1:{port}/v1"
        model = "m"
        """
    )
    pytester.makepyfile("def test_x(llm):\n    assert llm.complete('hi').text == 'up'\n")
    pytester.runpytest().assert_outcomes(failed=1)
    with LLMServer([Reply(text="up")], port=port):
        pytester.runpytest().assert_outcomes(passed=1)  # at once, not after a probe interval


@pytest.mark.asyncio
async def test_async_calls_share_the_endpoint_state() -> None:
    m = _model(f"http://127.0.0.1:{_free_port()}/v1", context="first")
    with pytest.raises(EndpointUnreachableError):
        await m.acomplete("hi")
    with pytest.raises(EndpointUnreachableError, match="unreachable since first"):
        m.complete("hi")


# ---------------------------------------------------------------- hints and non-transient


def test_a_connection_dropped_mid_answer_is_not_called_unreachable(
    llm_server: LLMServer,
) -> None:
    llm_server.add_rule(Rule(Reply(text="x"), fault=Fault(reset_connection=True)))
    m = _model(llm_server.openai_base_url, max_retries=1, retry_initial_s=0.001)
    with pytest.raises(EndpointUnreachableError) as info:
        m.complete("hi")
    message = str(info.value)
    assert "broke before the answer was complete" in message
    assert "Is the server running" not in message
    # The server answered, so the endpoint is not marked down: the next call goes out.
    llm_server.reset()
    assert m.complete("hi").text


def test_a_body_that_is_not_json_is_retried_at_most_once(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(Reply(text="x"), fault=Fault(malformed_json=True)))
    m = _model(llm_server.openai_base_url, retry_initial_s=0.001)
    with pytest.raises(ProviderError, match="not valid JSON"):
        m.complete("hi")
    assert llm_server.request_count == 2


class _NotUtf8(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"choices": [{"message": {"content": "caf\xe9"}}]}'  # latin-1, not UTF-8
        type(self).count += 1  # before answering: the client may check as soon as it has read
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    count = 0

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def not_utf8_server() -> Iterator[str]:
    _NotUtf8.count = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotUtf8)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_body_that_is_not_utf8_is_retried_at_most_once(not_utf8_server: str) -> None:
    m = _model(not_utf8_server, retry_initial_s=0.001)
    with pytest.raises(ProviderError, match="not valid JSON"):
        m.complete("hi")
    assert _NotUtf8.count == 2


# ---------------------------------------------------------------- one deadline per call


def test_a_hung_endpoint_costs_one_timeout_per_call_retries_included(
    llm_server: LLMServer,
) -> None:
    llm_server.add_rule(Rule(Reply(text="never"), fault=Fault(hang=True)))
    m = _model(llm_server.openai_base_url)  # 4 retries by default: 5 x 1 s without the deadline
    timeout = 1.0
    started = time.perf_counter()
    with pytest.raises(ModelTimeoutError) as info:
        m.complete("hi", timeout=timeout)
    took = time.perf_counter() - started
    message = str(info.value)
    # the counted evidence: one attempt, cut at the call's timeout
    assert llm_server.request_count == 1
    assert "no answer within 1 s" in message
    reported = re.search(r"Gave up after 1 attempt in (\d+\.\d+) s", message)
    assert reported, message
    assert timeout <= float(reported.group(1)) <= took + 0.005  # (rounded to 0.01 s)
    # and the wall clock: far from the 5 attempts a call without a deadline would make (the
    # margin is for a loaded machine)
    assert took < 2.5 * timeout, took


def test_retries_stop_at_the_deadline_and_the_message_says_so(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(Reply(text="never"), fault=Fault(hang=True)))
    attempt_s, deadline_s = 0.25, 1.5
    # 20 retries: 21 attempts of 0.25 s (5+ s) if the deadline did not stop them
    m = _model(
        llm_server.openai_base_url,
        attempt_timeout_s=attempt_s,
        retry_initial_s=0.01,
        max_retries=20,
    )
    started = time.perf_counter()
    with pytest.raises(ModelTimeoutError) as info:
        m.complete("hi", timeout=deadline_s)
    took = time.perf_counter() - started
    message = str(info.value)
    # the last attempt's timeout: 0.25 s, or the call's 1.5 s when less than 0.25 s was left
    assert re.search(r"no answer within (0\.25|1\.5) s", message), message
    # the counted evidence: retries happened, and no more attempts than fit in the deadline
    # (each takes its whole attempt timeout against a hung server)
    attempts = llm_server.request_count
    assert 2 <= attempts <= math.ceil(deadline_s / attempt_s), attempts
    assert f"Gave up after {attempts} attempts in" in message
    reported = re.search(r"attempts in (\d+\.\d+) s", message)
    assert reported, message
    # every attempt but the last waited its whole 0.25 s; the last at least the least worth
    # starting (a tenth of the deadline)
    least = (attempts - 1) * attempt_s + 0.1 * deadline_s
    assert least <= float(reported.group(1)) + 0.005 <= took + 0.01  # (rounded to 0.01 s)
    # the wall clock: the deadline plus a margin for a loaded machine, well under the 21 attempts
    assert took < 2 * deadline_s, took


def test_a_stream_running_past_the_deadline_is_cut(llm_server: LLMServer) -> None:
    # 100 events 50 ms apart: 5 s uncut
    words = " ".join(f"w{i}" for i in range(100))
    llm_server.add_rule(Rule(Reply(text=words), fault=Fault(token_delay_s=0.05)))
    m = _model(llm_server.openai_base_url, max_retries=0)
    timeout = 0.8
    started = time.perf_counter()
    with pytest.raises(ModelTimeoutError, match="was still running after") as info:
        m.complete("hi", stream=True, timeout=timeout)
    took = time.perf_counter() - started
    assert llm_server.request_count == 1
    reported = re.search(r"still running after (\d+\.\d) s, past its 0\.8 s", str(info.value))
    assert reported, str(info.value)
    assert timeout <= float(reported.group(1)) + 0.05  # (rounded to 0.1 s)
    assert took < 4 * timeout, took  # cut, not the 5 s of the whole stream
