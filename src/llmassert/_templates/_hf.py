"""Render a Hugging Face ``chat_template`` (from ``tokenizer_config.json``) the way transformers'
``apply_chat_template(..., tokenize=False)`` does, without installing transformers: an immutable
Jinja2 sandbox with ``trim_blocks`` and ``lstrip_blocks``, the ``loopcontrols`` extension and a
``{% generation %}`` block (rendered as its body), the ``raise_exception`` and ``strftime_now``
globals, ``namespace`` refusing underscore names, a ``tojson`` filter that keeps non-ASCII text,
``tools`` and ``documents`` always defined (``None`` when not given), message keys whose value is
``None`` dropped, a message's reasoning under ``reasoning_content`` / ``thinking`` / ``reasoning``
visible under the first two names, ``continue_final_message``, and the special tokens
(``bos_token``, ``eos_token``, ...) as variables (keyword arguments win over them).

This environment is deliberately not the case-file one: a chat template is written for
transformers' settings, and rendering it any other way would itself create drift.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from llmassert._errors import UsageError

__all__ = ["HFChatTemplate", "load_chat_template", "render_chat_template"]

_TOKENS = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)
_REASONING = ("reasoning_content", "thinking", "reasoning")
_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "


class ChatTemplateRaised(UsageError):
    """The chat template called ``raise_exception`` (e.g. roles in an order it refuses)."""


def _raise_exception(message: str) -> None:
    raise ChatTemplateRaised(f"the chat template refused the messages: {message}")


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


@functools.lru_cache(maxsize=16)
def _compiled(source: str) -> Any:
    from jinja2 import TemplateSyntaxError, nodes
    from jinja2.exceptions import SecurityError
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import Namespace

    class Generation(Extension):
        """``{% generation %}...{% endgeneration %}`` marks the assistant's tokens (for a mask
        transformers computes when tokenizing); as text it is its body."""

        tags = {"generation"}  # noqa: RUF012 (jinja2 Extension API)

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            call = self.call_method("_body")
            return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

        def _body(self, caller: Any) -> str:
            return str(caller())

    class SafeNamespace(Namespace):
        """A ``namespace()`` that stores no underscore-prefixed attribute."""

        def __init__(*args: Any, **kwargs: Any) -> None:
            self, rest = args[0], args[1:]
            attrs = dict(*rest, **kwargs)
            for name in attrs:
                SafeNamespace._check(name)
            Namespace.__init__(self, attrs)

        def __setitem__(self, name: str, value: Any) -> None:
            SafeNamespace._check(name)
            Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name: object) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise SecurityError(f"a chat template cannot set {name!r} on a namespace")

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["namespace"] = SafeNamespace
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        raise UsageError(
            f"chat_template syntax error on its line {exc.lineno}: {exc.message}"
        ) from None


def _normalised(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages as transformers hands them to a template: fresh dicts without the keys whose
    value is None, a message's reasoning visible as ``reasoning_content`` and ``thinking``."""
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise UsageError(f"messages[{index}]: expected a mapping, got {message!r:.60}")
        plain = {k: v for k, v in message.items() if v is not None}
        reasoning = next((plain[k] for k in _REASONING if k in plain), None)
        if reasoning is not None:
            plain = {"thinking": reasoning, **plain, "reasoning_content": reasoning}
        out.append(plain)
    return out


def _token(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return str(value["content"])  # an AddedToken as tokenizer_config.json stores it
    return None


def load_chat_template(path: str | Path, name: str | None = None) -> tuple[str, dict[str, str]]:
    """``(chat_template, special_tokens)`` from a ``tokenizer_config.json``. A list of named
    templates picks ``name`` (default: ``default``)."""
    p = Path(path)
    try:
        config = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise UsageError(f"{p}: not valid JSON ({exc})") from None
    source = config.get("chat_template") if isinstance(config, dict) else None
    if isinstance(source, list):
        named = {t.get("name"): t.get("template") for t in source if isinstance(t, dict)}
        source = named.get(name or "default")
        if source is None:
            known = ", ".join(str(k) for k in named)
            raise UsageError(f"{p}: no chat_template named {name or 'default'!r} (has: {known})")
    if not isinstance(source, str):
        raise UsageError(f"{p}: has no 'chat_template' string")
    tokens = {k: t for k in _TOKENS if (t := _token(config.get(k))) is not None}
    return source, tokens


def render_chat_template(
    source: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    add_generation_prompt: bool = False,
    continue_final_message: bool = False,
    tools: Sequence[Mapping[str, Any]] | None = None,
    documents: Sequence[Mapping[str, Any]] | None = None,
    **variables: Any,
) -> str:
    """``messages`` rendered with the chat template ``source`` as transformers renders it
    (``tokenize=False``); ``tools`` (JSON schemas) and ``documents`` as transformers passes them;
    ``continue_final_message`` leaves the last message open for the model to continue;
    ``variables`` are the special tokens and any template kwargs."""
    if continue_final_message and add_generation_prompt:
        raise UsageError(
            "continue_final_message and add_generation_prompt cannot both be set: one continues "
            "the last message, the other opens a new assistant message"
        )
    compiled = _compiled(source)
    from jinja2 import TemplateError

    chat = _normalised(messages)
    final = ""
    if continue_final_message:
        last = chat[-1].get("content") if chat else None
        if not isinstance(last, str):
            raise UsageError("continue_final_message: the last message needs text content")
        final = last
        chat[-1]["content"] = last + _CONTINUE_TAG
    try:
        text: str = compiled.render(
            messages=chat,
            tools=None if tools is None else [dict(t) for t in tools],
            documents=None if documents is None else [dict(d) for d in documents],
            add_generation_prompt=add_generation_prompt,
            **variables,
        )
    except ChatTemplateRaised:
        raise
    except TemplateError as exc:
        raise UsageError(f"chat_template could not render the messages: {exc}") from None
    if continue_final_message:
        tag = _CONTINUE_TAG.strip()
        if final.strip() not in text or tag not in text:
            raise UsageError(
                "continue_final_message: the chat template dropped part of the last message"
            )
        at = text.rindex(tag)
        text = (
            text[:at] if text[at : at + len(_CONTINUE_TAG)] == _CONTINUE_TAG else text[:at].rstrip()
        )
    return text


@dataclass(frozen=True)
class HFChatTemplate:
    """A Hugging Face chat template with its special tokens, for checking ``text`` datasets."""

    source: str
    tokens: dict[str, str] = field(default_factory=dict)
    path: str = "<chat_template>"

    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> HFChatTemplate:
        source, tokens = load_chat_template(path, name)
        return cls(source, tokens, str(path))

    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        tokens: dict[str, Any] = dict(self.tokens)
        return render_chat_template(self.source, messages, **tokens)
