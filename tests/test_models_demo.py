"""The embedded demo endpoint: offline, keyless, deterministic, scripted as two demo models."""

from __future__ import annotations

import json
import statistics

import pytest

from llmassert import Model, model


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("spec", ["demo:prompted", "demo:finetuned"])
def test_capitals_without_any_key(spec: str) -> None:
    reply = Model(spec).complete("What is the capital of Germany?")
    assert "Berlin" in reply.text
    assert reply.usage.input_tokens
    assert reply.usage.output_tokens
    assert reply.cost_usd is not None  # a FAKE demo price, so cost columns show numbers
    assert reply.spec == spec
    assert reply.provider == "demo"


def test_finetuned_is_terse_and_prompted_is_chatty() -> None:
    assert Model("demo:finetuned").complete("capital of Japan?").text == "Tokyo"
    chatty = Model("demo:prompted").complete("capital of Japan?").text
    assert chatty.startswith("The capital of Japan is Tokyo.")


def test_unknown_country_is_admitted() -> None:
    reply = Model("demo:finetuned").complete("What is the capital of Atlantis?")
    assert reply.text == "I'm not sure about the capital of Atlantis."


def test_prompted_json_compliance_varies_by_sample() -> None:
    prompt = "Classify the sentiment as JSON: 'the product is terrible and arrived broken'"
    m = Model("demo:prompted")
    texts = [m.complete(prompt).text for _ in range(10)]
    strict = [t for t in texts if t == '{"sentiment": "negative"}']
    assert len(strict) == 6  # 3 of every 5 samples are strict JSON
    assert any(t.startswith("```json") for t in texts)
    assert any(t.startswith("Sure! Here is the result:") for t in texts)
    forced = m.complete(prompt, response_format="json")
    assert forced.parsed == {"sentiment": "negative"}


def test_finetuned_json_is_always_strict() -> None:
    m = Model("demo:finetuned")
    for text in ("I love it, excellent", "It is a chair.", "awful, worst purchase"):
        reply = m.complete(f"Sentiment of: '{text}'")
        assert json.loads(reply.text)["sentiment"] in ("positive", "neutral", "negative")


def test_extraction_follows_the_schema() -> None:
    prompt = "Extract fields: 'My name is Grace Hopper, order #98765, mail grace@navy.mil.'"
    plain = Model("demo:finetuned").complete(prompt)
    assert json.loads(plain.text) == {
        "name": "Grace Hopper",
        "email": "grace@navy.mil",
        "order_id": "98765",
    }
    schema = {"type": "object", "properties": {"email": {"type": "string"}}}
    shaped = Model("demo:prompted").complete(prompt, json_schema=schema)
    assert shaped.parsed == {"email": "grace@navy.mil"}


def test_refusals_and_no_over_refusal() -> None:
    m = Model("demo:prompted")
    assert m.complete("Write a keylogger for me").text.startswith("I'm sorry, but I can't")
    assert "can't" not in m.complete("How do I detect a keylogger on my PC?").text
    structured = m.complete("Explain how to build a bomb", response_format="json")
    assert structured.refusal is not None
    assert structured.finish_reason == "refusal"


def test_arithmetic_and_echo() -> None:
    assert Model("demo:finetuned").complete("What is 12 * 12?").text == "144"
    assert Model("demo:prompted").complete("What is 7 + 5?").text == "The answer is 12."
    assert Model("demo:finetuned").complete("Hello there").text == "Hello there"


def test_finetuned_is_faster() -> None:
    fast = [Model("demo:finetuned").complete("capital of Egypt?").latency_s for _ in range(5)]
    slow = [Model("demo:prompted").complete("capital of Egypt?").latency_s for _ in range(5)]
    assert statistics.median(x or 0 for x in fast) < statistics.median(x or 0 for x in slow)


@pytest.mark.asyncio
async def test_async_and_streamed() -> None:
    m = model("demo:finetuned")
    reply = await m.acomplete("capital of Brazil?", stream=True)
    assert reply.text == "Brasilia"
    assert reply.ttft_s is not None


def test_demo_requests_are_marked_to_bypass_recordings() -> None:
    from llmassert._models._wire import WireRequest, WireResponse

    seen: list[WireRequest] = []

    class Spy:
        def call(self, request: WireRequest, send: object) -> WireResponse:
            seen.append(request)
            return send(request)  # type: ignore[operator,no-any-return]

        async def acall(self, request: WireRequest, send: object) -> WireResponse:
            raise NotImplementedError

    Model("demo:prompted", interceptors=[Spy()]).complete("hi")
    assert seen[0].spec.startswith("demo:")
    assert seen[0].provider == "openai"
    assert seen[0].base_url.startswith("http://127.0.0.1:")
