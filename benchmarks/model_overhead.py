"""What llmassert's model layer costs on top of the raw SDK, and what its concurrency buys,
measured in the same run against the local test server (no network, no key).

Run from the project root: ``.venv/bin/python benchmarks/model_overhead.py``. Prints, per case,
the time of the llmassert path and of its baseline, and their ratio:

* one call: ``Model.complete`` vs the raw ``openai`` SDK's ``chat.completions.create``
  (same server, same keep-alive connection pool): the parsing, retry, limit and price layers;
* one streamed call: the same, streamed;
* async: ``Model.acomplete`` (a client per call, never bound to a closed event loop) vs
  ``AsyncOpenAI`` reused on one loop;
* a batch of 32 prompts with 20 ms server latency: ``Model.batch(concurrency=8)`` vs calling
  ``Model.complete`` 32 times in a row (expect ~1/8 of the time).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import openai

from llmassert import Endpoint, Model
from llmassert.testing import Fault, LLMServer, Reply, Rule


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs (after one warm-up run)."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def row(label: str, ours: float, baseline: float) -> None:
    print(f"{label:<48}{ours * 1e3:>9.2f} ms{baseline * 1e3:>11.2f} ms{ours / baseline:>9.2f}x")


def main() -> None:
    with LLMServer([Rule(Reply(text="Paris", input_tokens=10, output_tokens=2))]) as server:
        endpoint = Endpoint(name="bench", provider="openai", base_url=server.openai_base_url)
        model = Model("bench:gpt-4o-mini", endpoints={"bench": endpoint})
        raw = openai.OpenAI(base_url=server.openai_base_url, api_key="x", max_retries=0)
        messages = [{"role": "user", "content": "What is the capital of France?"}]
        print(f"{'case':<48}{'llmassert':>12}{'baseline':>14}{'ratio':>10}")

        def sdk_call() -> object:
            return raw.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]

        row(
            "one call: Model.complete vs raw SDK",
            timed(lambda: model.complete("What is the capital of France?"), 200),
            timed(sdk_call, 200),
        )

        def sdk_stream() -> object:
            stream = raw.chat.completions.create(
                model="gpt-4o-mini",
                messages=messages,
                stream=True,  # type: ignore[arg-type]
            )
            return list(stream)

        row(
            "one streamed call: Model.complete vs raw SDK",
            timed(lambda: model.complete("What is the capital of France?", stream=True), 200),
            timed(sdk_stream, 200),
        )

        async def ours_async() -> None:
            for _ in range(50):
                await model.acomplete("What is the capital of France?")

        async def sdk_async() -> None:
            client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="x", max_retries=0)
            for _ in range(50):
                await client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
            await client.close()

        row(
            "50 async calls: acomplete vs AsyncOpenAI reused",
            timed(lambda: asyncio.run(ours_async()), 5),
            timed(lambda: asyncio.run(sdk_async()), 5),
        )

        server.set_rules([Rule(Reply(text="ok"), fault=Fault(latency_s=0.02))])
        prompts = [f"question {i}" for i in range(32)]
        row(
            "32 calls at 20 ms: batch(concurrency=8) vs serial",
            timed(lambda: model.batch(prompts, concurrency=8), 3),
            timed(lambda: [model.complete(p) for p in prompts], 3),
        )
        raw.close()


if __name__ == "__main__":
    main()
