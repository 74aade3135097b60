"""Model specs: ``PROVIDER:MODEL``, or a named endpoint ``NAME`` / ``NAME:MODEL``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from llmassert._errors import ModelSpecError
from llmassert._models._endpoints import BUILTIN_PROVIDERS, Endpoint, builtin_endpoint

__all__ = ["ModelSpec", "parse_spec"]

_EXAMPLES = "openai:gpt-4o-mini, anthropic:claude-3-5-haiku-latest, demo:prompted"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec: the endpoint to call and the model name to send."""

    #: The spec exactly as written (stripped), e.g. ``openai:gpt-4o-mini`` or ``ft-support``.
    spec: str
    endpoint: Endpoint
    model: str

    @property
    def provider(self) -> str:
        return self.endpoint.provider

    def __str__(self) -> str:
        return self.spec


def parse_spec(spec: str, endpoints: Mapping[str, Endpoint] | None = None) -> ModelSpec:
    """Parse a model spec.

    ``PROVIDER:MODEL`` for the built-in providers (everything after the first colon is the model
    name, so ``openai:ft:gpt-4o-mini:acme::abc123`` works); ``NAME`` or ``NAME:MODEL`` for a named
    endpoint from ``[tool.llmassert.endpoints.NAME]``.
    """
    endpoints = endpoints or {}
    if not isinstance(spec, str):
        raise ModelSpecError(f"a model spec must be a string like {_EXAMPLES}; got {spec!r}")
    text = spec.strip()
    if not text:
        raise ModelSpecError(f"empty model spec; write PROVIDER:MODEL, e.g. {_EXAMPLES}")
    if any(ch.isspace() for ch in text):
        raise ModelSpecError(
            f"malformed model spec {spec!r}: specs contain no spaces; write PROVIDER:MODEL, "
            f"e.g. {_EXAMPLES}"
        )
    head, colon, rest = text.partition(":")
    if head in BUILTIN_PROVIDERS:
        if not rest:
            raise ModelSpecError(
                f"model spec {spec!r} names the provider {head!r} but no model; "
                f"write {head}:MODEL, e.g. {_EXAMPLES}"
            )
        return ModelSpec(spec=text, endpoint=builtin_endpoint(head), model=rest)
    if head in endpoints:
        endpoint = endpoints[head]
        if colon and not rest:
            raise ModelSpecError(
                f"model spec {spec!r}: nothing after the colon; write {head} or {head}:MODEL"
            )
        model = rest or endpoint.model
        if not model:
            raise ModelSpecError(
                f'endpoint {head!r} has no model: set model = "..." in '
                f"[tool.llmassert.endpoints.{head}] or write {head}:MODEL"
            )
        return ModelSpec(spec=text, endpoint=endpoint, model=model)
    known = ", ".join(BUILTIN_PROVIDERS)
    named = ", ".join(sorted(endpoints)) or "none configured"
    if not colon:
        raise ModelSpecError(
            f"unknown model spec {spec!r}: not PROVIDER:MODEL and not a named endpoint. "
            f"Known providers: {known}; named endpoints ([tool.llmassert.endpoints] in "
            f"pyproject.toml): {named}. Example: {_EXAMPLES}"
        )
    raise ModelSpecError(
        f"unknown provider {head!r} in model spec {spec!r}.{_did_you_mean(head, rest, endpoints)} "
        f"Known providers: {known}; named endpoints ([tool.llmassert.endpoints] in "
        f"pyproject.toml): {named}"
    )


def _did_you_mean(head: str, rest: str, endpoints: Mapping[str, Endpoint]) -> str:
    """`` Did you mean 'openai:gpt-4o-mini'?`` for a near miss of a provider or endpoint name."""
    import difflib

    close = difflib.get_close_matches(head, [*BUILTIN_PROVIDERS, *endpoints], n=1, cutoff=0.6)
    return f" Did you mean {close[0] + ':' + rest!r}?" if close else ""
