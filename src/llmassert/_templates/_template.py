"""The prompt template: one source of truth for fine-tuning data and the prompts tests send.

Chat form (keys ``system`` optional, ``user``, ``assistant`` default ``"{{ output }}"``) renders
to chat messages; completion form (``prompt``, ``completion``, optional ``stop``) renders to a
raw prompt / completion pair. Rendering goes through the one Jinja2 environment of llmassert
(sandboxed, ``StrictUndefined``, trailing newlines kept, no trimming).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from llmassert._errors import UsageError
from llmassert._templates._jinja import render, template

__all__ = ["PromptTemplate", "Segment", "load_template", "segments"]

_CHAT_KEYS = {"system", "user", "assistant"}
_COMPLETION_KEYS = {"prompt", "completion", "stop"}
_VARIABLE = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")
_MARKER = re.compile(r"\{\{|\{%|\{#")


@dataclass(frozen=True)
class Segment:
    """A piece of a template: literal text (``name`` None) or one ``{{ name }}`` variable."""

    text: str
    name: str | None = None


def segments(source: str, where: str) -> list[Segment]:
    """``source`` as literal text and ``{{ name }}`` variables, for recovering variables from a
    record. Control flow, filters or comments make recovery ambiguous: a usage error."""
    out: list[Segment] = []
    pos = 0
    for m in _VARIABLE.finditer(source):
        literal = source[pos : m.start()]
        if _MARKER.search(literal):
            break
        if literal:
            out.append(Segment(literal))
        elif out and out[-1].name is not None:
            raise UsageError(
                f"template {where}: variables {{{{ {out[-1].name} }}}} and "
                f"{{{{ {m.group(1)} }}}} are adjacent, so a record cannot say where one ends; "
                "put literal text between them to check data against this template"
            )
        out.append(Segment(m.group(0), m.group(1)))
        pos = m.end()
    else:
        rest = source[pos:]
        if not _MARKER.search(rest):
            if rest:
                out.append(Segment(rest))
            return out
    raise UsageError(
        f"template {where}: uses control flow, filters or comments ({{% ... %}}, "
        "{{ x | f }}, {# #}), so the variables of a record cannot be recovered from its text; "
        "checking data needs a template of literal text and {{ name }} variables"
    )


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt template in chat form (``system``, ``user``, ``assistant``) or completion form
    (``prompt``, ``completion``, ``stop``). Build it with :meth:`chat`, :meth:`completion`,
    :meth:`from_dict` or :func:`load_template` (YAML)."""

    form: Literal["chat", "completion"]
    user: str = ""
    assistant: str = "{{ output }}"
    system: str | None = None
    prompt: str = ""
    completion: str = ""
    stop: str | None = None
    source: str = "<template>"

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def chat(
        cls, user: str, assistant: str = "{{ output }}", system: str | None = None
    ) -> PromptTemplate:
        """A chat-form template."""
        return cls.from_dict({"user": user, "assistant": assistant, "system": system})

    @classmethod
    def completion_form(
        cls, prompt: str, completion: str, stop: str | None = None
    ) -> PromptTemplate:
        """A completion-form template: ``prompt`` ends with its separator, ``completion`` with
        its stop sequence (``stop``, if given, must be how ``completion`` ends)."""
        return cls.from_dict({"prompt": prompt, "completion": completion, "stop": stop})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<template>") -> PromptTemplate:
        """A template from a mapping with the YAML keys; bad keys are one usage error."""
        keys = {k for k, v in data.items() if v is not None}
        unknown = sorted(set(data) - _CHAT_KEYS - _COMPLETION_KEYS)
        if unknown:
            raise UsageError(
                f"{source}: unknown template key(s) {', '.join(unknown)}; chat form uses "
                "system, user, assistant; completion form uses prompt, completion, stop"
            )
        for key in keys:
            if not isinstance(data[key], str):
                raise UsageError(
                    f"{source}: template key {key!r} must be a string, "
                    f"got {type(data[key]).__name__}"
                )
        chat = keys & _CHAT_KEYS
        comp = keys & _COMPLETION_KEYS
        if chat and comp:
            raise UsageError(
                f"{source}: mixes chat keys ({', '.join(sorted(chat))}) with completion keys "
                f"({', '.join(sorted(comp))}); use one form"
            )
        for key in keys:
            template(data[key])  # syntax errors now, not at the first record
        if comp:
            if "prompt" not in keys or "completion" not in keys:
                raise UsageError(f"{source}: completion form needs both 'prompt' and 'completion'")
            stop = data.get("stop")
            if stop is not None and (stop == "" or not data["completion"].endswith(stop)):
                raise UsageError(
                    f"{source}: 'completion' must end with its stop sequence 'stop' "
                    f"({stop!r}), so training data and inference agree"
                )
            return cls(
                form="completion",
                prompt=data["prompt"],
                completion=data["completion"],
                stop=stop,
                source=source,
            )
        if "user" not in keys:
            raise UsageError(
                f"{source}: a template needs 'user' (chat form) or 'prompt' and 'completion' "
                "(completion form)"
            )
        return cls(
            form="chat",
            user=data["user"],
            assistant=data.get("assistant") or "{{ output }}",
            system=data.get("system"),
            source=source,
        )

    # -- rendering ------------------------------------------------------------------------

    def _vars(self, input: str, output: str | None, variables: Mapping[str, Any]) -> dict[str, Any]:
        merged = dict(variables)
        merged["input"] = input
        if output is not None:
            merged["output"] = output
        return merged

    def messages(
        self, input: str, output: str | None = None, **variables: Any
    ) -> list[dict[str, str]]:
        """The chat messages for one example; without ``output``, the prompt a test sends
        (system and user only)."""
        if self.form != "chat":
            raise UsageError(f"{self.source}: a completion-form template renders with pair()")
        values = self._vars(input, output, variables)
        out: list[dict[str, str]] = []
        if self.system is not None:
            out.append({"role": "system", "content": render(self.system, values)})
        out.append({"role": "user", "content": render(self.user, values)})
        if output is not None:
            out.append({"role": "assistant", "content": render(self.assistant, values)})
        return out

    def pair(self, input: str, output: str = "", **variables: Any) -> tuple[str, str]:
        """``(prompt, completion)`` for one example (completion form)."""
        if self.form != "completion":
            raise UsageError(f"{self.source}: a chat-form template renders with messages()")
        values = self._vars(input, output, variables)
        return render(self.prompt, values), render(self.completion, values)

    def render_prompt(self, input: str, **variables: Any) -> str | list[dict[str, str]]:
        """What a test sends: the messages without the answer, or the completion prompt."""
        if self.form == "chat":
            return self.messages(input, **variables)
        return self.pair(input, **variables)[0]


def load_template(path: str | Path) -> PromptTemplate:
    """A :class:`PromptTemplate` from a YAML file; a missing file or bad content is one usage
    error naming the file."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"template {p}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"template {p}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"template {p}: must be a mapping of template keys (user, assistant, ...)")
    return PromptTemplate.from_dict(data, source=str(p))
