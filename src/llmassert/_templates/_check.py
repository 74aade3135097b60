"""Check an existing fine-tuning file against a prompt template, record by record, streaming.

Records carry no variables: they are recovered by matching the template's literal text around
its ``{{ name }}`` variables. Every finding is named ``FILE:LINE`` with a whitespace-visible diff.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmassert._errors import LLMAssertionError, UsageError
from llmassert._templates._export import LAYOUTS
from llmassert._templates._hf import HFChatTemplate
from llmassert._templates._template import PromptTemplate, Segment, segments

__all__ = [
    "DatasetCheckError",
    "DatasetReport",
    "Finding",
    "assert_dataset_matches",
    "check_dataset",
    "check_prompt",
    "detect_layout",
    "visible",
]

_WINDOW = 32
_NAME = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")
_ROLE_FROM = {"system": "system", "human": "user", "user": "user", "gpt": "assistant"}
_ROLE_FROM["assistant"] = "assistant"


class DatasetCheckError(LLMAssertionError):
    """Raised by :func:`assert_dataset_matches`: some records do not match the template."""


@dataclass(frozen=True)
class Finding:
    """One problem in a dataset file: ``kind`` is ``mismatch``, ``malformed``, ``empty``,
    ``duplicate``, ``tokens``, ``overlap`` or ``pii``."""

    line: int
    kind: str
    message: str

    def format(self, path: str) -> str:
        return f"{path}:{self.line}: {self.message}"


@dataclass
class DatasetReport:
    """The outcome of :func:`check_dataset`."""

    path: str
    layout: str | None = None
    records: int = 0
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.counts

    def summary(self) -> str:
        layout = f", layout {self.layout}" if self.layout else ""
        noun = "record" if self.records == 1 else "records"
        if self.ok:
            return f"{self.path}: {self.records} {noun} checked{layout}: all match"
        total = sum(self.counts.values())
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        word = "finding" if total == 1 else "findings"
        return f"{self.path}: {self.records} {noun} checked{layout}: {total} {word} ({parts})"


def visible(text: str) -> str:
    """``text`` quoted with every newline, tab and quote escaped (JSON string syntax), so a
    trailing space or a missing newline is visible."""
    return json.dumps(text, ensure_ascii=False)


def _diff(expected: str, found: str) -> tuple[int, str]:
    i = 0
    for a, b in zip(expected, found, strict=False):
        if a != b:
            break
        i += 1
    start = max(0, i - _WINDOW)
    head = "…" if start else ""

    def cut(s: str) -> str:
        tail = "…" if len(s) > i + _WINDOW else ""
        return head + visible(s[start : i + _WINDOW]) + tail

    column = len(head) + len(visible(found[start:i])) - 1
    lines = (
        f"    expected: {cut(expected)}\n    found:    {cut(found)}\n              {' ' * column}^"
    )
    return i, lines


@functools.lru_cache(maxsize=64)
def _compiled(source: str, where: str) -> tuple[list[Segment], re.Pattern[str], re.Pattern[str]]:
    segs = segments(source, where)
    strict: list[str] = []
    loose: list[str] = []
    seen: set[str] = set()
    for n, seg in enumerate(segs):
        if seg.name is None:
            strict.append(re.escape(seg.text))
            loose.append(r"\s*".join(re.escape(w) for w in re.split(r"\s+", seg.text)))
        else:
            strict.append(f"(?P={seg.name})" if seg.name in seen else f"(?P<{seg.name}>.*?)")
            seen.add(seg.name)
            loose.append(f"(?P<v{n}>.*?)")
    return segs, re.compile("".join(strict), re.S), re.compile("".join(loose), re.S)


def _match(source: str, text: str, where: str) -> tuple[str | None, dict[str, str]]:
    """``(None, variables)`` when ``text`` renders from ``source`` for some variables (those
    recovered), else ``(the diff message, {})``."""
    segs, strict, loose = _compiled(source, where)
    found = strict.fullmatch(text)
    if found is not None:
        return None, found.groupdict()
    m = loose.fullmatch(text)
    if m is not None:
        values: dict[str, str] = {}
        for n, seg in enumerate(segs):
            if seg.name is not None:
                values.setdefault(seg.name, m.group(f"v{n}"))
        expected = "".join(s.text if s.name is None else values[s.name] for s in segs)
        if expected == text:  # a repeated variable with different values
            return f"{where}: a variable that appears twice in the template has two values", {}
    else:
        expected = _expected(segs, text)
    at, lines = _diff(expected, text)
    note = " (whitespace only)" if expected.split() == text.split() else ""
    return f"{where} differs from the template at character {at}{note}\n{lines}", {}


def _expected(segs: list[Segment], text: str) -> str:
    """What the template would render for ``text`` when it does not match even up to
    whitespace: its literal text up to the first difference, each variable taking the text up
    to the next literal (or the longest start of it found, or the end), and the template's
    source after the difference. So a
    missing separator shows as the separator missing, not as the template's raw source."""
    out: list[str] = []
    values: dict[str, str] = {}
    pos: int | None = 0
    for n, seg in enumerate(segs):
        if seg.name is None:
            out.append(seg.text)
            if pos is not None:
                pos = pos + len(seg.text) if text.startswith(seg.text, pos) else None
            continue
        if pos is None:
            out.append(values.get(seg.name, seg.text))
            continue
        value = values.get(seg.name)
        if value is None:
            after = next((s.text for s in segs[n + 1 :] if s.name is None), "")
            end = -1
            for k in range(len(after), min(2, len(after)) - 1, -1):  # the longest prefix
                end = text.find(after[:k], pos) if k else -1
                if end >= 0:
                    break
            value = text[pos : end if end >= 0 else len(text)]
            values[seg.name] = value
        out.append(value)
        pos += len(value)
    return "".join(out)


