"""SDK clients for live calls: built with ``max_retries=0`` (retries are ours) and the endpoint's
timeout; sync clients are cached per endpoint (they are thread-safe), async clients are never
cached across event loops (see :func:`async_client`).

Cached sync clients hold keep-alive sockets, so they are closed, never left to the garbage
collector: the least recently used idle one when the cache is full (``MAX_SYNC_CLIENTS``), all
idle ones at the end of a pytest session (:func:`close_clients`), and the rest at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import hashlib
import os
import ssl
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from llmassert._errors import MissingAPIKeyError, ModelSpecError
from llmassert._models._endpoints import BUILTIN_PROVIDERS, Endpoint, HeaderFromEnv
from llmassert._secret_registry import mask_secrets, register_secret

__all__ = [
    "AsyncClientScope",
    "api_key",
    "async_client",
    "base_url_of",
    "close_clients",
    "endpoint_headers",
    "mask_secrets",
    "raw_client",
    "remember_secret",
    "sync_client",
]

#: The key sent to endpoints that need none (Ollama, llama.cpp, the demo endpoint).
PLACEHOLDER_KEY = "llmassert-no-key"

_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None
#: Sync clients kept for reuse (each holds a connection pool); least recently used first.
MAX_SYNC_CLIENTS = 16
_sync_clients: OrderedDict[Hashable, Any] = OrderedDict()
#: In-flight calls per cached client (by id): a busy client is never closed.
_busy: dict[int, int] = {}
_atexit_registered = False


def _ssl() -> ssl.SSLContext:
    """One SSL context for every client: building one costs ~20 ms, sharing it is safe."""
    global _ssl_context
    with _lock:
        if _ssl_context is None:
            import httpx2

            _ssl_context = httpx2.create_ssl_context()
        return _ssl_context


def remember_secret(value: str, label: str) -> None:
    """Keep a key out of logs and error messages (:func:`mask_secrets`), and out of recordings
    (the recorder's scanner redacts registered values)."""
    register_secret(value, label)


#: Headers whose values are protocol settings, not credentials: not registered as secrets.
_NOT_SECRET_HEADERS = frozenset(
    {"accept", "anthropic-beta", "anthropic-version", "content-type", "openai-beta", "user-agent"}
)


def endpoint_headers(endpoint: Endpoint, label: str) -> dict[str, str]:
    """The endpoint's extra headers with ``{ env = ... }`` values read from the environment;
    every value is registered as a secret. A variable that is not set is one clear error."""
    out: dict[str, str] = {}
    for name, spec in endpoint.headers.items():
        if isinstance(spec, HeaderFromEnv):
            raw = os.environ.get(spec.env, "").strip()
            if not raw:
                raise MissingAPIKeyError(
                    f"{label}: header {name!r} of endpoint {endpoint.name!r} is read from the "
                    f"environment variable {spec.env} ([tool.llmassert.endpoints."
                    f"{endpoint.name}] headers), which is not set. Set it (export "
                    f"{spec.env}=...) or pick another model."
                )
            value, secret_label = spec.prefix + raw, f"${spec.env}"
        else:
            value, secret_label = spec, f"header {name} of endpoint {endpoint.name}"
            raw = value
        if name.lower() not in _NOT_SECRET_HEADERS:
            register_secret(raw, secret_label)
        out[name] = value
    return out


def api_key(endpoint: Endpoint, label: str) -> str:
    """The endpoint's API key from its environment variable (placeholder when none is needed)."""
    env = endpoint.key_env()
    if env is None:
        return PLACEHOLDER_KEY
    value = os.environ.get(env, "").strip()
    if value:
        remember_secret(value, f"${env}")
    named = endpoint.name not in BUILTIN_PROVIDERS and not endpoint.api_key_env
    if not value and named and not endpoint.base_url:
        raise MissingAPIKeyError(
            f"{label}: endpoint {endpoint.name!r} has no base_url, so it calls the provider's own "
            f"service at {base_url_of(endpoint)}, which needs {env} (not set). For a self-hosted "
            'server add base_url = "http://HOST:PORT/v1" to '
            f"[tool.llmassert.endpoints.{endpoint.name}]; for the provider, export {env}=..."
        )
    if not value:
        where = (
            f" (api_key_env of [tool.llmassert.endpoints.{endpoint.name}])"
            if endpoint.api_key_env
            else ""
        )
        raise MissingAPIKeyError(
            f"{label}: no API key: the environment variable {env}{where} is not set. "
            f"Set it (export {env}=...) or pick another model, e.g. --llm-model demo:prompted "
            "for the offline demo endpoint."
        )
    return value


def base_url_of(endpoint: Endpoint) -> str:
    """The base URL calls go to (for messages; the SDK resolves the same default)."""
    if endpoint.base_url:
        return endpoint.base_url
    if endpoint.provider == "anthropic":
        return os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    if endpoint.provider == "azure":
        return os.environ.get("AZURE_OPENAI_ENDPOINT", "<AZURE_OPENAI_ENDPOINT>")
    return os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"


def _azure_kwargs(endpoint: Endpoint, label: str) -> dict[str, Any]:
    version = endpoint.api_version or os.environ.get("OPENAI_API_VERSION")
    if not version:
        raise ModelSpecError(
            f"{label}: Azure OpenAI needs an API version: set api_version in "
            "[tool.llmassert.endpoints.NAME] or the OPENAI_API_VERSION environment variable"
        )
    kwargs: dict[str, Any] = {"api_version": version}
    if endpoint.base_url:
        kwargs["base_url"] = endpoint.base_url
    else:
        azure = os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not azure:
            raise ModelSpecError(
                f"{label}: Azure OpenAI needs the resource URL: set base_url in "
                "[tool.llmassert.endpoints.NAME] or the AZURE_OPENAI_ENDPOINT environment variable"
            )
        kwargs["azure_endpoint"] = azure
    return kwargs


def _build(
    endpoint: Endpoint,
    label: str,
    *,
    is_async: bool,
    limits: Any = None,
    sdk_retries: bool = False,
) -> Any:
    key = api_key(endpoint, label)
    common: dict[str, Any] = {
        "api_key": key,
        "timeout": endpoint.timeout_s,
        "default_headers": endpoint_headers(endpoint, label) or None,
    }
    if not sdk_retries:
        common["max_retries"] = 0
    http_kwargs: dict[str, Any] = {"verify": _ssl()}
    if limits is not None:
        http_kwargs["limits"] = limits
    if endpoint.provider == "anthropic":
        import anthropic

        http = (anthropic.DefaultAsyncHttpxClient if is_async else anthropic.DefaultHttpxClient)(
            **http_kwargs
        )
        cls: Any = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
        return cls(base_url=endpoint.base_url, http_client=http, **common)
    import openai

    http = (openai.DefaultAsyncHttpxClient if is_async else openai.DefaultHttpxClient)(
        **http_kwargs
    )
    if endpoint.provider == "azure":
        cls = openai.AsyncAzureOpenAI if is_async else openai.AzureOpenAI
        return cls(http_client=http, **_azure_kwargs(endpoint, label), **common)
    cls = openai.AsyncOpenAI if is_async else openai.OpenAI
    return cls(base_url=endpoint.base_url or None, http_client=http, **common)


def raw_client(endpoint: Endpoint, label: str) -> Any:
    """A plain sync SDK client for the endpoint, for users who want the SDK itself: the SDK's
    own retry defaults, the endpoint's URL (Azure routing included), key, headers and timeout.
    The caller closes it."""
    return _build(endpoint, label, is_async=False, sdk_retries=True)


def _cache_key(endpoint: Endpoint, label: str) -> Hashable:
    key = api_key(endpoint, label)
    headers = sorted(endpoint_headers(endpoint, label).items())
    fingerprint = hashlib.sha256(repr((key, headers)).encode()).hexdigest()[:16]
    return (
        endpoint.provider,
        endpoint.base_url,
        endpoint.api_version,
        endpoint.timeout_s,
        fingerprint,
        os.environ.get("OPENAI_BASE_URL"),
        os.environ.get("ANTHROPIC_BASE_URL"),
        os.environ.get("AZURE_OPENAI_ENDPOINT"),
    )


@contextlib.contextmanager
def sync_client(endpoint: Endpoint, label: str) -> Iterator[Any]:
    """A cached sync SDK client for the endpoint (thread-safe, reused across calls), held for
    the duration of the ``with`` block so that it is not closed while in use."""
    global _atexit_registered
    cache_key = _cache_key(endpoint, label)
    with _lock:
        client = _sync_clients.get(cache_key)
    if client is None:
        built = _build(endpoint, label, is_async=False)
        with _lock:
            client = _sync_clients.setdefault(cache_key, built)
            if not _atexit_registered:
                atexit.register(close_clients, idle_only=False)
                _atexit_registered = True
        if client is not built:
            built.close()  # another thread cached one first
    with _lock:
        _sync_clients.move_to_end(cache_key)
        _busy[id(client)] = _busy.get(id(client), 0) + 1
        evicted = _evict()
    for old in evicted:
        old.close()
    try:
        yield client
    finally:
        with _lock:
            left = _busy[id(client)] - 1
            if left:
                _busy[id(client)] = left
            else:
                del _busy[id(client)]


def _evict() -> list[Any]:
    """Drop the least recently used idle clients beyond ``MAX_SYNC_CLIENTS`` (under the lock);
    the caller closes them."""
    evicted: list[Any] = []
    for key in list(_sync_clients):
        if len(_sync_clients) <= MAX_SYNC_CLIENTS:
            break
        if id(_sync_clients[key]) not in _busy:
            evicted.append(_sync_clients.pop(key))
    return evicted


def close_clients(*, idle_only: bool = True) -> int:
    """Close the cached sync clients (those not in use, unless ``idle_only=False``) and return
    how many were closed. Later calls build new ones."""
    with _lock:
        keys = [k for k, c in _sync_clients.items() if not idle_only or id(c) not in _busy]
        closing = [_sync_clients.pop(k) for k in keys]
    for client in closing:
        with contextlib.suppress(Exception):
            client.close()
    return len(closing)


class AsyncClientScope:
    """Async clients shared by the calls of one scope (one ``abatch``) on ONE event loop.

    Outside a scope every async call gets its own client, closed when the call ends: nothing
    outlives the event loop it was made on, so "Event loop is closed" cannot happen under
    pytest-asyncio's per-test loops.
    """

    def __init__(self) -> None:
        self._clients: dict[Hashable, Any] = {}

    def get(self, endpoint: Endpoint, label: str) -> Any:
        cache_key = _cache_key(endpoint, label)
        client = self._clients.get(cache_key)
        if client is None:
            client = self._clients[cache_key] = _build(endpoint, label, is_async=True)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()


_scope: contextvars.ContextVar[AsyncClientScope | None] = contextvars.ContextVar(
    "llmassert_async_scope", default=None
)


def current_scope() -> AsyncClientScope | None:
    return _scope.get()


def set_scope(scope: AsyncClientScope | None) -> contextvars.Token[AsyncClientScope | None]:
    return _scope.set(scope)


def reset_scope(token: contextvars.Token[AsyncClientScope | None]) -> None:
    _scope.reset(token)


def async_client(endpoint: Endpoint, label: str) -> tuple[Any, bool]:
    """An async SDK client and whether the caller must close it (``True`` outside a scope)."""
    scope = _scope.get()
    if scope is not None:
        return scope.get(endpoint, label), False
    return _build(endpoint, label, is_async=True), True
