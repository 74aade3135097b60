"""Endpoints: where a model lives, how to reach it and the limits that apply to it.

Built-in providers (``openai``, ``anthropic``, ``azure``, ``demo``) need no configuration. Named
endpoints come from ``[tool.llmassert.endpoints.NAME]`` in the project's ``pyproject.toml``::

    [tool.llmassert.endpoints.ft-support]
    provider = "openai"                 # openai | anthropic | azure
    base_url = "http://localhost:8000/v1"
    api_key_env = "VLLM_API_KEY"        # optional: no key -> a placeholder key is sent
    model = "acme/support-7b"
    api = "completions"                 # chat (default) | responses | completions
    timeout = 30                        # seconds per call, retries included (default 60)
    attempt_timeout = 10                # optional: seconds per attempt (default: time left)
    max_tokens = 512                    # default max tokens per call (default 1024)
    max_concurrency = 4                 # in-flight requests (default 8)
    rpm = 600                           # requests per minute budget (optional)
    tpm = 200000                        # tokens per minute budget (optional)
    prices = { input = 0.2, output = 0.6 }   # USD per 1M tokens (optional)
    headers = { "X-Team" = "support", "X-Gateway-Key" = { env = "GATEWAY_KEY" } }
    template = "support_template.yaml"  # the prompt template it was trained with (optional)
    template_mismatch = "error"         # error (default) | warn: a prompt that does not match

Header values are secrets (masked in messages, redacted from recordings); a value given as
``{ env = "NAME" }`` (optionally with ``prefix = "Bearer "``) is read from the environment
when a client is built, so a gateway key need not be written into pyproject.toml.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmassert._errors import ConfigError

__all__ = [
    "APIS",
    "BUILTIN_PROVIDERS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_TIMEOUT_S",
    "Endpoint",
    "HeaderFromEnv",
    "builtin_endpoint",
    "check_base_url",
    "find_pyproject",
    "load_endpoints",
    "load_project_config",
]

#: Providers usable as ``PROVIDER:MODEL`` without configuration.
BUILTIN_PROVIDERS = ("openai", "anthropic", "azure", "demo")
#: Providers a named endpoint may use (``demo``: a name, and a template, for a demo model).
ENDPOINT_PROVIDERS = ("openai", "anthropic", "azure", "demo")
#: OpenAI-family APIs an endpoint can be served through.
APIS = ("chat", "responses", "completions")
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_TOKENS = 1024
DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_MAX_RETRIES = 4

_ENV_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
}


@dataclass(frozen=True)
class HeaderFromEnv:
    """A header value read from an environment variable when a client is built:
    ``{ env = "GATEWAY_KEY" }`` or ``{ env = "HELICONE_KEY", prefix = "Bearer " }``."""

    env: str
    prefix: str = ""

    def __repr__(self) -> str:
        prefix = f", prefix={self.prefix!r}" if self.prefix else ""
        return f"HeaderFromEnv(env={self.env!r}{prefix})"


@dataclass(frozen=True)
class Endpoint:
    """Where and how to call a model. Built from a spec, or from ``[tool.llmassert.endpoints]``."""

    #: The endpoint's name: a built-in provider name or the ``NAME`` of a configured endpoint.
    name: str
    #: ``openai`` (and OpenAI-compatible servers), ``anthropic``, ``azure`` or ``demo``.
    provider: str
    model: str | None = None
    #: ``None``: the SDK's default (which honours ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``).
    base_url: str | None = None
    #: Environment variable holding the API key; ``None`` on a named endpoint with a
    #: ``base_url`` means "no key needed" (a placeholder is sent: Ollama, llama.cpp, vLLM).
    api_key_env: str | None = None
    #: OpenAI-family API: ``chat`` (Chat Completions), ``responses`` or ``completions``.
    api: str = "chat"
    #: Seconds for a whole call, every attempt and wait between retries included.
    timeout_s: float = DEFAULT_TIMEOUT_S
    #: Optional bound on each attempt (``None``: the time left of the call's timeout), so that
    #: an attempt that hangs can be retried within the call's timeout.
    attempt_timeout_s: float | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    rpm: int | None = None
    tpm: int | None = None
    #: Retries after the first attempt for transient failures.
    max_retries: int = DEFAULT_MAX_RETRIES
    #: First backoff delay in seconds (doubles per retry, with jitter).
    retry_initial_s: float = 0.5
    #: Longest single wait between attempts (also caps ``retry-after``).
    retry_max_wait_s: float = 30.0
    #: Bound on the total time spent waiting between attempts of one call.
    retry_total_wait_s: float = 120.0
    #: Azure OpenAI: ``api-version`` and deployment (defaults to the model name).
    api_version: str | None = None
    deployment: str | None = None
    #: Price override in USD per 1M tokens: ``{"input": x, "output": y, "cached_input": z}``.
    prices: Mapping[str, float] | None = None
    #: Treat the model as a reasoning model (``max_completion_tokens``, no temperature), or
    #: ``None`` to guess from the model name (``o1``, ``o3``, ``o4-mini``, ``gpt-5``...).
    reasoning: bool | None = None
    #: Streamed Chat / Completions calls ask for a final usage chunk (``stream_options``);
    #: ``False`` leaves that field out (for servers that reject fields they do not know).
    stream_usage: bool = True
    #: Extra HTTP headers sent with every call. Their values are secrets (masked in messages,
    #: redacted from recordings); a :class:`HeaderFromEnv` value is read from the environment
    #: when a client is built.
    headers: Mapping[str, str | HeaderFromEnv] = field(default_factory=dict, repr=False)
    #: The prompt template (a YAML file) the endpoint's model was trained with: every prompt
    #: sent to it is checked against it (see :mod:`llmassert._models._binding`).
    template: str | None = None
    #: What a prompt that does not match ``template`` does: ``error`` (fails) or ``warn``.
    template_mismatch: str = "error"

    @property
    def wire(self) -> str:
        """The wire format family: ``openai`` or ``anthropic``."""
        return "anthropic" if self.provider == "anthropic" else "openai"

    def key_env(self) -> str | None:
        """The environment variable to read the API key from (``None``: no key needed)."""
        if self.api_key_env:
            return self.api_key_env
        if self.provider == "demo":
            return None
        if self.base_url and self.name not in BUILTIN_PROVIDERS:
            return None
        return _ENV_KEYS.get(self.provider)

    def with_overrides(self, **overrides: Any) -> Endpoint:
        """A copy with some fields replaced (unknown names raise a :class:`ConfigError`)."""
        known = set(self.__dataclass_fields__)
        bad = sorted(set(overrides) - known)
        if bad:
            raise ConfigError(
                f"unknown endpoint setting(s) {', '.join(bad)}; known: {', '.join(sorted(known))}"
            )
        if isinstance(overrides.get("base_url"), str):
            check_base_url(overrides["base_url"], "base_url")
        return replace(self, **overrides)


def builtin_endpoint(provider: str) -> Endpoint:
    """The zero-configuration endpoint of a built-in provider."""
    if provider == "azure":
        version = os.environ.get("OPENAI_API_VERSION")
        return Endpoint(name="azure", provider="azure", api_version=version)
    return Endpoint(name=provider, provider=provider)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (default: the current directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _load_toml(path: Path) -> dict[str, Any]:
    tomllib = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_project_config(path: Path | None) -> dict[str, Any]:
    """The ``[tool.llmassert]`` table of a pyproject.toml (``{}`` when absent)."""
    if path is None or not path.is_file():
        return {}
    table = _load_toml(path).get("tool", {}).get("llmassert", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.llmassert] must be a table")
    return table


_NUMBER_FIELDS = {
    "timeout": ("timeout_s", float),
    "attempt_timeout": ("attempt_timeout_s", float),
    "max_tokens": ("max_tokens", int),
    "max_concurrency": ("max_concurrency", int),
    "rpm": ("rpm", int),
    "tpm": ("tpm", int),
    "max_retries": ("max_retries", int),
    "retry_initial": ("retry_initial_s", float),
    "retry_max_wait": ("retry_max_wait_s", float),
    "retry_total_wait": ("retry_total_wait_s", float),
}
_STRING_FIELDS = (
    "provider",
    "base_url",
    "api_key_env",
    "model",
    "api",
    "api_version",
    "deployment",
)


def _endpoint_from_table(
    name: str, table: Mapping[str, Any], where: str, base: Path | None = None
) -> Endpoint:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table of settings, got {type(table).__name__}")
    known = {*_STRING_FIELDS, *_NUMBER_FIELDS, "prices", "reasoning", "stream_usage", "headers"}
    known |= {"template", "template_mismatch"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {}
    for key in _STRING_FIELDS:
        if key in table:
            if not isinstance(table[key], str) or not table[key].strip():
                raise ConfigError(f"{where}.{key}: expected a non-empty string, got {table[key]!r}")
            values[key] = table[key].strip()
    if "base_url" in values:
        check_base_url(values["base_url"], f"{where}.base_url")
    provider = values.pop("provider", "openai")
    if provider == "demo" and "base_url" in values:
        raise ConfigError(f"{where}.base_url: a demo endpoint is served in-process; remove it")
    if provider not in ENDPOINT_PROVIDERS:
        raise ConfigError(
            f"{where}.provider: unknown provider {provider!r}; "
            f"use one of: {', '.join(ENDPOINT_PROVIDERS)}"
        )
    api = values.get("api", "chat")
    if api not in APIS:
        raise ConfigError(f"{where}.api: unknown API {api!r}; use one of: {', '.join(APIS)}")
    if provider == "anthropic" and api != "chat":
        raise ConfigError(f"{where}.api: anthropic endpoints speak the Messages API; remove 'api'")
    for key, (attr, kind) in _NUMBER_FIELDS.items():
        if key in table:
            raw = table[key]
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
                raise ConfigError(f"{where}.{key}: expected a non-negative number, got {raw!r}")
            if kind is int and not float(raw).is_integer():
                raise ConfigError(f"{where}.{key}: expected a whole number, got {raw!r}")
            values[attr] = kind(raw)
    if "prices" in table:
        values["prices"] = _prices(table["prices"], f"{where}.prices")
    for flag in ("reasoning", "stream_usage"):
        if flag in table:
            if not isinstance(table[flag], bool):
                raise ConfigError(f"{where}.{flag}: expected true or false")
            values[flag] = table[flag]
    if "headers" in table:
        values["headers"] = _headers(table["headers"], f"{where}.headers")
    if "template" in table or "template_mismatch" in table:
        values.update(_template(table, where, base, api))
    return Endpoint(name=name, provider=provider, **values)


def _template(table: Mapping[str, Any], where: str, base: Path | None, api: str) -> dict[str, Any]:
    """``template`` (resolved against the pyproject's folder, loaded and validated now: a
    missing or bad template stops the run at start-up) and ``template_mismatch``."""
    mode = table.get("template_mismatch", "error")
    from llmassert._models._binding import MISMATCH_MODES, load_bound

    if mode not in MISMATCH_MODES:
        raise ConfigError(
            f"{where}.template_mismatch: expected one of {', '.join(MISMATCH_MODES)}, got {mode!r}"
        )
    raw = table.get("template")
    if raw is None:
        raise ConfigError(f"{where}.template_mismatch: set only with 'template'")
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}.template: expected the path of a template file, got {raw!r}")
    path = Path(raw.strip())
    if not path.is_absolute() and base is not None:
        path = base / path
    load_bound(str(path), f"{where}.template", api)
    return {"template": str(path), "template_mismatch": mode}


def check_base_url(url: str, where: str) -> None:
    """A base URL must be a full ``http(s)://host[:port][/path]`` URL: without a scheme the SDK
    would fail every call with a confusing connection error."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return
    if "://" not in url:
        raise ConfigError(
            f"{where}: {url!r} has no scheme; write the full URL, e.g. 'http://{url}'"
        )
    raise ConfigError(
        f"{where}: {url!r} is not an http(s) URL; write e.g. 'http://localhost:8000/v1'"
    )


