"""A template bound to an endpoint: the prompt template a fine-tuned model was trained with.

``template = "support_template.yaml"`` under ``[tool.llmassert.endpoints.NAME]`` binds it;
every prompt sent to the endpoint is then checked against it (the dataset checker's matching,
the same whitespace-visible diff) before it is sent: a drifted prompt fails the test with
:class:`TemplateMismatchError`, or warns with :class:`TemplateMismatchWarning` when the endpoint
says ``template_mismatch = "warn"``.

Imported only when an endpoint has a template: jinja2 and PyYAML are not loaded otherwise.
"""

from __future__ import annotations

import contextvars
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from llmassert._errors import ConfigError, LLMAssertionError, UsageError

if TYPE_CHECKING:
    from llmassert._models._params import GenParams
    from llmassert._templates._template import PromptTemplate

__all__ = [
    "MISMATCH_MODES",
    "TemplateMismatchError",
    "TemplateMismatchWarning",
    "deferred_warnings",
    "guard",
    "load_bound",
    "skip_guard",
]

#: What a prompt that does not match the bound template does.
MISMATCH_MODES = ("error", "warn")

_cache: dict[tuple[str, float], PromptTemplate] = {}

#: Set while :meth:`Model.sample` runs its samples: the prompt was checked once already.
skip_guard: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "llmassert_skip_template_guard", default=False
)
#: Set by a call made ahead of the test that needs it (a case file's prefetch, on its own
#: thread): mismatch warnings are kept here, for that test to warn them when it takes the
#: response, instead of landing in whichever test (or none) is running at that moment.
deferred_warnings: contextvars.ContextVar[list[Warning] | None] = contextvars.ContextVar(
    "llmassert_deferred_warnings", default=None
)


class TemplateMismatchError(LLMAssertionError):
    """A prompt sent to an endpoint does not match the template the endpoint was trained with
    (an ``AssertionError``: the test fails, showing the diff)."""


class TemplateMismatchWarning(UserWarning):
    """A prompt sent to an endpoint with ``template_mismatch = "warn"`` does not match the
    template the endpoint was trained with."""


def load_bound(path: str, where: str, api: str = "chat") -> PromptTemplate:
    """The prompt template at ``path`` (cached by path and modification time). A missing file,
    a bad template, a Hugging Face ``tokenizer_config.json`` or a template form that does not
    fit ``api`` is one :class:`ConfigError` naming ``where`` (endpoint and key) and the file."""
    from llmassert._templates._template import load_template

    file = Path(path)
    if file.suffix == ".json":
        raise ConfigError(
            f"{where}: {file} is a JSON file; bind the YAML prompt template the training file "
            "was rendered with. A tokenizer_config.json chat_template is applied by the server "
            "itself to the messages you send (check a text dataset against it with `llmassert "
            "dataset check FILE --template tokenizer_config.json`)"
        )
    try:
        stamp = file.stat().st_mtime
    except OSError as exc:
        raise ConfigError(
            f"{where}: cannot read the template {file} ({exc.strerror or exc}); the path is "
            "relative to the pyproject.toml"
        ) from None
    key = (str(file), stamp)
    cached = _cache.get(key)
    if cached is None:
        try:
            cached = load_template(file)
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        _cache[key] = cached
    if cached.form == "chat" and api == "completions":
        raise ConfigError(
            f"{where}: {file} is a chat-form template but the endpoint uses api = "
            '"completions" (one raw prompt string); bind a completion-form template (prompt, '
            "completion) or use the chat API"
        )
    return cached


def _problems(template: PromptTemplate, gen: GenParams) -> list[str]:
    from llmassert._templates._check import check_prompt

    messages: list[tuple[str, object]] = []
    if gen.system is not None:
        messages.append(("system", gen.system))
    messages.extend((str(m.get("role")), m.get("content")) for m in gen.messages)
    prompt = gen.prompt if gen.system is None else None
    return check_prompt(template, prompt, messages, gen.stop)


def guard(
    spec: str, template: PromptTemplate, mode: str, gen: GenParams
) -> TemplateMismatchError | None:
    """Check the prompt of ``gen`` against ``template``: the error to raise when it does not
    match (mode ``error``), after a warning instead (mode ``warn``), or None."""
    if skip_guard.get():
        return None
    problems = _problems(template, gen)
    if not problems:
        return None
    message = (
        f"{spec}: the prompt does not match the template the endpoint was trained with "
        f"({template.source}):\n"
        + "\n".join(problems)
        + "\nBuild it from the template (model.render_prompt(...)) so tests send exactly what "
        "training used."
    )
    if mode == "warn":
        deferred = deferred_warnings.get()
        if deferred is not None:
            deferred.append(TemplateMismatchWarning(message))
        else:
            warnings.warn(TemplateMismatchWarning(message), stacklevel=4)
        return None
    return TemplateMismatchError(message)
