"""The test server serves hundreds of requests at once (handlers are never serialised)."""

from __future__ import annotations

import asyncio

import openai
import pytest

from llmassert.testing import LLMServer, Rule

N = 200


@pytest.mark.asyncio
async def test_200_simultaneous_requests_are_in_flight_at_once(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(lambda request: f"answer {request.prompt}"))
    llm_server.hold()  # every reply waits until release(): all requests pile up in flight
    async with openai.AsyncOpenAI(
        base_url=llm_server.openai_base_url, api_key="k", max_retries=0, timeout=30
    ) as client:
        tasks = [
            asyncio.ensure_future(
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": str(i)}]
                )
            )
            for i in range(N)
        ]
        reached = await asyncio.to_thread(llm_server.wait_for_in_flight, N, 20.0)
        in_flight_while_held = llm_server.in_flight
        llm_server.release()
        completions = await asyncio.gather(*tasks)
    assert reached, f"only {in_flight_while_held} of {N} requests got in flight"
    assert llm_server.max_in_flight >= 150
    assert llm_server.max_in_flight == N
    assert llm_server.request_count == N
    assert llm_server.in_flight == 0
    answers = sorted(c.choices[0].message.content or "" for c in completions)
    assert answers == sorted(f"answer {i}" for i in range(N))
