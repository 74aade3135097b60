"""Render a Hugging Face ``chat_template`` (from ``tokenizer_config.json``) the way transformers'
``apply_chat_template`` does, without installing transformers: an immutable Jinja2 sandbox with
``trim_blocks`` and ``lstrip_blocks``, the ``loopcontrols`` extension, the ``raise_exception`` and
``strftime_now`` globals, a ``tojson`` filter that keeps non-ASCII text, and the special tokens
(``bos_token``, ``eos_token``, ...) as variables.

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

_TOKENS = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token")


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
    from jinja2 import TemplateSyntaxError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        raise UsageError(
            f"chat_template syntax error on its line {exc.lineno}: {exc.message}"
        ) from None


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
    **variables: Any,
) -> str:
    """``messages`` rendered with the chat template ``source`` as transformers renders it
    (``tokenize=False``); ``variables`` are the special tokens and any template kwargs."""
    compiled = _compiled(source)
    from jinja2 import TemplateError

    try:
        text: str = compiled.render(
            messages=list(messages), add_generation_prompt=add_generation_prompt, **variables
        )
    except ChatTemplateRaised:
        raise
    except TemplateError as exc:
        raise UsageError(f"chat_template could not render the messages: {exc}") from None
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
