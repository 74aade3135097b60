"""``length``: bounds on the output's characters, words or tokens."""

from __future__ import annotations

import math
import re

from llmassert._checks._base import Check, Outcome, args_repr, register, require_limits
from llmassert._checks._output import is_response, text_of
from llmassert._errors import UsageError

__all__ = ["approx_tokens", "count_tokens", "length"]

_WORD = re.compile(r"\S+")


def approx_tokens(text: str) -> int:
    """The documented approximation: one token per 4 characters (rounded up), the usual rule of
    thumb for English with GPT-style tokenizers; good to about +-25% on prose."""
    return math.ceil(len(text) / 4)


def count_tokens(output: object, tokenizer: str) -> tuple[int, str]:
    """``(tokens, how)``: the response's own usage count when it has one, else ``tokenizer``."""
    if tokenizer == "usage" or (tokenizer == "auto" and is_response(output)):
        usage = getattr(output, "usage", None)
        n = getattr(usage, "output_tokens", None)
        if isinstance(n, int):
            reasoning = getattr(usage, "reasoning_tokens", None)
            if isinstance(reasoning, int) and 0 < reasoning <= n:
                # Reasoning tokens are billed as output but are not part of the text.
                return n - reasoning, "usage.output_tokens minus reasoning_tokens"
            return n, "usage.output_tokens"
        if tokenizer == "usage":
            raise UsageError(
                "check 'length': tokenizer='usage' needs a Response with usage.output_tokens"
            )
    text = text_of(output, "length")
    if tokenizer.startswith("tiktoken:"):
        try:
            import tiktoken  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise UsageError(
                "check 'length': tokenizer 'tiktoken:...' needs the optional extra: "
                "pip install 'llmassert[tiktoken]' (tiktoken downloads its encodings on first "
                "use, which fails offline)"
            ) from None
        enc = tiktoken.get_encoding(tokenizer.split(":", 1)[1])
        return len(enc.encode(text)), tokenizer
    return approx_tokens(text), "approximation: chars/4"


class _Length(Check):
    name = "length"

    def __init__(self, bounds: dict[str, object], tokenizer: object) -> None:
        super().__init__()
        self.bounds = require_limits("length", bounds)
        for unit in ("chars", "words", "tokens"):
            lo, hi = self.bounds.get(f"min_{unit}"), self.bounds.get(f"max_{unit}")
            if lo is not None and hi is not None and lo > hi:
                raise UsageError(f"check 'length': min_{unit}={lo} is above max_{unit}={hi}")
        if not isinstance(tokenizer, str) or not (
            tokenizer in {"auto", "usage", "approx"} or tokenizer.startswith("tiktoken:")
        ):
            raise UsageError(
                f"check 'length': tokenizer must be 'auto', 'usage', 'approx' or "
                f"'tiktoken:<encoding>', got {tokenizer!r}"
            )
        self.tokenizer = tokenizer
        self._args = args_repr(**self.bounds, tokenizer=None if tokenizer == "auto" else tokenizer)

    def expectation(self) -> str:
        parts = []
        for unit in ("chars", "words", "tokens"):
            lo, hi = self.bounds.get(f"min_{unit}"), self.bounds.get(f"max_{unit}")
            if lo is not None and hi is not None:
                parts.append(f"{lo:,}-{hi:,} {unit}")
            elif lo is not None:
                parts.append(f">= {lo:,} {unit}")
            elif hi is not None:
                parts.append(f"<= {hi:,} {unit}")
        return "to have " + " and ".join(parts)

    def negated_expectation(self) -> str:
        return "not " + self.expectation()

    def evaluate(self, output: object) -> Outcome:
        text = text_of(output, self.name)
        counts: dict[str, tuple[int, str]] = {}
        units = {k.split("_", 1)[1] for k in self.bounds}
        if "chars" in units:
            counts["chars"] = (len(text), "")
        if "words" in units:
            counts["words"] = (len(_WORD.findall(text)), "")
        if "tokens" in units:
            n, how = count_tokens(output, self.tokenizer)
            counts["tokens"] = (n, f" ({how})")
        problems = []
        observed = []
        for unit, (n, how) in counts.items():
            observed.append(f"{n:,} {unit}{how}")
            lo, hi = self.bounds.get(f"min_{unit}"), self.bounds.get(f"max_{unit}")
            if lo is not None and n < lo:
                problems.append(f"{n:,} {unit}{how} < {lo:,}")
            if hi is not None and n > hi:
                problems.append(f"{n:,} {unit}{how} > {hi:,}")
        if problems:
            return Outcome(False, "; ".join(problems))
        return Outcome(True, "; ".join(observed))


@register("length")
def length(
    *,
    min_chars: int | None = None,
    max_chars: int | None = None,
    min_words: int | None = None,
    max_words: int | None = None,
    min_tokens: int | None = None,
    max_tokens: int | None = None,
    tokenizer: str = "auto",
) -> Check:
    """Bounds on the output's length. Tokens come from the response's ``usage.output_tokens``
    when available (``tokenizer="auto"``), else the approximation chars/4 (the reason says
    which); ``tokenizer="tiktoken:o200k_base"`` counts exactly with the optional tiktoken extra."""
    return _Length(
        {
            "min_chars": min_chars,
            "max_chars": max_chars,
            "min_words": min_words,
            "max_words": max_words,
            "min_tokens": min_tokens,
            "max_tokens": max_tokens,
        },
        tokenizer,
    )
