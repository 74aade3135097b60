"""The recording summary counts only calls that reached the network: calls that fail at once
because their endpoint is known to be unreachable are counted on their own line."""

from __future__ import annotations

import re
import socket

import pytest


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