#: Variables that take a new value in every turn of a multi-turn record.
_PER_TURN = frozenset({"input", "output"})


class _Values:
    """The variables recovered from one record, cross-checked: a variable used in several
    places (the system prompt and the user message, every turn) must have one value there
    (``input`` / ``output`` once per turn, any other variable once per record)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, str], tuple[str, str]] = {}

    def add(self, values: dict[str, str], where: str, turn: int) -> str | None:
        for name, value in values.items():
            key = (turn if name in _PER_TURN else 0, name)
            first = self._seen.setdefault(key, (value, where))
            if first[0] != value:
                return (
                    f"variable {{{{ {name} }}}} is {visible(first[0][:60])} in the {first[1]} "
                    f"but {visible(value[:60])} in the {where}"
                )
        return None


def detect_layout(record: dict[str, Any]) -> str | None:
    """The layout of one record, or None when it has none of the known shapes."""
    if "messages" in record:
        return "chat"
    if "conversations" in record:
        return "sharegpt"
    if "instruction" in record and "output" in record:
        return "alpaca"
    if "prompt" in record and "completion" in record:
        return "completion"
    return None


_SHAPES = {
    "chat": '{"messages": [{"role", "content"}, ...]}',
    "sharegpt": '{"conversations": [{"from", "value"}, ...]}',
    "alpaca": '{"instruction", "input", "output"}',
    "completion": '{"prompt", "completion"}',
}


def _messages(record: dict[str, Any], layout: str) -> list[tuple[str, str]] | str:
    """``[(role, content)]`` of a chat-like record, or a message saying why it has none."""
    if layout == "alpaca":
        out: list[tuple[str, str]] = []
        if isinstance(record.get("system"), str):
            out.append(("system", record["system"]))
        instruction, extra = record.get("instruction"), record.get("input") or ""
        if not isinstance(instruction, str) or not isinstance(extra, str):
            return "'instruction' and 'input' must be strings"
        out.append(("user", f"{instruction}\n{extra}" if extra else instruction))
        if not isinstance(record.get("output"), str):
            return "'output' must be a string"
        out.append(("assistant", record["output"]))
        return out
    key, role_key, text_key = (
        ("messages", "role", "content") if layout == "chat" else ("conversations", "from", "value")
    )
    items = record.get(key)
    if not isinstance(items, list) or not items:
        return f"{key!r} must be a non-empty list"
    out = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            return f"{key}[{n - 1}] is not an object"
        role, content = item.get(role_key), item.get(text_key)
        if not isinstance(role, str) or not isinstance(content, str):
            return f"{key}[{n - 1}] needs string {role_key!r} and {text_key!r}"
        out.append((_ROLE_FROM.get(role, role), content))
    return out


@functools.lru_cache(maxsize=64)
def _cross_checked(*sources: str | None) -> bool:
    """Whether some variable can take two values in one record: it appears in more than one
    part of the template, or it is not ``input`` / ``output`` (the same in every turn)."""
    seen: set[str] = set()
    for source in sources:
        names = {m.group(1) for m in _NAME.finditer(source or "")}
        if names & seen or names - _PER_TURN:
            return True
        seen |= names
    return False


def _check_chat(
    template: PromptTemplate, msgs: list[tuple[str, str]], answered: bool = True
) -> list[str]:
    """Mismatches of chat messages against ``template``: a training record (``answered``: it
    ends with the assistant's answer) or a prompt sent for inference (it ends with a user
    message)."""
    problems: list[str] = []
    values = (
        _Values() if _cross_checked(template.system, template.user, template.assistant) else None
    )

    def check(source: str, content: str, label: str, turn: int) -> None:
        problem, found = _match(source, content, label)
        if problem is None and values is not None:
            problem = values.add(found, label, turn)
        if problem is not None:
            problems.append(problem)

    rest = msgs
    if template.system is not None:
        if not msgs or msgs[0][0] != "system":
            first = msgs[0][0] if msgs else "none"
            return [f"expected a system message first (the template has one), found {first!r}"]
        check(template.system, msgs[0][1], "system prompt", 1)
        rest = msgs[1:]
    elif msgs and msgs[0][0] == "system":
        return [f"unexpected system message {visible(msgs[0][1][:60])}: the template has none"]
    turn = 0
    for n, (role, content) in enumerate(rest):
        want = "user" if n % 2 == 0 else "assistant"
        if role != want:
            order = " / ".join(r for r, _ in msgs)
            return [
                f"message {n + 1 + (len(msgs) - len(rest))}: expected role {want!r}, "
                f"found {role!r} (roles: {order})"
            ]
        if want == "user":
            turn += 1
        many = len(rest) > (2 if answered else 1)
        label = f"{want} message" + (f" (turn {turn})" if many else "")
        check(template.user if want == "user" else template.assistant, content, label, turn)
    last = "assistant" if answered else "user"
    if not rest or rest[-1][0] != last:
        problems.append(
            "the record does not end with an assistant message (the trained answer)"
            if answered
            else "the prompt does not end with a user message (the model answers it)"
        )
    return problems


def _check_completion(template: PromptTemplate, record: dict[str, Any]) -> list[str]:
    prompt, completion = record.get("prompt"), record.get("completion")
    if not isinstance(prompt, str) or not isinstance(completion, str):
        return ["'prompt' and 'completion' must be strings"]
    problems = []
    values = _Values()
    problem, found = _match(template.prompt, prompt, "prompt")
    if problem is None:
        problem = values.add(found, "prompt", 1)
    if problem:
        problems.append(problem)
    if template.stop is not None and not completion.endswith(template.stop):
        problems.append(
            f"completion does not end with the stop sequence {visible(template.stop)}: "
            f"ends with {visible(completion[-12:])}"
        )
    else:
        problem, found = _match(template.completion, completion, "completion")
        if problem is None:
            problem = values.add(found, "completion", 1)
        if problem:
            problems.append(problem)
    return problems


def check_prompt(
    template: PromptTemplate,
    prompt: str | None,
    messages: list[tuple[str, Any]],
    stop: tuple[str, ...] | None = None,
) -> list[str]:
    """Mismatches of a prompt about to be sent against ``template`` (the template the endpoint
    was trained with): ``prompt`` is the raw prompt string (or None when messages were given),
    ``messages`` the ``(role, content)`` pairs sent, the system prompt first if any. A chat-form
    template checks the system prompt, the roles and every user (and earlier assistant)
    message; a completion-form template checks the prompt text and that the request stops at
    the template's stop sequence. Empty when the prompt is exactly what training used."""
    for n, (_, content) in enumerate(messages):
        if not isinstance(content, str):
            return [f"message {n + 1} has non-text content; the template renders text"]
    if template.form == "chat":
        return _check_chat(template, messages, answered=False)
    text = prompt
    if text is None and len(messages) == 1 and messages[0][0] == "user":
        text = messages[0][1]
    if text is None:
        roles = " / ".join(r for r, _ in messages)
        return [
            f"the completion-form template {template.source} renders one prompt string, but "
            f"messages were sent (roles: {roles}); send the string template.render_prompt() "
            "returns"
        ]
    problems = []
    problem, _ = _match(template.prompt, text, "prompt")
    if problem is not None:
        problems.append(problem)
    if template.stop is not None and template.stop not in (stop or ()):
        problems.append(
            f"the request does not stop at the template's stop sequence "
            f"{visible(template.stop)}: pass stop={template.stop!r} (the trained completions "
            "end with it)"
        )
    return problems


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    with handle:
        yield from enumerate(handle, 1)


