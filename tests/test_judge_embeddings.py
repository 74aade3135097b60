"""``semantic_similar``: cosine similarity of embeddings from ``/v1/embeddings`` (the local
test server with known vectors), cached in the run, recorded and replayed, counted apart."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping

import pytest

# Inner runs are in-process and pytester drops the modules they import: keep them alive.
import llmassert._judge._embeddings
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model
import llmassert.testing
from llmassert import (
    LLMAssertionError,
    Model,
    UsageError,
    assert_not_semantic_similar,
    assert_semantic_similar,
    semantic_similar,
)
from llmassert._judge._embeddings import clear_cache, cosine
from llmassert._models._endpoints import Endpoint
from llmassert.testing import LLMServer, Reply, ServerRequest

_names = itertools.count()
_LEAN = ("-p", "no:cacheprovider")

#: Known vectors: cos(output, reference) = 0.8 exactly.
OUTPUT_VECTOR = (1.0, 0.0, 0.0)
REFERENCE_VECTOR = (0.8, 0.6, 0.0)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.delenv("CI", raising=False)
    clear_cache()


def _vectors(request: ServerRequest) -> Reply:
    body = request.body if isinstance(request.body, Mapping) else {}
    known = {"the output": OUTPUT_VECTOR, "the reference": REFERENCE_VECTOR}
    return Reply(embeddings=tuple(known.get(t, (0.0, 0.0, 1.0)) for t in body["input"]))


def _embedder(server: LLMServer, provider: str = "openai") -> Model:
    name = f"embedbox{next(_names)}"
    url = server.anthropic_base_url if provider == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name=name, provider=provider, base_url=url)
    return Model(f"{name}:vectors", endpoints={name: endpoint}, interceptors=[])


def test_cosine_of_known_vectors_decides(llm_server: LLMServer) -> None:
    llm_server.add_rule(_vectors, api="embeddings")
    model = _embedder(llm_server)
    result = assert_semantic_similar("the output", "the reference", model=model, min_similarity=0.8)
    assert result.value == pytest.approx(0.8)
    with pytest.raises(LLMAssertionError) as caught:
        assert_semantic_similar("the output", "the reference", model=model, min_similarity=0.9)
    assert str(caught.value).splitlines() == [
        "assert_semantic_similar failed: expected the output to mean the same as 'the "
        "reference' (cosine similarity of embeddings >= 0.90)",
        "output (10 chars): 'the output'",
        f"reason: cosine similarity 0.800 < 0.90 ({model.spec}, 3 dimensions)",
    ]
    assert_not_semantic_similar("something else", "the reference", model=model)  # cos 0.0
    (first, *_) = llm_server.requests
    assert first.path.endswith("/embeddings")
    assert first.body == {"model": "vectors", "input": ["the output", "the reference"]}


def test_embeddings_are_cached_per_model_and_text(llm_server: LLMServer) -> None:
    llm_server.add_rule(_vectors, api="embeddings")
    model = _embedder(llm_server)
    check = semantic_similar("the reference", model=model)
    check("the output")
    check("the output")
    check("something else")
    inputs = [r.body["input"] for r in llm_server.requests]  # type: ignore[index]
    assert inputs == [["the output", "the reference"], ["something else"]]


def test_default_vectors_of_the_server_are_unit_and_text_keyed(llm_server: LLMServer) -> None:
    model = _embedder(llm_server)
    check = semantic_similar("same text", model=model, min_similarity=0.999)
    assert check("same text").passed
    assert not check("other text").passed
    vector = llmassert._judge._embeddings.EmbeddingModel.like(model).embed(["same text"])[0]
    assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-6)


def test_the_demo_embedding_model_puts_paraphrases_close() -> None:
    check = semantic_similar("The cat sat on the mat.", model="demo:embed", min_similarity=0.5)
    assert check("A cat is sitting on the mat.").passed
    assert not check("Stock prices fell sharply on Monday.").passed


def test_no_embeddings_model_is_a_usage_error_naming_the_option(llm_server: LLMServer) -> None:
    with pytest.raises(UsageError, match="--llm-embedding-model SPEC"):
        assert_semantic_similar("a", "b")
    with pytest.raises(UsageError, match="Anthropic has no embeddings API"):
        assert_semantic_similar("a", "b", model=_embedder(llm_server, "anthropic"))
    with pytest.raises(UsageError, match="min_similarity is a cosine similarity"):
        semantic_similar("b", min_similarity=2)
    assert llm_server.request_count == 0


def test_cosine_helper() -> None:
    assert cosine((1, 0), (0, 1)) == 0.0
    assert cosine((0, 0), (1, 1)) == 0.0
    with pytest.raises(ValueError, match="different sizes"):
        cosine((1,), (1, 2))


SIMILAR = """
from llmassert import semantic_similar

def test_similar():
    result = semantic_similar("the reference", min_similarity=0.75)("the output")
    print("SIMILARITY", round(result.value, 6), result.passed)
"""


def test_embeddings_replay_with_the_server_down_and_are_counted_apart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_similar=SIMILAR)
    with LLMServer() as server:
        server.add_rule(_vectors, api="embeddings")
        pytester.makepyprojecttoml(
            f"""
            [tool.llmassert.endpoints.vectors]
            base_url = "{server.openai_base_url}"
            model = "text-embedding-3-small"
            """
        )
        recorded = pytester.runpytest(
            "-s", "--llm-embedding-model=vectors", "--llm-record=once", *_LEAN
        )
        assert server.request_count == 1
    recorded.assert_outcomes(passed=1)
    assert "SIMILARITY 0.8 True" in recorded.stdout.str()
    monkeypatch.setenv("CI", "1")
    replayed = pytester.runpytest("-s", "--llm-embedding-model=vectors", *_LEAN)
    replayed.assert_outcomes(passed=1)
    assert "SIMILARITY 0.8 True" in replayed.stdout.str()
    replayed.stdout.fnmatch_lines(
        [
            "llmassert embeddings: 2 texts embedded in 1 call (0 live, 1 replayed), cost*",
            "llmassert recordings: 1 replayed, 0 recorded, 0 live, 0 missing*",
        ]
    )
    line = next(x for x in recorded.outlines if x.startswith("llmassert embeddings:"))
    # a named endpoint has no built-in price: the line says so instead of a made-up number
    assert re.search(r"cost \$0\.000000 \(\+1 live call of unknown price\)", line), line


def test_case_file_key_and_demo_endpoint(pytester: pytest.Pytester) -> None:
    (pytester.path / "llm_similar.yaml").write_text(
        """
prompt: "What is the capital of France?"
models: [demo:prompted]
cases:
  - id: paris
    checks:
      - semantic_similar: {reference: "The capital of France is Paris.", min_similarity: 0.5}
      - not_semantic_similar: "Bananas are yellow."
""",
        encoding="utf-8",
    )
    result = pytester.runpytest("--llm-embedding-model=demo:embed", "--llm-record=off", *_LEAN)
    result.assert_outcomes(passed=1)
