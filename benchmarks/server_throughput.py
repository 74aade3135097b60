"""Local test server: requests per second, and concurrent vs sequential wall time.

Run from the project root::

    .venv/bin/python benchmarks/server_throughput.py [--requests 2000] [--concurrency 64]
                                                    [--latency-requests 100] [--latency 0.05]

1. Throughput: ``--requests`` chat completions (plain, then streamed) sent by ``--concurrency``
   concurrent aiohttp client tasks (a light client, so the figure is the server's), plus the
   same through the official ``openai`` SDK (``AsyncOpenAI``), in requests per second.
2. Concurrency: ``--latency-requests`` requests (aiohttp client) against a rule with a fixed
   ``--latency``, first one after the other (the baseline, measured in this run), then all at
   once. Prints
   both wall times, their ratio (ideal: 1/N) and the server's own ``max_in_flight``.

Client and server share one process (the server runs in a background thread), as in a test run,
so the client's own CPU cost (large for the SDK) counts against the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp
import openai

from llmassert.testing import Fault, LLMServer, Rule

BODY = {"model": "bench", "messages": [{"role": "user", "content": "benchmark prompt"}]}
REPLY = "A reply of a dozen words or so, typical of a short model answer."


async def _raw(server: LLMServer, total: int, concurrency: int, stream: bool) -> float:
    url = server.openai_base_url + "/chat/completions"
    payload = json.dumps({**BODY, "stream": stream}).encode()
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}
    remaining = total
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.post(url, data=payload, headers=headers) as response:
                    await response.read()
                    assert response.status == 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


async def _sdk(server: LLMServer, total: int, concurrency: int) -> float:
    remaining = total
    async with openai.AsyncOpenAI(
        base_url=server.openai_base_url, api_key="bench", max_retries=0
    ) as client:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await client.chat.completions.create(**BODY)  # type: ignore[call-overload]

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


async def _latency_bound(server: LLMServer, total: int, concurrent: bool) -> float:
    url = server.openai_base_url + "/chat/completions"
    payload = json.dumps(BODY).encode()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            async with session.post(url, data=payload) as response:
                await response.read()
                assert response.status == 200

        start = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(call() for _ in range(total)))
        else:
            for _ in range(total):
                await call()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-requests", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()

    with LLMServer([Rule(REPLY)]) as server:
        asyncio.run(_raw(server, 50, 8, stream=False))  # warm-up
        print(f"Throughput: {args.requests} requests, {args.concurrency} concurrent clients")
        for label, coro in (
            ("plain, aiohttp client", _raw(server, args.requests, args.concurrency, False)),
            ("streamed, aiohttp client", _raw(server, args.requests, args.concurrency, True)),
            ("plain, openai SDK", _sdk(server, args.requests, args.concurrency)),
        ):
            elapsed = asyncio.run(coro)
            print(f"  {label:<26} {args.requests / elapsed:8.0f} req/s  ({elapsed:.2f} s)")

    n, latency = args.latency_requests, args.latency
    with LLMServer([Rule(REPLY, fault=Fault(latency_s=latency))]) as server:
        sequential = asyncio.run(_latency_bound(server, n, concurrent=False))
        server.reset_counters()
        concurrent = asyncio.run(_latency_bound(server, n, concurrent=True))
        peak = server.max_in_flight
    print(f"\nConcurrency: {n} requests, each held {latency * 1000:.0f} ms by the server")
    print(f"  sequential (baseline)      {sequential:8.3f} s")
    print(f"  concurrent                 {concurrent:8.3f} s   max_in_flight={peak}")
    print(
        f"  concurrent / sequential    {concurrent / sequential:8.3f}     "
        f"(ideal {1 / n:.3f}; speed-up {sequential / concurrent:.1f}x)"
    )


if __name__ == "__main__":
    main()
