"""The price table: USD per 1M tokens, documented and overridable.

A model missing from the table has cost ``None``: llmassert never makes up a number. Prices are
list prices for standard (non-batch) usage as published by the providers; check them against your
contract and override them (``llmassert.set_prices``, ``[tool.llmassert.prices]`` or an endpoint's
``prices``) when they differ.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from llmassert._errors import ConfigError
from llmassert._response import Usage

__all__ = ["BUILTIN_PRICES", "Price", "cost_usd", "get_price", "set_prices"]


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens. ``cached_input`` defaults to ``input`` when unknown."""

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, usage: Usage) -> float | None:
        if usage.input_tokens is None and usage.output_tokens is None:
            return None
        cached = usage.cached_input_tokens or 0
        fresh = max((usage.input_tokens or 0) - cached, 0)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        total = fresh * self.input + cached * cached_rate + (usage.output_tokens or 0) * self.output
        return total / 1_000_000


#: The built-in table (provider, model) -> Price. Keys are base model names: dated snapshots
#: (``gpt-4o-mini-2024-07-18``, ``claude-3-5-haiku-20241022``) and ``-latest`` aliases resolve to
#: them. OpenAI fine-tunes (``ft:BASE:org::id``) use the fine-tuned inference price of BASE.
BUILTIN_PRICES: dict[tuple[str, str], Price] = {
    ("openai", "gpt-4o"): Price(2.50, 10.00, 1.25),
    ("openai", "gpt-4o-mini"): Price(0.15, 0.60, 0.075),
    ("openai", "gpt-4.1"): Price(2.00, 8.00, 0.50),
    ("openai", "gpt-4.1-mini"): Price(0.40, 1.60, 0.10),
    ("openai", "gpt-4.1-nano"): Price(0.10, 0.40, 0.025),
    ("openai", "o1"): Price(15.00, 60.00, 7.50),
    ("openai", "o3"): Price(2.00, 8.00, 0.50),
    ("openai", "o3-mini"): Price(1.10, 4.40, 0.55),
    ("openai", "o4-mini"): Price(1.10, 4.40, 0.275),
    ("openai", "gpt-3.5-turbo"): Price(0.50, 1.50),
    ("openai", "text-embedding-3-small"): Price(0.02, 0.0),
    ("openai", "text-embedding-3-large"): Price(0.13, 0.0),
    ("openai", "text-embedding-ada-002"): Price(0.10, 0.0),
    ("openai", "gpt-3.5-turbo-instruct"): Price(1.50, 2.00),
    ("openai", "ft:gpt-4o-mini"): Price(0.30, 1.20, 0.15),
    ("openai", "ft:gpt-4o"): Price(3.75, 15.00, 1.875),
    ("openai", "ft:gpt-4.1"): Price(3.00, 12.00, 0.75),
    ("openai", "ft:gpt-4.1-mini"): Price(0.80, 3.20, 0.20),
    ("openai", "ft:gpt-4.1-nano"): Price(0.20, 0.80, 0.05),
    ("openai", "ft:gpt-3.5-turbo"): Price(3.00, 6.00),
    ("anthropic", "claude-3-haiku"): Price(0.25, 1.25, 0.03),
    ("anthropic", "claude-3-5-haiku"): Price(0.80, 4.00, 0.08),
    ("anthropic", "claude-3-5-sonnet"): Price(3.00, 15.00, 0.30),
    ("anthropic", "claude-3-7-sonnet"): Price(3.00, 15.00, 0.30),
    ("anthropic", "claude-sonnet-4"): Price(3.00, 15.00, 0.30),
    ("anthropic", "claude-opus-4"): Price(15.00, 75.00, 1.50),
    # The demo endpoint's prices are FAKE: they exist so cost columns show numbers offline.
    ("demo", "prompted"): Price(0.50, 1.50),
    ("demo", "finetuned"): Price(0.30, 1.20),
    ("demo", "judge"): Price(0.15, 0.60),
    ("demo", "embed"): Price(0.02, 0.0),
}

_overrides: dict[tuple[str, str], Price] = {}
_lock = threading.Lock()
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")
_FINE_TUNE = re.compile(r"^ft:([^:]+):")


def _as_price(value: Price | Mapping[str, float], where: str) -> Price:
    if isinstance(value, Price):
        return value
    if not isinstance(value, Mapping) or "input" not in value or "output" not in value:
        raise ConfigError(
            f"{where}: a price needs 'input' and 'output' in USD per 1M tokens, "
            f"e.g. {{'input': 0.15, 'output': 0.6}}"
        )
    try:
        return Price(
            input=float(value["input"]),
            output=float(value["output"]),
            cached_input=(
                float(value["cached_input"]) if value.get("cached_input") is not None else None
            ),
        )
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: prices must be numbers (USD per 1M tokens)") from None


def set_prices(prices: Mapping[str, Price | Mapping[str, float]], *, provider: str = "") -> None:
    """Override or add prices (USD per 1M tokens) for the rest of the process.

    Keys are ``PROVIDER:MODEL`` (``openai:gpt-4o-mini``) or, with ``provider=``, bare model
    names. A price of a base model (``gpt-4o-mini``) also applies to its dated snapshots.
    """
    parsed: dict[tuple[str, str], Price] = {}
    for key, value in prices.items():
        prov, sep, model = key.partition(":")
        if provider and not (sep and prov == provider):
            prov, model = provider, key
        elif not sep or not model:
            raise ConfigError(
                f"price key {key!r}: write PROVIDER:MODEL (e.g. 'openai:gpt-4o-mini') "
                f"or pass provider="
            )
        parsed[(prov, model)] = _as_price(value, f"price {key!r}")
    with _lock:
        _overrides.update(parsed)


def _lookup(table: Mapping[tuple[str, str], Price], provider: str, model: str) -> Price | None:
    for name in (model, _SNAPSHOT.sub("", model)):
        price = table.get((provider, name))
        if price is not None:
            return price
    return None


def get_price(provider: str, model: str) -> Price | None:
    """The price of a model, or ``None`` when unknown (overrides first, then the table)."""
    family = "openai" if provider == "azure" else provider
    with _lock:
        overrides = dict(_overrides)
    for table in (overrides, BUILTIN_PRICES):
        price = _lookup(table, provider, model) or _lookup(table, family, model)
        if price is not None:
            return price
        match = _FINE_TUNE.match(model)
        if match:
            base = "ft:" + match.group(1)
            price = _lookup(table, family, base) or _lookup(table, family, _SNAPSHOT.sub("", base))
            if price is not None:
                return price
    return None


def cost_usd(
    provider: str, model: str, usage: Usage, override: Mapping[str, float] | None = None
) -> float | None:
    """Cost of one call in USD, or ``None`` when the price or the token counts are unknown."""
    price = _as_price(override, "endpoint prices") if override else get_price(provider, model)
    return None if price is None else price.cost(usage)
