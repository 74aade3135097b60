"""Runtime checks on a Response: latency, cost, tokens, finish_reason."""

from __future__ import annotations

from collections.abc import Sequence

from llmassert._checks._base import (
    Check,
    Outcome,
    args_repr,
    register,
    require_bool,
    require_limits,
    require_number,
    require_str,
)
from llmassert._checks._output import response_attr
from llmassert._errors import UsageError

__all__ = ["cost", "finish_reason", "latency", "tokens"]


class _Latency(Check):
    name = "latency"
    subject = "the latency"

    def __init__(self, max_s: object) -> None:
        super().__init__()
        self.max_s = require_number("latency", "max_s", max_s)
        self._args = args_repr(max_s)

    def expectation(self) -> str:
        return f"to be <= {self.max_s:g} s"

    def evaluate(self, output: object) -> Outcome:
        value = response_attr(output, "latency_s", self.name)
        if value is None:
            return Outcome(False, "the response has no latency (latency_s is None)")
        ok = float(value) <= self.max_s
        return Outcome(
            ok, f"latency {float(value):.3f} s (limit {self.max_s:g} s)", value=float(value)
        )


@register("latency")
def latency(max_s: float) -> Check:
    """The call took at most ``max_s`` seconds (``Response.latency_s``)."""
    return _Latency(max_s)


class _Cost(Check):
    name = "cost"
    subject = "the cost"

    def __init__(self, max_usd: object, allow_unknown: object) -> None:
        super().__init__()
        self.max_usd = require_number("cost", "max_usd", max_usd)
        self.allow_unknown = require_bool("cost", "allow_unknown", allow_unknown)
        self._args = args_repr(max_usd, allow_unknown=self.allow_unknown or None)

    def expectation(self) -> str:
        return f"to be <= ${self.max_usd:g}"

    def evaluate(self, output: object) -> Outcome:
        value = response_attr(output, "cost_usd", self.name)
        if value is None:
            model = getattr(output, "spec", "") or getattr(output, "model", "") or "the model"
            why = f"the cost is unknown: no price for {model} in the price table"
            if self.allow_unknown:
                return Outcome(True, why + " (allowed: allow_unknown=True)")
            return Outcome(
                False,
                why,
                notes=(
                    f"reason: {why}",
                    "hint: pass allow_unknown=True to accept unknown costs, or add the model's "
                    "price",
                ),
            )
        ok = float(value) <= self.max_usd
        return Outcome(
            ok, f"cost ${float(value):.6f} (limit ${self.max_usd:g})", value=float(value)
        )


@register("cost")
def cost(max_usd: float, *, allow_unknown: bool = False) -> Check:
    """The call cost at most ``max_usd`` (``Response.cost_usd``). An unknown cost fails unless
    ``allow_unknown=True``."""
    return _Cost(max_usd, allow_unknown)


_TOKEN_FIELDS = {
    "max_output": "output_tokens",
    "max_input": "input_tokens",
    "max_total": "total_tokens",
}


class _Tokens(Check):
    name = "tokens"
    subject = "the response"

    def __init__(self, limits: dict[str, object]) -> None:
        super().__init__()
        self.limits = require_limits("tokens", limits)
        self._args = args_repr(**self.limits)

    def expectation(self) -> str:
        parts = [f"<= {v:,} {_TOKEN_FIELDS[k].replace('_', ' ')}" for k, v in self.limits.items()]
        return "to use " + " and ".join(parts)

    def evaluate(self, output: object) -> Outcome:
        usage = response_attr(output, "usage", self.name)
        observed: list[str] = []
        failed: list[str] = []
        for arg, limit in self.limits.items():
            field = _TOKEN_FIELDS[arg]
            value = getattr(usage, field, None)
            label = field.replace("_", " ")
            if value is None:
                failed.append(f"{label} unknown (the endpoint did not report usage)")
                continue
            observed.append(f"{label} {value:,}")
            if value > limit:
                failed.append(f"{label} {value:,} > {limit:,}")
        if failed:
            return Outcome(False, "; ".join(failed))
        return Outcome(True, ", ".join(observed))


@register("tokens")
def tokens(
    *, max_output: int | None = None, max_input: int | None = None, max_total: int | None = None
) -> Check:
    """Token usage of the call (``Response.usage``) is within the limits given."""
    return _Tokens({"max_output": max_output, "max_input": max_input, "max_total": max_total})


class _FinishReason(Check):
    name = "finish_reason"
    subject = "the finish reason"

    def __init__(self, value: object) -> None:
        super().__init__()
        if isinstance(value, str):
            self.values: tuple[str, ...] = (require_str("finish_reason", "value", value),)
        elif isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
            self.values = tuple(value)
        else:
            raise UsageError(
                f"check 'finish_reason': argument 'value' must be a finish reason such as "
                f"'stop' or 'length' (or a list of them), got {value!r}"
            )
        self._args = args_repr(value)

    def expectation(self) -> str:
        if len(self.values) == 1:
            return f"to be {self.values[0]!r}"
        return f"to be one of {', '.join(repr(v) for v in self.values)}"

    def evaluate(self, output: object) -> Outcome:
        got = response_attr(output, "finish_reason", self.name)
        raw = getattr(output, "raw_finish_reason", None)
        ok = got in self.values or (raw is not None and raw in self.values)
        shown = f"{got!r}" + (f" (raw: {raw!r})" if raw and raw != got else "")
        return Outcome(ok, f"the finish reason is {shown}", value=got)


@register("finish_reason")
def finish_reason(value: str | Sequence[str]) -> Check:
    """The response's finish reason is ``value`` (or one of them): normalised values
    (``stop``, ``length``, ``tool_calls``, ``content_filter``, ``refusal``) or the provider's
    raw value (e.g. Anthropic ``end_turn``)."""
    return _FinishReason(value)
