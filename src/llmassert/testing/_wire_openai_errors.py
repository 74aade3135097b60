"""OpenAI error bodies (``{"error": {"message", "type", "param", "code"}}``), shared by every
OpenAI wire module."""

from __future__ import annotations

from typing import Any

from llmassert.testing._reply import ErrorReply
from llmassert.testing._wire import SSEEvent, error_headers

__all__ = ["error_object", "render_error", "render_stream_error"]

# status -> (type, code, message), after the real API's bodies.
_DEFAULTS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "permission_denied",
        "You are not allowed to access this resource.",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    409: ("invalid_request_error", "conflict", "The request conflicts with the current state."),
    413: ("invalid_request_error", "request_too_large", "The request is too large."),
    422: ("invalid_request_error", None, "The request could not be processed."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again in 1s.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: (
        "server_error",
        "service_unavailable",
        "The server is overloaded or not ready yet.",
    ),
    504: ("server_error", None, "Gateway timeout."),
}

_QUOTA_MESSAGE = "You exceeded your current quota, please check your plan and billing details."


def error_object(error: ErrorReply) -> dict[str, Any]:
    """The inner ``error`` object for ``error`` (defaults by status)."""
    defaults: tuple[str, str | None, str]
    if error.code == "insufficient_quota":
        defaults = ("insufficient_quota", "insufficient_quota", _QUOTA_MESSAGE)
    elif error.status in _DEFAULTS:
        defaults = _DEFAULTS[error.status]
    elif error.status >= 500:
        defaults = _DEFAULTS[500]
    else:
        defaults = _DEFAULTS[400]
    default_type, default_code, default_message = defaults
    return {
        "message": error.message if error.message is not None else default_message,
        "type": error.type if error.type is not None else default_type,
        "param": error.param,
        "code": error.code if error.code is not None else default_code,
    }


def render_error(error: ErrorReply) -> tuple[int, dict[str, Any], dict[str, str]]:
    return error.status, {"error": error_object(error)}, error_headers(error)


def render_stream_error(error: ErrorReply) -> SSEEvent:
    """A mid-stream error: a ``data: {"error": {...}}`` event (the SDKs raise ``APIError``)."""
    return SSEEvent(data={"error": error_object(error)})
