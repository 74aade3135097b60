"""SDK exceptions -> llmassert errors (with endpoint, status, request id and the fix), and the
retry hint the retry layer reads (is it transient, and how long the server asked us to wait)."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmassert._errors import (
    AuthenticationError,
    ContextLengthError,
    EndpointUnreachableError,
    ModelNotFoundError,
    ModelTimeoutError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "CallTarget",
    "RetryHint",
    "invalid_body_error",
    "is_replayable",
    "map_sdk_error",
    "not_a_completion_error",
    "retry_hint",
    "safe_headers",
    "sdk_status_parts",
    "status_error",
    "stream_error",
    "stream_overrun_error",
    "with_attempts",
]

#: Response headers kept on a WireResponse: request ids and rate-limit information only.
SAFE_HEADER_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
SAFE_HEADERS = frozenset(
    {
        "x-request-id",
        "request-id",
        "openai-processing-ms",
        "openai-model",
        "retry-after",
        "retry-after-ms",
        "x-should-retry",
    }
)
_RETRY_STATUSES = frozenset({408, 409, 429, 529})


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed response headers (never credentials, never cookies)."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        low = key.lower()
        if low in SAFE_HEADERS or low.startswith(SAFE_HEADER_PREFIXES):
            out[low] = value
    return out


@dataclass(frozen=True)
class CallTarget:
    """What an error message needs to say which endpoint failed and how to fix it."""

    label: str
    url: str
    model: str
    timeout_s: float
    key_env: str | None


@dataclass(frozen=True)
class RetryHint:
    retryable: bool
    #: Seconds the server asked us to wait (``retry-after-ms`` / ``retry-after``), if any.
    retry_after_s: float | None = None
    #: At most this many retries for this kind of failure (``None``: the policy's).
    max_retries: int | None = None
    #: Retry after a short wait (a refused connection either comes back at once or not soon).
    quick: bool = False
    #: The endpoint could not be connected to (see :mod:`llmassert._models._health`).
    unreachable: bool = False


def retry_hint(exc: BaseException) -> RetryHint:
    hint = getattr(exc, "_llmassert_retry", None)
    return hint if isinstance(hint, RetryHint) else RetryHint(retryable=False)


def _set_hint(exc: ProviderError, hint: RetryHint) -> ProviderError:
    exc._llmassert_retry = hint  # type: ignore[attr-defined]
    return exc


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw:
        try:
            return max(float(raw), 0.0)
        except ValueError:
            parsed = email.utils.parsedate_tz(raw)
            if parsed is not None:
                return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
    return None


def _provider_message(status: int, body: Any) -> tuple[str, str | None, str | None]:
    """(message, code, type) of an error answer, whatever the provider's body shape (OpenAI
    ``{"error": {...}}``, Anthropic ``{"type": "error", "error": {...}}``, plain text)."""
    message: Any = None
    code: Any = None
    kind: Any = None
    inner = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(inner, Mapping):
        message, code, kind = inner.get("message"), inner.get("code"), inner.get("type")
    elif isinstance(inner, str) and inner.strip():
        message = inner
    if not message:
        message = json.dumps(body, default=str) if body not in (None, "") else "(empty body)"
    return _short(str(message)), (str(code) if code else None), (str(kind) if kind else None)


_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{6,}|sk-ant-[A-Za-z0-9_\-*]{6,})")
#: How much of a provider's message (or of a body) an error shows.
_SHOWN_CHARS = 300


def _mask(text: str) -> str:
    """Providers echo (partly masked) keys in 401 messages: never pass them on."""
    from llmassert._models._clients import mask_secrets

    return _KEY_LIKE.sub("sk-***", mask_secrets(text))


def _short(text: str) -> str:
    """``text`` masked, on one line, at most ``_SHOWN_CHARS`` characters."""
    flat = " ".join(_mask(text).split())
    return flat if len(flat) <= _SHOWN_CHARS else flat[: _SHOWN_CHARS - 3] + "..."


def _request_id(headers: Mapping[str, str]) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get("x-request-id") or lowered.get("request-id")


def _with_sdk_error(error: ProviderError, exc: BaseException | None) -> ProviderError:
    error.sdk_error = exc
    return error


def map_sdk_error(exc: BaseException, target: CallTarget) -> BaseException:
    """The llmassert error for an SDK exception (other exceptions are returned unchanged). The
    SDK's exception is kept as ``sdk_error``; callers raise the result ``from None`` so that
    the SDK's message (which may echo a key) and frames are never printed."""
    names = _names(exc)
    label = target.label
    if "APITimeoutError" in names:
        return _set_hint(
            ModelTimeoutError(
                f"{label}: no answer within {target.timeout_s:g} s from {target.url}. Raise the "
                "timeout (endpoint setting 'timeout', --llm-timeout, or timeout= per call) or "
                "check the server.",
                endpoint=label,
                sdk_error=exc,
            ),
            RetryHint(retryable=True),
        )
    if "TimeoutException" in names:
        return _set_hint(
            ModelTimeoutError(
                f"{label}: the stream from {target.url} stalled for more than "
                f"{target.timeout_s:g} s. Raise the timeout (endpoint setting 'timeout', "
                "--llm-timeout, or timeout= per call) or check the server.",
                endpoint=label,
                sdk_error=exc,
            ),
            RetryHint(retryable=True),
        )
    if "APIConnectionError" in names or "TransportError" in names:
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__}: {_short(str(cause))})" if cause else ""
        if any("ConnectError" in _names(e) for e in (exc, cause) if e is not None):
            # Refused, unknown host, no route: nothing listens there (yet).
            return _set_hint(
                EndpointUnreachableError(
                    f"{label}: cannot reach the endpoint at {target.url}{detail}. Is the "
                    "server running, and is the base_url right?",
                    endpoint=label,
                    sdk_error=exc,
                ),
                RetryHint(retryable=True, max_retries=1, quick=True, unreachable=True),
            )
        if "APIConnectionError" not in names:  # a stream broken off: httpx's own error
            detail = f" ({type(exc).__name__}: {_short(str(exc))})"
        return _set_hint(
            EndpointUnreachableError(
                f"{label}: the connection to {target.url} broke before the answer was "
                f"complete{detail}. The server accepted the request, then dropped it: check "
                "its logs (a crash, a restart, or a proxy in between).",
                endpoint=label,
                sdk_error=exc,
            ),
            RetryHint(retryable=True),
        )
    parts = sdk_status_parts(exc)
    if parts is None:
        return exc
    return status_error(target, *parts, sdk_error=exc)


