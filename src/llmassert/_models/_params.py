"""Generation parameters, normalised once and rendered by each provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from llmassert._errors import UnsupportedParameterError, UsageError

__all__ = ["GenParams", "ToolSpec", "make_params"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str | None
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class GenParams:
    #: The prompt exactly as given when it was a plain string (legacy Completions sends it raw).
    prompt: str | None
    #: Chat messages, the system prompt NOT included (see ``system``).
    messages: tuple[Mapping[str, Any], ...]
    system: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    json_mode: bool = False
    #: ``{"name": ..., "schema": {...}, "strict": bool | None}``
    json_schema: Mapping[str, Any] | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None
    reasoning_effort: str | None = None
    #: Anthropic extended thinking: the token budget.
    thinking: int | None = None
    stream: bool = False
    extra_body: Mapping[str, Any] | None = None

    @property
    def structured(self) -> bool:
        return self.json_mode or self.json_schema is not None

    def given(self) -> list[str]:
        """Names of the optional generation parameters that were set."""
        skip = {"prompt", "messages", "stream", "extra_body", "max_tokens"}
        out = []
        for f in fields(self):
            if f.name in skip:
                continue
            value = getattr(self, f.name)
            if value not in (None, False, ()):
                out.append(f.name)
        return out


def reject(label: str, api: str, names: Sequence[str], hint: str = "") -> None:
    """Raise for parameters the provider does not support (never silently drop them)."""
    if names:
        plural = "s" if len(names) > 1 else ""
        raise UnsupportedParameterError(
            f"{label}: the {api} API does not support the parameter{plural} "
            f"{', '.join(repr(n) for n in names)}.{' ' + hint if hint else ''} Remove "
            f"{'them' if plural else 'it'}, or pass provider-specific fields with extra_body=."
        )


def _messages(prompt: Any) -> tuple[str | None, tuple[Mapping[str, Any], ...], str | None]:
    if isinstance(prompt, str):
        return prompt, ({"role": "user", "content": prompt},), None
    if not isinstance(prompt, Sequence) or isinstance(prompt, (bytes, bytearray)):
        raise UsageError(
            "prompt: expected a string or a list of chat messages like "
            f"[{{'role': 'user', 'content': '...'}}], got {type(prompt).__name__}"
        )
    if not prompt:
        raise UsageError("prompt: the list of messages is empty")
    systems: list[str] = []
    out: list[Mapping[str, Any]] = []
    for index, message in enumerate(prompt):
        if not isinstance(message, Mapping) or "role" not in message:
            raise UsageError(
                f"prompt[{index}]: expected a message like {{'role': 'user', 'content': '...'}}, "
                f"got {message!r:.80}"
            )
        if message["role"] in ("system", "developer") and not out:
            content = message.get("content")
            if not isinstance(content, str):
                raise UsageError(f"prompt[{index}]: a system message needs text content")
            systems.append(content)
            continue
        out.append(dict(message))
    if not out:
        raise UsageError("prompt: the messages hold only a system prompt; add a user message")
    return None, tuple(out), "\n\n".join(systems) or None


def _tools(tools: Sequence[Mapping[str, Any]] | None) -> tuple[ToolSpec, ...]:
    specs = []
    for index, tool in enumerate(tools or ()):
        if not isinstance(tool, Mapping):
            raise UsageError(f"tools[{index}]: expected a mapping, got {tool!r:.80}")
        fn = tool.get("function", tool) if tool.get("type", "function") == "function" else None
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            raise UsageError(
                f"tools[{index}]: expected {{'name': ..., 'description': ..., 'parameters': "
                "{JSON schema}} or the OpenAI form {'type': 'function', 'function': {...}}"
            )
        params = fn.get("parameters", fn.get("input_schema", {"type": "object", "properties": {}}))
        specs.append(ToolSpec(fn["name"], fn.get("description"), params))
    return tuple(specs)


def _schema(value: Any) -> Mapping[str, Any]:
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return {"name": value.__name__, "schema": value.model_json_schema(), "strict": None}
    if not isinstance(value, Mapping):
        raise UsageError(
            "json_schema: expected a JSON schema (a dict) or a pydantic model class, "
            f"got {value!r:.80}"
        )
    if "schema" in value and isinstance(value["schema"], Mapping):
        return {
            "name": value.get("name", "response"),
            "schema": value["schema"],
            "strict": value.get("strict"),
        }
    return {"name": "response", "schema": value, "strict": None}


def make_params(prompt: Any, **kwargs: Any) -> GenParams:
    raw_prompt, messages, system_from_messages = _messages(prompt)
    system = kwargs.pop("system", None)
    if system is not None and system_from_messages is not None:
        raise UsageError("system: given twice (as system= and as a system message); keep one")
    stop = kwargs.pop("stop", None)
    if isinstance(stop, str):
        stop = (stop,)
    elif stop is not None:
        stop = tuple(stop)
    response_format = kwargs.pop("response_format", None)
    json_schema = kwargs.pop("json_schema", None)
    json_mode = False
    if response_format is not None:
        if isinstance(response_format, type) or response_format == "json_schema":
            json_schema = json_schema or response_format
        elif response_format in ("json", "json_object") or (
            isinstance(response_format, Mapping) and response_format.get("type") == "json_object"
        ):
            json_mode = True
        elif isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
            json_schema = response_format.get("json_schema", {})
        elif not (isinstance(response_format, Mapping) and response_format.get("type") == "text"):
            raise UsageError(
                f"response_format: expected 'json', {{'type': 'json_object'}}, "
                f"{{'type': 'json_schema', 'json_schema': {{...}}}} or a pydantic model class, "
                f"got {response_format!r:.80}"
            )
    tool_choice = kwargs.pop("tool_choice", None)
    if isinstance(tool_choice, Mapping):
        fn = tool_choice.get("function", tool_choice)
        tool_choice = fn.get("name") if isinstance(fn, Mapping) else None
    thinking = kwargs.pop("thinking", None)
    if isinstance(thinking, Mapping):
        thinking = thinking.get("budget_tokens")
    if thinking is not None and (isinstance(thinking, bool) or not isinstance(thinking, int)):
        raise UsageError("thinking: expected the thinking budget in tokens (an int >= 1024)")
    max_tokens = kwargs.pop("max_tokens", None)
    if max_tokens is not None and (isinstance(max_tokens, bool) or int(max_tokens) < 1):
        raise UsageError(f"max_tokens: expected a whole number >= 1, got {max_tokens!r}")
    return GenParams(
        prompt=raw_prompt,
        messages=messages,
        system=system if system is not None else system_from_messages,
        temperature=kwargs.pop("temperature", None),
        top_p=kwargs.pop("top_p", None),
        max_tokens=max_tokens,
        seed=kwargs.pop("seed", None),
        stop=stop,
        json_mode=json_mode,
        json_schema=_schema(json_schema) if json_schema is not None else None,
        tools=_tools(kwargs.pop("tools", None)),
        tool_choice=tool_choice,
        reasoning_effort=kwargs.pop("reasoning_effort", None),
        thinking=thinking,
        stream=bool(kwargs.pop("stream", False)),
        extra_body=kwargs.pop("extra_body", None),
    )
