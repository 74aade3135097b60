"""Render (input, output[, vars]) examples into fine-tuning files: OpenAI chat JSONL,
prompt / completion JSONL, Alpaca and ShareGPT."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from llmassert._errors import UsageError
from llmassert._files import atomic_writer
from llmassert._templates._template import PromptTemplate

__all__ = ["LAYOUTS", "export_dataset", "to_record"]

#: The file layouts llmassert writes and checks.
LAYOUTS = ("chat", "completion", "alpaca", "sharegpt")
_SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt"}


def to_record(template: PromptTemplate, example: Mapping[str, Any], layout: str) -> dict[str, Any]:
    """One example (keys ``input``, ``output``, any other template variables) as a record of
    ``layout``."""
    if "input" not in example or "output" not in example:
        raise UsageError(f"an example needs 'input' and 'output', got keys {sorted(example)}")
    variables = {k: v for k, v in example.items() if k not in {"input", "output"}}
    if isinstance(variables.get("vars"), Mapping):
        variables.update(variables.pop("vars"))
    input, output = str(example["input"]), str(example["output"])
    if layout == "completion":
        if template.form != "completion":
            raise UsageError("layout 'completion' needs a completion-form template")
        prompt, completion = template.pair(input, output, **variables)
        return {"prompt": prompt, "completion": completion}
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if template.form != "chat":
        raise UsageError(f"layout {layout!r} needs a chat-form template")
    messages = template.messages(input, output, **variables)
    if layout == "chat":
        return {"messages": messages}
    if layout == "sharegpt":
        return {
            "conversations": [
                {"from": _SHAREGPT_ROLES[m["role"]], "value": m["content"]} for m in messages
            ]
        }
    record: dict[str, Any] = {}
    by_role = {m["role"]: m["content"] for m in messages}
    if "system" in by_role:
        record["system"] = by_role["system"]
    record.update(instruction=by_role["user"], input="", output=by_role["assistant"])
    return record


def export_dataset(
    examples: Iterable[Mapping[str, Any]],
    template: PromptTemplate,
    path: str | Path,
    layout: str = "chat",
) -> int:
    """Write ``examples`` rendered with ``template`` to ``path`` as JSONL in ``layout``
    (``chat``, ``completion``, ``alpaca``, ``sharegpt``). Streams to a temporary file and
    replaces ``path`` at the end, so a failure leaves the old file. Returns the record count."""
    count = 0
    with atomic_writer(Path(path)) as handle:
        for example in examples:
            record = to_record(template, example, layout)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
