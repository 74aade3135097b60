"""Reading a model output: a plain ``str`` or anything shaped like :class:`llmassert.Response`."""

from __future__ import annotations

from typing import Any

from llmassert._errors import UsageError

__all__ = ["describe_type", "is_response", "response_attr", "text_of"]


def describe_type(value: object) -> str:
    return "None" if value is None else type(value).__name__


def is_response(output: object) -> bool:
    """True for :class:`llmassert.Response` and look-alikes (anything with a ``str`` ``.text``)."""
    return not isinstance(output, str) and isinstance(getattr(output, "text", None), str)


def text_of(output: object, check: str) -> str:
    """The text a check judges: the string itself or the response's ``.text``."""
    if isinstance(output, str):
        return output
    text = getattr(output, "text", None)
    if isinstance(text, str):
        return text
    raise UsageError(
        f"check {check!r} takes a str or an llmassert.Response, got {describe_type(output)}: "
        "pass the model's reply (or its .text)"
    )


def response_attr(output: object, attr: str, check: str) -> Any:
    """A runtime attribute of a response (``latency_s``, ``usage``...); a plain string has none."""
    if isinstance(output, str) or not hasattr(output, attr):
        raise UsageError(
            f"check {check!r} needs an llmassert.Response (it reads .{attr}), got "
            f"{describe_type(output)}: pass the Response returned by complete(), not its .text"
        )
    return getattr(output, attr)
