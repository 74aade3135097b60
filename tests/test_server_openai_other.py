"""Legacy completions, embeddings and the models endpoints, through the real SDKs."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from llmassert.testing import DEMO_MODELS, LLMServer, Reply, Rule

_OPEN: list[openai.OpenAI] = []


def _client(server: LLMServer) -> openai.OpenAI:
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every client a test made: a socket left to the GC warns (an error here)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


# ---------------------------------------------------------------- legacy completions


def test_completion_raw_prompt_in_text_out(llm_server: LLMServer) -> None:
    llm_server.add_rule(
        Rule(" there was a princess.", prompt="Once upon a time", api="completions")
    )
    completion = _client(llm_server).completions.create(
        model="my-finetune", prompt="Once upon a time", max_tokens=20
    )
    assert completion.object == "text_completion"
    assert completion.id.startswith("cmpl-")
    assert completion.model == "my-finetune"
    (choice,) = completion.choices
    assert choice.text == " there was a princess."
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 4
    assert completion.usage.completion_tokens == 6
    request = llm_server.last_request
    assert request is not None
    assert (request.api, request.prompt, request.messages) == (
        "completions",
        "Once upon a time",
        (),
    )


def test_completion_echo_n_and_several_prompts(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(choices=(Reply(text=" A"), Reply(text=" B"))))
    completion = _client(llm_server).completions.create(
        model="m", prompt=["p1", "p2"], n=2, echo=True
    )
    assert [c.text for c in completion.choices] == ["p1 A", "p1 B", "p2 A", "p2 B"]
    assert [c.index for c in completion.choices] == [0, 1, 2, 3]


def test_completion_streamed_with_usage(llm_server: LLMServer) -> None:
    llm_server.add_rule(Reply(text=" and they lived happily ever after", finish_reason="length"))
    stream = _client(llm_server).completions.create(
        model="m", prompt="x", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == " and they lived happily ever after"
    assert sum(1 for c in chunks if c.choices and c.choices[0].text) > 3
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 9


@pytest.mark.asyncio
async def test_completion_async(llm_server: LLMServer) -> None:
    async with openai.AsyncOpenAI(
        base_url=llm_server.openai_base_url, api_key="k", max_retries=0
    ) as client:
        completion = await client.completions.create(model="m", prompt="async prompt")
        stream = await client.completions.create(model="m", prompt="async stream", stream=True)
        streamed = "".join([c.choices[0].text async for c in stream if c.choices])
    assert completion.choices[0].text == "async prompt"
    assert streamed == "async stream"


# ---------------------------------------------------------------- embeddings


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def test_embeddings_are_deterministic_unit_vectors(llm_server: LLMServer) -> None:
    client = _client(llm_server)
    result = client.embeddings.create(model="text-embedding-3-small", input=["cat", "dog", "cat"])
    assert result.object == "list"
    assert result.model == "text-embedding-3-small"
    vectors = [d.embedding for d in result.data]
    assert [d.index for d in result.data] == [0, 1, 2]
    assert len(vectors[0]) == 1536
    # The SDK asks for base64 (float32) by default and decodes it.
    assert all(abs(_norm(v) - 1.0) < 1e-5 for v in vectors)
    request = llm_server.last_request
    assert request is not None
    assert request.body["encoding_format"] == "base64"
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]
    again = client.embeddings.create(model="text-embedding-3-small", input="cat")
    assert again.data[0].embedding == vectors[0]
    assert result.usage.prompt_tokens == 3
    assert result.usage.total_tokens == 3


def test_embeddings_dimensions_and_base64(llm_server: LLMServer) -> None:
    client = _client(llm_server)
    floats = client.embeddings.create(
        model="e", input="hello", dimensions=16, encoding_format="float"
    )
    assert len(floats.data[0].embedding) == 16
    raw = client.embeddings.with_raw_response.create(
        model="e", input="hello", dimensions=16, encoding_format="base64"
    )
    encoded = raw.http_response.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    decoded = struct.unpack("<16f", base64.b64decode(encoded))
    assert decoded == pytest.approx(floats.data[0].embedding, abs=1e-6)


# ---------------------------------------------------------------- models


def test_models_list_openai_shape(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("x", model="my-ft-model"))
    client = _client(llm_server)
    client.chat.completions.create(model="seen-model", messages=[{"role": "user", "content": "x"}])
    raw = client.models.with_raw_response.list()
    body: Any = raw.http_response.json()
    assert body["object"] == "list"
    ids = [m.id for m in raw.parse()]
    assert ids[:1] == ["my-ft-model"]
    assert set(DEMO_MODELS) <= set(ids)
    assert "seen-model" in ids
    model = client.models.retrieve("my-ft-model")
    assert (model.id, model.object, model.owned_by) == ("my-ft-model", "model", "llmassert")
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("never-heard-of-it")
    assert caught.value.code == "model_not_found"


def test_models_anthropic_shape_by_header_and_prefix(llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("x", model="claude-test"))
    client = anthropic.Anthropic(
        base_url=llm_server.anthropic_base_url, api_key="test", max_retries=0
    )
    page = client.models.list()
    ids = [m.id for m in page.data]
    assert ids[0] == "claude-test"
    assert page.first_id == "claude-test"
    assert page.has_more is False
    raw = client.models.with_raw_response.retrieve("claude-test")
    assert raw.headers["request-id"].startswith("req_")
    info = raw.parse()
    assert (info.id, info.type) == ("claude-test", "model")
    request = llm_server.last_request
    assert request is not None
    assert request.provider == "anthropic"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("nope")
    client.close()
    with openai.OpenAI(
        base_url=llm_server.url + "/anthropic/v1", api_key="k", max_retries=0
    ) as plain:
        by_prefix = plain.models.with_raw_response.list()
    assert set(by_prefix.http_response.json()) == {"data", "has_more", "first_id", "last_id"}