def sdk_status_parts(exc: BaseException) -> tuple[int, dict[str, str], Any] | None:
    """``(status, headers, body)`` of the HTTP answer behind an SDK status error (the body as
    JSON when it is JSON, else its text), or ``None`` for any other exception."""
    status = getattr(exc, "status_code", None)
    if "APIStatusError" not in _names(exc) or not isinstance(status, int):
        return None
    response = getattr(exc, "response", None)
    headers = {str(k).lower(): str(v) for k, v in (getattr(response, "headers", {}) or {}).items()}
    body: Any = getattr(exc, "body", None)
    try:
        text = response.text if response is not None else None
    except Exception:  # a stream that was never read
        text = None
    if isinstance(text, str):
        try:
            body = json.loads(text) if text.strip() else text
        except ValueError:
            body = text
    return status, headers, body


def is_replayable(error: BaseException) -> bool:
    """Whether a failed live call's answer is the model's deterministic reply to the request
    (a 4xx that retrying cannot change), to be recorded and replayed as this same error."""
    status = getattr(error, "status", None)
    return (
        isinstance(error, ProviderError)
        and isinstance(status, int)
        and 400 <= status < 500
        and not retry_hint(error).retryable
    )


def status_error(
    target: CallTarget,
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    sdk_error: BaseException | None = None,
) -> ProviderError:
    """THE mapping of an HTTP error answer to an llmassert error, from its status, headers and
    body alone: live calls and replays of a stored error answer go through it, so both raise
    the same exception (type, message, status, request id)."""
    headers = {k.lower(): v for k, v in headers.items()}
    label = target.label
    request_id = _request_id(headers)
    message, code, kind = _provider_message(status, body)
    where = f"HTTP {status} from {target.url}"
    rid = f" [request id {request_id}]" if request_id else ""
    common: dict[str, Any] = {
        "endpoint": label,
        "status": status,
        "request_id": request_id,
        "sdk_error": sdk_error,
    }
    lowered = f"{message} {code or ''} {kind or ''}".lower()
    transient = status in _RETRY_STATUSES or status >= 500
    should = headers.get("x-should-retry")
    if should == "true":
        transient = True
    elif should == "false":
        transient = False
    error: ProviderError
    if status == 429 and (code == "insufficient_quota" or kind == "insufficient_quota"):
        transient = False
        error = QuotaExceededError(
            f"{label}: quota exhausted ({where}: {message}){rid}. Not retried: add credit or "
            "raise the account's limit at the provider.",
            **common,
        )
    elif status in (401, 403):
        key = (
            f"the key in {target.key_env}"
            if target.key_env
            else "the key (this endpoint has no api_key_env; set one)"
        )
        error = AuthenticationError(
            f"{label}: the endpoint rejected {key} ({where}: {message}){rid}. Check that it is "
            "a valid key for this endpoint and has access to the model.",
            **common,
        )
    elif (
        code == "context_length_exceeded"
        or "context length" in lowered
        or "context window" in lowered
        or "prompt is too long" in lowered
        or "maximum context" in lowered
    ):
        error = ContextLengthError(
            f"{label}: the request does not fit the model's context window ({where}: "
            f"{message}){rid}. Shorten the prompt or lower max_tokens.",
            **common,
        )
    elif status == 404:
        error = ModelNotFoundError(
            f"{label}: model {target.model!r} not found ({where}: {message}){rid}. Check the "
            "model name (a fine-tune needs its full id, e.g. ft:gpt-4o-mini:org::id) and that "
            "the key has access to it.",
            **common,
        )
    elif status == 429:
        error = RateLimitError(
            f"{label}: rate limited ({where}: {message}){rid}. Lower --llm-concurrency or set "
            "rpm / tpm budgets on the endpoint.",
            **common,
        )
    elif status == 408:
        error = ModelTimeoutError(
            f"{label}: request timed out ({where}: {message}){rid}.", **common
        )
    elif status >= 500:
        error = ServerError(
            f"{label}: the endpoint failed ({where}: {message}){rid}. This is on the provider's "
            "side; try again later.",
            **common,
        )
    else:
        error = ProviderError(f"{label}: request rejected ({where}: {message}){rid}.", **common)
    return _set_hint(error, RetryHint(retryable=transient, retry_after_s=_retry_after(headers)))


