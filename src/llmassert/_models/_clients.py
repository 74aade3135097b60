"""SDK clients for live calls: built with ``max_retries=0`` (retries are ours) and the endpoint's
timeout; sync clients are cached per endpoint (they are thread-safe), async clients are never
cached across event loops (see :func:`async_client`)."""

from __future__ import annotations

import contextvars
import hashlib
import os
import ssl
import threading
from collections.abc import Hashable
from typing import Any

from llmassert._errors import MissingAPIKeyError, ModelSpecError
from llmassert._models._endpoints import Endpoint

__all__ = [
    "AsyncClientScope",
    "api_key",
    "async_client",
    "base_url_of",
    "mask_secrets",
    "remember_secret",
    "sync_client",
]

#: The key sent to endpoints that need none (Ollama, llama.cpp, the demo endpoint).
PLACEHOLDER_KEY = "llmassert-no-key"

_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None
_sync_clients: dict[Hashable, Any] = {}


def _ssl() -> ssl.SSLContext:
    """One SSL context for every client: building one costs ~20 ms, sharing it is safe."""
    global _ssl_context
    with _lock:
        if _ssl_context is None:
            import httpx2

            _ssl_context = httpx2.create_ssl_context()
        return _ssl_context


_secrets: set[str] = set()


def remember_secret(value: str, label: str) -> None:
    """Keep a key out of logs and error messages, and out of recordings (the recorder's
    scanner redacts registered values)."""
    if value in _secrets:
        return
    with _lock:
        _secrets.add(value)
    from llmassert._recording._secrets import register_secret

    register_secret(value, label)


def mask_secrets(text: str) -> str:
    """``text`` with every key llmassert has read replaced by ``***``."""
    for value in list(_secrets):
        if value in text:
            text = text.replace(value, "***")
    return text


def api_key(endpoint: Endpoint, label: str) -> str:
    """The endpoint's API key from its environment variable (placeholder when none is needed)."""
    env = endpoint.key_env()
    if env is None:
        return PLACEHOLDER_KEY
    value = os.environ.get(env, "").strip()
    if value:
        remember_secret(value, f"${env}")
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


def _build(endpoint: Endpoint, label: str, *, is_async: bool, limits: Any = None) -> Any:
    key = api_key(endpoint, label)
    common: dict[str, Any] = {
        "api_key": key,
        "max_retries": 0,
        "timeout": endpoint.timeout_s,
        "default_headers": dict(endpoint.headers) or None,
    }
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


def _cache_key(endpoint: Endpoint, label: str) -> Hashable:
    key = api_key(endpoint, label)
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (
        endpoint.provider,
        endpoint.base_url,
        endpoint.api_version,
        endpoint.timeout_s,
        tuple(sorted(endpoint.headers.items())),
        fingerprint,
        os.environ.get("OPENAI_BASE_URL"),
        os.environ.get("ANTHROPIC_BASE_URL"),
        os.environ.get("AZURE_OPENAI_ENDPOINT"),
    )


def sync_client(endpoint: Endpoint, label: str) -> Any:
    """A cached sync SDK client for the endpoint (thread-safe, reused across calls)."""
    cache_key = _cache_key(endpoint, label)
    with _lock:
        client = _sync_clients.get(cache_key)
    if client is None:
        client = _build(endpoint, label, is_async=False)
        with _lock:
            client = _sync_clients.setdefault(cache_key, client)
    return client


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
