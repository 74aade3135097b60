"""A long-running test server keeps a bounded request log: its memory stays flat.

``llmassert serve`` runs in a subprocess; 2,000 chat requests of 50 KB (raw HTTP/1.1 keep-alive
for speed, then one through the openai SDK) must grow its resident memory by less than 20 MB
(an unbounded log grows it by ~100 MB). The ``llm_server`` fixture's log is still reset per
test and unbounded within one.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import openai
import pytest

from llmassert._errors import ConfigError
from llmassert.testing import LLMServer
from llmassert.testing._cli import REQUEST_LOG_LIMIT

REQUESTS = 2000
BODY_CHARS = 50_000
MAX_GROWTH_MB = 20


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "llmassert", "serve", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("OPENAI_BASE_URL="), line
        yield process, line.split("=", 1)[1]
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_serve_memory_stays_flat_over_2000_large_requests(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    process, base_url = served
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)

    def send(i: int) -> None:
        content = f"request {i}: " + "x" * BODY_CHARS
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]})
        connection.request(
            "POST",
            url.path + "/chat/completions",
            body,
            {"content-type": "application/json", "authorization": "Bearer test"},
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        assert answer["choices"][0]["message"]["content"].startswith(f"request {i}: ")

    for i in range(50):  # warm-up: allocator pools, aiohttp's first-request imports
        send(i)
    before = _rss_mb(process.pid)
    for i in range(REQUESTS):
        send(i)
    connection.close()
    with openai.OpenAI(base_url=base_url, api_key="test", max_retries=0) as client:
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "still answering?"}]
        )
    assert reply.choices[0].message.content == "still answering?"
    growth = _rss_mb(process.pid) - before
    assert growth < MAX_GROWTH_MB, (
        f"llmassert serve grew by {growth:.0f} MB over {REQUESTS} requests of 50 KB "
        f"(from {before:.0f} MB); expected < {MAX_GROWTH_MB} MB"
    )


def test_request_log_limit_keeps_the_most_recent_requests() -> None:
    with LLMServer(request_log_limit=3) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
        with client:
            for i in range(5):
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"prompt {i}"}]
                )
        assert [r.prompt for r in server.requests] == ["prompt 2", "prompt 3", "prompt 4"]
        assert server.last_request is not None
        assert server.last_request.prompt == "prompt 4"
        assert server.request_count == 5  # the counters still count every request
        server.reset()
        assert server.requests == []
        assert server.request_log_limit == 3


def test_the_cli_keeps_a_small_log_and_the_default_keeps_all() -> None:
    assert 0 < REQUEST_LOG_LIMIT <= 1000
    assert LLMServer().request_log_limit is None


@pytest.mark.parametrize("bad", [-1, 2.5, True, "10"])
def test_a_bad_request_log_limit_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="request_log_limit must be a whole number >= 0"):
        LLMServer(request_log_limit=bad)  # type: ignore[arg-type]
