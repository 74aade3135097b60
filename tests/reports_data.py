"""Builders of crafted report entries for the tests of ``llmassert._reports`` (not a test
module: the name does not start with ``test_``)."""

from __future__ import annotations

from typing import Any

A = "demo:finetuned"
B = "demo:prompted"


def call(
    model: str,
    latency: float | None = 0.2,
    cost: float | None = 1e-5,
    *,
    purpose: str = "model",
    replayed: bool = False,
    ttft: float | None = None,
    retries: int = 0,
) -> dict[str, Any]:
    return {
        "model": model,
        "purpose": purpose,
        "prompt": [{"role": "user", "content": "What is the capital of France?"}],
        "output": "Paris",
        "finish_reason": "stop",
        "latency_s": latency,
        "ttft_s": ttft,
        "input_tokens": 12,
        "output_tokens": 3,
        "cost_usd": cost,
        "replayed": replayed,
        "retries": retries,
    }


def check(name: str, passed: bool, kind: str | None = None) -> dict[str, Any]:
    from llmassert._reports._kinds import check_kind

    return {
        "name": name,
        "negated": False,
        "kind": kind or check_kind(name),
        "passed": passed,
        "score": None,
        "reason": "ok" if passed else "not found",
    }


def entry(
    key: str,
    model: str,
    outcome: str = "passed",
    *,
    latency: float | None = 0.2,
    cost: float | None = 1e-5,
    replayed: bool = False,
    checks: list[dict[str, Any]] | None = None,
    calls: list[dict[str, Any]] | None = None,
    duration: float = 0.1,
) -> dict[str, Any]:
    """A single-run test entry with one sample and one model call."""
    sample_outcome = {"passed": "passed", "error": "error"}.get(outcome, "failed")
    return {
        "nodeid": f"{key}[{model}]",
        "key": key,
        "model": model,
        "outcome": outcome,
        "kind": "test",
        "duration_s": duration,
        "message": None if outcome == "passed" else "AssertionError: expected 'Paris'",
        "markers": [],
        "repeat": 1,
        "verdict": None,
        "samples": [
            {
                "index": 1,
                "outcome": sample_outcome,
                "duration_s": duration,
                "calls": calls
                if calls is not None
                else [call(model, latency, cost, replayed=replayed)],
                "checks": checks
                if checks is not None
                else [check("contains", outcome == "passed")],
            }
        ],
    }


def repeated_entry(
    key: str,
    model: str,
    passed: int,
    total: int,
    *,
    ci: tuple[float, float] = (0.0, 1.0),
    latency: float = 0.2,
    cost: float = 1e-5,
    required: float = 0.5,
) -> dict[str, Any]:
    """A repeated test entry (``total`` samples, ``passed`` of them passing)."""
    outcome = "passed" if passed / total >= required else "failed"
    return {
        "nodeid": f"{key}[{model}]",
        "key": key,
        "model": model,
        "outcome": outcome,
        "kind": "test",
        "duration_s": 0.1 * total,
        "message": None if outcome == "passed" else f"pass rate {passed}/{total}",
        "markers": ["llm"],
        "repeat": total,
        "verdict": {
            "mode": "rate",
            "passed": passed,
            "total": total,
            "rate": passed / total,
            "required": required,
            "confidence": 0.95,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "stopped_early": None,
        },
        "samples": [
            {
                "index": i + 1,
                "outcome": "passed" if i < passed else "failed",
                "duration_s": 0.1,
                "calls": [call(model, latency, cost)],
                "checks": [check("contains", i < passed)],
            }
            for i in range(total)
        ],
    }


def clear_win(n: int = 30) -> list[dict[str, Any]]:
    """``A`` passes 28 of 30, ``B`` 18 of 30, every discordant pair won by ``A``; ``A`` is
    ~2.4x faster and 5x cheaper."""
    tests = []
    for i in range(n):
        key = f"tests/test_x.py::test_{i:02d}"
        tests.append(entry(key, A, "passed" if i < 28 else "failed", latency=0.1 + i / 1000))
        tests.append(
            entry(key, B, "passed" if i < 18 else "failed", latency=0.25 + i / 500, cost=5e-5)
        )
    return tests