_HEADERS_HELP = (
    'expected a table of header values, each a string or { env = "VARIABLE" } '
    '(optionally with prefix = "Bearer "), e.g. headers = { "x-gateway-key" = '
    '{ env = "GATEWAY_KEY" } }'
)


def _headers(raw: Any, where: str) -> dict[str, str | HeaderFromEnv]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: {_HEADERS_HELP}")
    out: dict[str, str | HeaderFromEnv] = {}
    for name, value in raw.items():
        if not str(name).strip() or any(ch.isspace() or ch == ":" for ch in str(name)):
            raise ConfigError(f"{where}: {name!r} is not a valid header name")
        if isinstance(value, str):
            out[str(name)] = value
            continue
        if not isinstance(value, Mapping) or "env" not in value:
            # Never echo the value: it may be a key.
            raise ConfigError(f"{where}.{name}: {_HEADERS_HELP}")
        unknown = sorted(set(value) - {"env", "prefix"})
        if unknown:
            raise ConfigError(
                f"{where}.{name}: unknown key(s) {', '.join(unknown)}; use env and prefix"
            )
        env, prefix = value["env"], value.get("prefix", "")
        if not isinstance(env, str) or not env.strip() or any(ch.isspace() for ch in env):
            raise ConfigError(
                f"{where}.{name}.env: expected the name of an environment variable, got {env!r}"
            )
        if not isinstance(prefix, str):
            raise ConfigError(f"{where}.{name}.prefix: expected a string, got {prefix!r}")
        out[str(name)] = HeaderFromEnv(env=env.strip(), prefix=prefix)
    return out


