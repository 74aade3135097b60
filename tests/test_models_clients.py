"""SDK client lifetime: cached sync clients are closed (never left to the garbage collector or
interpreter shutdown), a busy client is never closed, and a user's run leaks no socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmassert import Endpoint, Model
from llmassert._models import _clients
from llmassert.testing import LLMServer, Reply


@pytest.fixture
def no_cached_clients() -> Iterator[None]:
    _clients.close_clients()
    yield
    _clients.close_clients()


def _endpoint(port: int) -> Endpoint:
    return Endpoint(name=f"e{port}", provider="openai", base_url=f"http://127.0.0.1:{port}/v1")


@pytest.mark.usefixtures("no_cached_clients")
def test_the_cache_is_bounded_and_closes_what_it_evicts() -> None:
    held = []
    for port in range(1, _clients.MAX_SYNC_CLIENTS + 4):
        with _clients.sync_client(_endpoint(port), "x") as client:
            held.append(client)
    assert len(_clients._sync_clients) == _clients.MAX_SYNC_CLIENTS
    assert [c.is_closed() for c in held[:3]] == [True, True, True]  # least recently used
    assert not any(c.is_closed() for c in held[3:])
    with _clients.sync_client(_endpoint(4), "x") as again:
        assert again is held[3]  # reused, not rebuilt
    assert _clients.close_clients() == _clients.MAX_SYNC_CLIENTS
    assert all(c.is_closed() for c in held)
    assert not _clients._sync_clients


@pytest.mark.usefixtures("no_cached_clients")
def test_a_busy_client_is_never_closed() -> None:
    with _clients.sync_client(_endpoint(1), "x") as busy:
        assert _clients.close_clients() == 0  # idle ones only
        for port in range(2, _clients.MAX_SYNC_CLIENTS + 4):
            with _clients.sync_client(_endpoint(port), "x"):
                pass
        assert not busy.is_closed()  # eviction skipped it although it is the oldest
        assert len(_clients._sync_clients) == _clients.MAX_SYNC_CLIENTS
    assert _clients.close_clients() == _clients.MAX_SYNC_CLIENTS
    assert busy.is_closed()


@pytest.mark.usefixtures("no_cached_clients")
def test_calls_after_closing_build_a_new_client(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text="pong"))
    endpoint = Endpoint(name="srv", provider="openai", base_url=llm_server.openai_base_url)
    m = Model("srv:m", endpoints={"srv": endpoint})
    assert m.complete("ping").text == "pong"
    assert _clients.close_clients() == 1
    assert m.complete("ping").text == "pong"
    assert llm_server.request_count == 2


INNER = """
import pytest
from llmassert import Endpoint, Model
from llmassert.testing import LLMServer, Reply

@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_live_calls(wire, stream):
    with LLMServer([Reply(text="pong")]) as server:
        base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
        endpoint = Endpoint(name="srv", provider=wire, base_url=base)
        model = Model("srv:m", endpoints={"srv": endpoint})
        assert model.complete("ping", stream=stream).text == "pong"

def test_demo(llm):
    assert llm.complete("What is 2 + 2?").text
"""
# A suite whose tests run pytest in-process (pytester) with live calls, as our own plugin tests
# do: the cached clients outlive the inner runs and, unless closed, reach interpreter shutdown
# with their keep-alive sockets open.
OUTER = f"""
import llmassert._models._model

pytest_plugins = ["pytester"]

def test_inner_run(pytester):
    pytester.makeini("[pytest]\\nasyncio_default_fixture_loop_scope = function\\n")
    pytester.makepyfile({INNER!r})
    result = pytester.runpytest_inprocess("--llm-model=demo:prompted", "--llm-record=off")
    result.assert_outcomes(passed=5)
"""


def test_a_run_with_live_calls_leaks_no_socket(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Live calls on purpose (models built in a test obey the record mode, and CI means none).
    pytester.makeini("[pytest]\nfilterwarnings = error\nllm_record = off\n")
    pytester.makepyfile(test_outer=OUTER)
    # Show every ResourceWarning, including those at interpreter shutdown ("sys:1").
    monkeypatch.setenv("PYTHONWARNINGS", "always::ResourceWarning")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "ResourceWarning" not in result.stdout.str() + result.stderr.str()


@pytest.mark.usefixtures("no_cached_clients")
def test_the_end_of_a_pytest_run_closes_cached_clients(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Reply(text="pong"))
    endpoint = Endpoint(name="srv", provider="openai", base_url=llm_server.openai_base_url)
    Model("srv:m", endpoints={"srv": endpoint}).complete("ping")
    cached = list(_clients._sync_clients.values())
    assert len(cached) == 1
    assert not cached[0].is_closed()
    pytester.makepyfile("def test_nothing():\n    pass\n")
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    assert cached[0].is_closed()
    assert not _clients._sync_clients
