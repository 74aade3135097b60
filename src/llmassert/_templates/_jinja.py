"""The one Jinja2 environment of llmassert: sandboxed, strict about undefined variables, and
faithful to whitespace (a prompt's whitespace is exactly what the file says).

Imported only where a template is rendered (case files, prompt templates): jinja2 is not loaded
at plugin start-up.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from llmassert._errors import UsageError

__all__ = ["TemplateError", "environment", "is_template", "render", "template"]

_UNDEFINED = re.compile(r"'([^']+)' is undefined")
_MARKERS = ("{{", "{%", "{#")


class TemplateError(UsageError):
    """A template cannot be compiled or rendered: a syntax error, an undefined variable, or an
    operation the sandbox refuses. ``variable`` names the undefined variable, if that is why."""

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


@functools.lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The shared environment: ``SandboxedEnvironment`` with ``StrictUndefined``,
    ``keep_trailing_newline=True`` and no block trimming; autoescape off (prompts are not HTML)."""
    return SandboxedEnvironment(
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
        autoescape=False,
    )


def is_template(text: str) -> bool:
    """Whether ``text`` has any Jinja2 syntax (plain strings are used as they are)."""
    return any(marker in text for marker in _MARKERS)


@functools.lru_cache(maxsize=4096)
def template(source: str) -> Template:
    """``source`` compiled in the shared environment (cached); raises :class:`TemplateError`."""
    try:
        return environment().from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error on its line {exc.lineno}: {exc.message}"
        ) from None


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Render ``source`` with ``variables``. An undefined variable, a syntax error or an
    operation the sandbox refuses raises :class:`TemplateError` naming it."""
    if not is_template(source):
        return source
    compiled = template(source)
    try:
        return compiled.render(variables)
    except UndefinedError as exc:
        found = _UNDEFINED.search(str(exc))
        name = found.group(1) if found else None
        known = ", ".join(sorted(variables)) or "none"
        what = f"undefined variable {name!r}" if name else str(exc)
        raise TemplateError(f"{what} (defined: {known})", variable=name) from None
    except SecurityError as exc:
        raise TemplateError(f"refused by the template sandbox: {exc}") from None