def _prompt_key(record: dict[str, Any], layout: str) -> bytes | None:
    if layout == "completion":
        parts = [str(record.get("prompt"))]
    else:
        msgs = _messages(record, layout)
        if isinstance(msgs, str):
            return None
        parts = [c for r, c in msgs if r != "assistant"]
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).digest()


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for n, line in _lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield n, f"not valid JSON ({exc})"
            continue
        if not isinstance(record, dict):
            yield n, f"not a JSON object (a {type(record).__name__})"
            continue
        yield n, record


def check_dataset(
    path: str | Path,
    template: PromptTemplate | HFChatTemplate,
    *,
    layout: str | None = None,
    empty: bool = True,
    duplicates: bool = True,
    pii: bool = True,
    max_tokens: int | None = None,
    tokenizer: str = "approx",
    overlap: str | Path | None = None,
    on_finding: Callable[[Finding], None] | None = None,
    keep_findings: bool = True,
) -> DatasetReport:
    """Check every record of the JSONL file ``path`` against ``template``.

    The layout (``chat``, ``completion``, ``alpaca``, ``sharegpt``) is detected from the first
    record unless given. Hygiene checks: ``empty`` outputs, ``duplicates``, ``pii`` (the
    ``pii`` check's detectors), ``max_tokens`` per record (``tokenizer`` as in the ``length``
    check) and prompts that also occur in the file ``overlap`` (train/test overlap). Malformed
    lines are findings too; checking continues after them. Memory stays flat: records are read
    one at a time (duplicate and overlap detection keep a 16-byte digest per record)."""
    if layout is not None and layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if max_tokens is not None and max_tokens < 1:
        raise UsageError(f"max_tokens must be a positive integer, got {max_tokens}")
    file = Path(path)
    report = DatasetReport(path=str(path), layout=layout)
    if layout is not None and isinstance(template, PromptTemplate):
        _require_form(template, layout, str(path), None)

    def found(line: int, kind: str, message: str) -> None:
        finding = Finding(line, kind, message)
        report.counts[kind] = report.counts.get(kind, 0) + 1
        if keep_findings:
            report.findings.append(finding)
        if on_finding is not None:
            on_finding(finding)

    held_out: dict[bytes, int] = {}
    if overlap is not None:
        for n, rec in _records(Path(overlap)):
            if isinstance(rec, dict) and (other := detect_layout(rec)) is not None:
                key = _prompt_key(rec, other)
                if key is not None:
                    held_out.setdefault(key, n)
    seen: dict[bytes, int] = {}
    detected_at = 0
    if pii:
        from llmassert._checks._pii import find_pii
    if max_tokens is not None:
        from llmassert._checks._length import count_tokens

    for n, rec in _records(file):
        if isinstance(rec, str):
            found(n, "malformed", rec)
            continue
        report.records += 1
        if isinstance(template, HFChatTemplate):
            report.layout = where = "text"
            outcome = _check_text(template, rec)
            if outcome is not None and outcome[0] == "malformed":
                found(n, *outcome)
                continue
            problems = [] if outcome is None else [outcome[1]]
            texts = [("text", rec["text"])]
            output = _last_answer(rec["messages"])
        else:
            shape = detect_layout(rec)
            if report.layout is None:
                if shape is None:
                    found(n, "malformed", f"no known layout: keys {sorted(rec)}")
                    continue
                report.layout, detected_at = shape, n
                _require_form(template, shape, str(path), n)
            if layout is None and shape != report.layout:
                found(
                    n,
                    "malformed",
                    f"not a {report.layout} record like line {detected_at} "
                    f"(expected {_SHAPES[report.layout]}, found keys {sorted(rec)})",
                )
                continue
            where = report.layout
            if where == "completion":
                problems = _check_completion(template, rec)
                texts = [
                    ("prompt", str(rec.get("prompt"))),
                    ("completion", str(rec.get("completion"))),
                ]
                output = rec.get("completion")
            else:
                msgs = _messages(rec, where)
                if isinstance(msgs, str):
                    found(n, "malformed", msgs)
                    continue
                problems = _check_chat(template, msgs)
                texts = [(f"{r} message", c) for r, c in msgs]
                answers = [c for r, c in msgs if r == "assistant"]
                output = answers[-1] if answers else None
        for problem in problems:
            found(n, "mismatch", problem)
        if empty and isinstance(output, str) and not output.strip():
            found(n, "empty", f"the output is empty or whitespace-only: {visible(output)}")
        if duplicates:
            digest = hashlib.blake2b(
                json.dumps(rec, sort_keys=True, ensure_ascii=False).encode(), digest_size=16
            ).digest()
            first = seen.setdefault(digest, n)
            if first != n:
                found(n, "duplicate", f"duplicate of line {first}")
        if held_out:
            key = _prompt_key(rec, "chat" if where == "text" else where)
            if key is not None and key in held_out:
                found(n, "overlap", f"the prompt also occurs in {overlap}:{held_out[key]}")
        if max_tokens is not None:
            total = 0
            how = ""
            for _, text in texts:
                count, how = count_tokens(text, tokenizer)
                total += count
            if total > max_tokens:
                found(n, "tokens", f"{total} tokens ({how}), over the budget of {max_tokens}")
        if pii:
            for label, text in texts:
                for kind, _, _, masked in find_pii(text):
                    found(n, "pii", f"{label} contains {kind.replace('_', ' ')} {masked}")
    return report


