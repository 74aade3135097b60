"""The price table: documented, overridable, and never a made-up number."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmassert import ConfigError, Price, Usage, get_price, model, set_prices
from llmassert._models._pricing import cost_usd


@pytest.mark.parametrize(
    ("provider", "name", "expected"),
    [
        ("openai", "gpt-4o-mini", Price(0.15, 0.60, 0.075)),
        ("openai", "gpt-4o-mini-2024-07-18", Price(0.15, 0.60, 0.075)),
        ("openai", "gpt-4o", Price(2.50, 10.00, 1.25)),
        ("openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", Price(0.30, 1.20, 0.15)),
        ("azure", "gpt-4o-mini", Price(0.15, 0.60, 0.075)),
        ("anthropic", "claude-3-5-haiku-latest", Price(0.80, 4.00, 0.08)),
        ("anthropic", "claude-3-5-haiku-20241022", Price(0.80, 4.00, 0.08)),
    ],
)
def test_known_prices(provider: str, name: str, expected: Price) -> None:
    assert get_price(provider, name) == expected


@pytest.mark.parametrize(
    ("provider", "name"),
    [
        ("openai", "gpt-4o-audio-preview"),  # not gpt-4o's price: no prefix guessing
        ("openai", "gpt-99"),
        ("anthropic", "claude-9"),
        ("openai", "claude-3-5-haiku"),  # prices belong to their provider
    ],
)
def test_unknown_models_have_no_price(provider: str, name: str) -> None:
    assert get_price(provider, name) is None
    assert cost_usd(provider, name, Usage(input_tokens=10, output_tokens=10)) is None


def test_cost_uses_cached_input_rate_and_needs_token_counts() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cached_input_tokens=500_000)
    assert cost_usd("openai", "gpt-4o-mini", usage) == pytest.approx(0.075 + 0.0375 + 0.60)
    assert cost_usd("openai", "gpt-4o-mini", Usage()) is None


def test_overrides_win_and_apply_to_snapshots() -> None:
    set_prices({"openai:pricing-test-model": {"input": 1.0, "output": 2.0}})
    assert get_price("openai", "pricing-test-model-2025-01-01") == Price(1.0, 2.0)
    set_prices({"pricing-test-model": Price(3.0, 4.0)}, provider="openai")
    assert get_price("openai", "pricing-test-model") == Price(3.0, 4.0)


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ({"gpt-4o-mini": {"input": 1, "output": 2}}, "write PROVIDER:MODEL"),
        ({"openai:x": {"input": 1}}, "needs 'input' and 'output'"),
        ({"openai:x": {"input": "cheap", "output": 1}}, "prices must be numbers"),
    ],
)
def test_bad_prices_are_config_errors(prices: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        set_prices(prices)  # type: ignore[arg-type]


def test_prices_from_pyproject(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.llmassert.prices]\n"demo:pyproject-price" = { input = 7, output = 9 }\n')
    model("demo:prompted", pyproject=path)
    assert get_price("demo", "pyproject-price") == Price(7.0, 9.0)


def test_unknown_model_option_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown endpoint setting\(s\) colour; known: .*timeout_s"
    ):
        model("demo:prompted", colour="red")