def _prices(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table like {{ input = 0.15, output = 0.6 }}")
    out: dict[str, float] = {}
    for key, value in raw.items():
        if key not in ("input", "output", "cached_input"):
            raise ConfigError(f"{where}: unknown key {key!r}; use input, output, cached_input")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{where}.{key}: expected a non-negative number (USD per 1M tokens)")
        out[key] = float(value)
    if "input" not in out or "output" not in out:
        raise ConfigError(f"{where}: both 'input' and 'output' (USD per 1M tokens) are required")
    return out


def load_endpoints(path: Path | None) -> dict[str, Endpoint]:
    """The named endpoints of a pyproject.toml (``{}`` when it has none)."""
    if path is None:
        return {}
    table = load_project_config(path).get("endpoints", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: [tool.llmassert.endpoints] must be a table of endpoints")
    endpoints: dict[str, Endpoint] = {}
    for name, settings in table.items():
        where = f"{path}: [tool.llmassert.endpoints.{name}]"
        if name in BUILTIN_PROVIDERS:
            raise ConfigError(
                f"{where}: the name {name!r} shadows the built-in provider; rename the endpoint "
                f"(built-in providers: {', '.join(BUILTIN_PROVIDERS)})"
            )
        if not name or ":" in name or any(ch.isspace() for ch in name):
            raise ConfigError(f"{where}: endpoint names may not contain ':' or spaces")
        endpoints[name] = _endpoint_from_table(name, settings, where, path.parent)
    return endpoints