def _last_answer(messages: list[Any]) -> str | None:
    """The content of the last assistant message of a ``text`` record's messages."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") in ("assistant", "gpt"):
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


def _check_text(template: HFChatTemplate, record: dict[str, Any]) -> tuple[str, str] | None:
    """``(kind, message)`` when a ``text`` record does not match the chat template's rendering
    of its messages (``mismatch``) or lacks the fields (``malformed``); None when it matches."""
    text, msgs = record.get("text"), record.get("messages")
    if not isinstance(text, str) or not isinstance(msgs, list):
        return "malformed", (
            "a record checked against a chat template needs 'text' (a string) and 'messages' "
            f"(a list), found keys {sorted(record)}"
        )
    try:
        expected = template.render(msgs)
    except UsageError as exc:
        return "mismatch", f"the chat template cannot render the record's messages: {exc}"
    if expected == text:
        return None
    at, lines = _diff(expected, text)
    note = " (whitespace only)" if expected.split() == text.split() else ""
    return "mismatch", (
        f"text differs from the chat template's rendering at character {at}{note}\n{lines}"
    )


def _require_form(template: PromptTemplate, layout: str, path: str, line: int | None) -> None:
    want = "completion" if layout == "completion" else "chat"
    if template.form != want:
        where = f"{path}:{line}" if line is not None else path
        raise UsageError(
            f"{where}: the file's layout is {layout} but {template.source} is a "
            f"{template.form}-form template; a {layout} file needs a {want}-form template "
            "(or force the layout with --layout)"
        )


def assert_dataset_matches(path: str | Path, template: PromptTemplate, **options: Any) -> None:
    """Raise :class:`DatasetCheckError` listing the findings (``FILE:LINE: ...``) unless every
    record of ``path`` matches ``template``; options as in :func:`check_dataset`."""
    report = check_dataset(path, template, **options)
    if report.ok:
        return
    shown = [f.format(report.path) for f in report.findings[:20]]
    more = len(report.findings) - len(shown)
    tail = f"\n... and {more} more" if more > 0 else ""
    raise DatasetCheckError(report.summary() + "\n" + "\n".join(shown) + tail)