def with_attempts(
    error: BaseException, attempts: int, waited_s: float, elapsed_s: float | None = None
) -> BaseException:
    """The same error, its message saying how many attempts were made in how long (also for a
    single attempt that timed out: then the time is the point)."""
    if not isinstance(error, ProviderError):
        return error
    if attempts <= 1 and not isinstance(error, ModelTimeoutError):
        return error
    took = f" in {elapsed_s:.2f} s" if elapsed_s is not None else ""
    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
    waits = f" ({waited_s:.2f} s of waiting between them)" if attempts > 1 else ""
    new = type(error)(
        f"{error} Gave up after {tries}{took}{waits}.",
        endpoint=error.endpoint,
        status=error.status,
        request_id=error.request_id,
        sdk_error=error.sdk_error,
    )
    new.attempts = attempts
    return _set_hint(new, retry_hint(error))


def invalid_body_error(target: CallTarget, status: int, text: str) -> ProviderError:
    """A 2xx answer whose body is not the JSON the API promises (retried once: a server that
    sends a broken body mostly sends it again)."""
    return _set_hint(
        ServerError(
            f"{target.label}: HTTP {status} from {target.url} with a body that is not valid "
            f"JSON: {_short(text)[:200]!r}",
            endpoint=target.label,
            status=status,
        ),
        RetryHint(retryable=True, max_retries=1),
    )


def not_a_completion_error(
    target: CallTarget, status: int, why: str, start: str, headers: Mapping[str, str]
) -> ProviderError:
    """A 2xx answer that is not a completion (``why`` names the missing field; ``start`` is
    the start of the body). Not retried: a gateway that answers this way keeps doing so."""
    request_id = _request_id(headers)
    rid = f" [request id {request_id}]" if request_id else ""
    return _set_hint(
        ProviderError(
            f"{target.label}: HTTP {status} from {target.url} is not a completion: {why}{rid}; "
            f"the body starts {_short(start)[:200]!r}. Check that the base_url points at the "
            "model API itself (not a gateway's status page or error JSON).",
            endpoint=target.label,
            status=status,
            request_id=request_id,
        ),
        RetryHint(retryable=False),
    )


def stream_overrun_error(target: CallTarget, elapsed_s: float) -> ProviderError:
    """A stream still sending when the call's time ran out."""
    return _set_hint(
        ModelTimeoutError(
            f"{target.label}: the stream from {target.url} was still running after "
            f"{elapsed_s:.1f} s, past its {target.timeout_s:g} s. Raise the timeout (endpoint "
            "setting 'timeout', --llm-timeout, or timeout= per call) or ask for less output.",
            endpoint=target.label,
        ),
        RetryHint(retryable=True),
    )


def stream_error(target: CallTarget, events: Sequence[Mapping[str, Any]]) -> ProviderError | None:
    """The error a stream ended with (OpenAI ``{"error": ...}`` data, Anthropic ``error``
    events, Responses ``error`` / ``response.failed``), or ``None``."""
    for event in events:
        data = event.get("data")
        if not isinstance(data, str) or not data.startswith("{"):
            continue
        if event.get("event") not in ("error", "response.failed", None) and '"error"' not in data:
            continue
        try:
            payload = json.loads(data)
        except ValueError:
            continue
        if not isinstance(payload, Mapping):
            continue
        error: Any = None
        if payload.get("type") == "response.failed":
            error = (payload.get("response") or {}).get("error") or {"message": "response failed"}
        elif payload.get("type") == "error" or event.get("event") == "error":
            error = payload.get("error", payload)
        elif "error" in payload and isinstance(payload["error"], Mapping):
            error = payload["error"]
        if not error:
            continue
        message = str(error.get("message", error)) if isinstance(error, Mapping) else str(error)
        kind = ""
        if isinstance(error, Mapping):
            kind = str(error.get("type") or error.get("code") or "")
        text = (
            f"{target.label}: the stream from {target.url} ended with an error: {_short(message)}"
        )
        if "rate_limit" in kind:
            return _set_hint(RateLimitError(text, endpoint=target.label), RetryHint(True))
        if kind in ("overloaded_error", "api_error", "server_error", "internal_error", ""):
            return _set_hint(ServerError(text, endpoint=target.label), RetryHint(True))
        return _set_hint(ProviderError(text, endpoint=target.label), RetryHint(False))
    return None
