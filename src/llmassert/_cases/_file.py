"""Reading a case file: safe YAML, schema validation, templates rendered per case, checks built.

Every problem is a :class:`~llmassert.ConfigError` whose message starts with ``FILE:LINE:`` and
names the field (and the case), e.g.::

    llm_capitals.yaml:12: cases[1].checks[0]: unknown check 'contians': did you mean 'contains'? ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmassert._cases._rows import iter_rows
from llmassert._cases._schema import case_errors, file_errors
from llmassert._cases._yaml import LineDict, LineList, line_of, load_yaml
from llmassert._checks._base import Check, build_check
from llmassert._checks._sampler import RepeatPlan, parse_plan
from llmassert._errors import ConfigError, UsageError

__all__ = ["Case", "CaseFile", "CheckSpec", "case_data", "load_case_file"]

_BAD_ID = ("::", "[", "]", "\n", "\r")
#: The sampling keys besides repeat and pass_rate (as @pytest.mark.llm's arguments).
_SAMPLING_KEYS = ("confidence", "verdict", "early_stop", "concurrency")


@dataclass(frozen=True)
class CheckSpec:
    """One entry of a ``checks:`` list, as written (built per case: arguments may be
    templates)."""

    name: str
    args: Any
    #: ``FILE`` and line where it is written, and its field (``checks[0]``).
    file: str
    line: int
    field: str


@dataclass(frozen=True)
class Case:
    """One case, ready to run: rendered prompt, built checks, sampling plan."""

    id: str
    #: ``FILE:LINE`` of the case (its list item or table row).
    where: str
    vars: Mapping[str, Any]
    #: The prompt given to ``Model.complete``: a string or chat messages.
    prompt: str | list[dict[str, str]]
    system: str | None
    checks: tuple[Check, ...]
    params: Mapping[str, Any]
    marks: tuple[str, ...] = ()
    repeat: int | None = None
    pass_rate: float | None = None
    description: str | None = None
    #: The other sampling keys (``confidence``, ``verdict``, ``early_stop``, ``concurrency``)
    #: given by the case or its file.
    sampling: Mapping[str, Any] = field(default_factory=dict)
    #: The model spec a test parametrized by :func:`llmassert.cases` runs this case on.
    model: str | None = None

    def plan(self) -> RepeatPlan:
        """The case's sampling plan, as ``@pytest.mark.llm(...)`` with the same keys (validated
        when the case was read)."""
        kwargs = dict(self.sampling)
        if self.repeat is not None:
            kwargs["repeat"] = self.repeat
        if self.pass_rate is not None:
            kwargs["pass_rate"] = self.pass_rate
        return parse_plan(kwargs)

    def complete_args(self) -> tuple[str | list[dict[str, str]], dict[str, Any]]:
        """``(prompt, params)`` for ``Model.complete`` / ``acomplete``."""
        params = dict(self.params)
        if self.system is not None:
            params["system"] = self.system
        return self.prompt, params


@dataclass
class CaseFile:
    """A validated case file. :meth:`cases` renders and yields its cases one at a time (a
    ``.jsonl`` / ``.csv`` table is streamed)."""

    path: Path
    shown: str
    tree: LineDict
    models: tuple[str, ...]
    marks: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    rows: Path | None = None
    _ids: dict[str, str] = field(default_factory=dict)

    def _err(self, line: int, message: str) -> ConfigError:
        return ConfigError(f"{self.shown}:{line}: {message}")

    def cases(self) -> Iterator[Case]:
        if self.rows is None:
            listed = self.tree["cases"]
            for index, raw in enumerate(listed):
                line = listed.lines[index]
                yield self._case(raw, index + 1, f"cases[{index}]", line, self.shown, self.tree)
            return
        shown = _shown_path(self.rows)
        for number, (line, row) in enumerate(iter_rows(self.rows, shown), 1):
            if "vars" in row:
                problems = case_errors(row)
                if problems:
                    _, message = problems[0]
                    raise ConfigError(f"{shown}:{line}: {message}")
                raw = row
            else:
                raw = {"vars": {k: v for k, v in row.items() if k != "id"}}
                if row.get("id") not in (None, ""):
                    raw["id"] = row["id"]
            yield self._case(raw, number, "", line, shown, None)

    def _case(
        self, raw: Mapping[str, Any], number: int, base: str, line: int, shown: str, root: Any
    ) -> Case:
        top = self.tree
        case_id = str(raw.get("id", number)).strip()
        prefix = f"{base}: " if base else ""

        def fail(at: int, message: str) -> ConfigError:
            return ConfigError(f"{shown}:{at}: {message}")

        if not case_id or any(bad in case_id for bad in _BAD_ID):
            raise fail(
                line,
                f"{prefix}case id {case_id!r} must be non-empty, on one line, without '::', "
                "'[' or ']'",
            )
        if case_id in self._ids:
            raise fail(
                line,
                f"{prefix}duplicate case id {case_id!r} (first at {self._ids[case_id]}); ids "
                "must be unique in a file",
            )
        self._ids[case_id] = f"{shown}:{line}"
        variables = {**(top.get("vars") or {}), **(raw.get("vars") or {})}

        def at(path: list[Any]) -> int:
            return line_of(root, path) if root is not None else line

        def render(text: str, where: list[Any], what: str) -> str:
            from llmassert._templates._jinja import TemplateError
            from llmassert._templates._jinja import render as _render

            try:
                return _render(text, variables)
            except TemplateError as exc:
                raise fail(at(where), f"{what} (case {case_id!r}): {exc}") from None

        def render_at(text: str, spec: CheckSpec) -> str:
            from llmassert._templates._jinja import TemplateError
            from llmassert._templates._jinja import render as _render

            try:
                return _render(text, variables)
            except TemplateError as exc:
                raise ConfigError(
                    f"{spec.file}:{spec.line}: {spec.field} (case {case_id!r}): {exc}"
                ) from None

        system = top.get("system")
        if isinstance(system, str):
            system = render(system, ["system"], "system")
        prompt: str | list[dict[str, str]]
        if "messages" in top:
            prompt = [
                {
                    "role": m["role"],
                    "content": render(m["content"], ["messages", i, "content"], f"messages[{i}]"),
                }
                for i, m in enumerate(top["messages"])
            ]
        else:
            prompt = render(top["prompt"], ["prompt"], "prompt")
        specs = list(self.checks)
        own = raw.get("checks") or []
        own_lines = getattr(own, "lines", None)
        for i, entry in enumerate(own):
            name, args = _split(entry)
            at_line = own_lines[i] if own_lines else line
            field = f"{base}.checks[{i}]" if base else f"checks[{i}]"
            specs.append(CheckSpec(name, args, shown, at_line, field))
        checks = []
        for spec in specs:
            args = _render_args(spec.args, lambda t, s=spec: render_at(t, s))
            try:
                checks.append(
                    build_check(
                        spec.name,
                        args,
                        where=f"{spec.field} (case {case_id!r}): ",
                        base_dir=self.path.parent,
                    )
                )
            except UsageError as exc:
                raise ConfigError(f"{spec.file}:{spec.line}: {exc}") from None
        marks = tuple(dict.fromkeys([*self.marks, *(raw.get("marks") or [])]))
        sampling = {
            key: raw.get(key, top.get(key))
            for key in _SAMPLING_KEYS
            if raw.get(key, top.get(key)) is not None
        }
        case = Case(
            id=case_id,
            where=f"{shown}:{line}",
            vars=variables,
            prompt=prompt,
            system=system,
            checks=tuple(checks),
            params=dict(top.get("params") or {}),
            marks=marks,
            repeat=raw.get("repeat", top.get("repeat")),
            pass_rate=raw.get("pass_rate", top.get("pass_rate")),
            description=raw.get("description"),
            sampling=sampling,
        )
        try:
            case.plan()
        except ConfigError as exc:  # the schema checks each key; this, how they combine
            where = f"{base} (case {case_id!r})" if base else f"case {case_id!r}"
            raise fail(line, f"{where}: {exc}") from None
        return case


def _split(entry: Any) -> tuple[str, Any]:
    """``(name, args)`` of one ``checks:`` entry (validated by the schema: a name or a one-key
    mapping)."""
    if isinstance(entry, str):
        return entry, None
    ((name, args),) = entry.items()
    return str(name), args


def _render_args(args: Any, render: Any) -> Any:
    """Check arguments with every string that is a template rendered with the case's vars."""
    if isinstance(args, str):
        return render(args)
    if isinstance(args, Mapping):
        return {k: _render_args(v, render) for k, v in args.items()}
    if isinstance(args, list):
        return [_render_args(v, render) for v in args]
    return args


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when under it (as pytest shows paths)."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _lined(value: Any) -> Any:
    """Plain Python data as the YAML loader builds it (no line numbers: line 0)."""
    if isinstance(value, Mapping):
        lined = LineDict((k, _lined(v)) for k, v in value.items())
        lined.line, lined.lines = 0, dict.fromkeys(lined, 0)
        return lined
    if isinstance(value, list | tuple):
        items = LineList(_lined(v) for v in value)
        items.line, items.lines = 0, [0] * len(items)
        return items
    return value


def case_data(data: Mapping[str, Any], base_dir: Path, shown: str) -> CaseFile:
    """A case file given as Python data (the same keys); messages name ``shown``."""
    try:
        return _parse(_lined(data), base_dir / "<data>", shown)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(f"{shown}:0: ", f"{shown}: ")) from None


def load_case_file(path: str | os.PathLike[str], shown: str | None = None) -> CaseFile:
    """Read and validate ``path``; raises :class:`ConfigError` (``FILE:LINE: field: ...``).
    Cases are rendered when :meth:`CaseFile.cases` is iterated."""
    path = Path(path)
    shown = shown or _shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the case file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not UTF-8 text ({exc.reason})") from None
    try:
        tree = load_yaml(text)
    except ConfigError as exc:
        raise ConfigError(f"{shown}:{str(exc).removeprefix('line ')}") from None
    return _parse(tree, path, shown)


def _parse(tree: Any, path: Path, shown: str) -> CaseFile:
    if not isinstance(tree, LineDict):
        raise ConfigError(
            f"{shown}:1: a case file is a mapping with at least prompt (or messages) and cases"
        )
    problems = file_errors(tree)
    if problems:
        lines = [f"{shown}:{line}: {message}" for line, message in problems]
        raise ConfigError("\n".join(lines))
    has_prompt, has_messages = "prompt" in tree, "messages" in tree
    if has_prompt == has_messages:
        line = tree.lines.get("messages", tree.lines.get("prompt", 1))
        what = (
            "both prompt and messages: keep one"
            if has_prompt
            else ('missing the prompt: give prompt: "..." or messages: [{role, content}, ...]')
        )
        raise ConfigError(f"{shown}:{line}: {what}")
    if has_messages and "system" in tree and any(m["role"] == "system" for m in tree["messages"]):
        raise ConfigError(
            f"{shown}:{tree.lines['system']}: system is given twice (the system key and a "
            "system message): keep one"
        )
    checks = tuple(
        CheckSpec(*_split(entry), shown, tree["checks"].lines[i], f"checks[{i}]")
        for i, entry in enumerate(tree.get("checks") or [])
    )
    rows = None
    if isinstance(tree["cases"], str):
        rows = (path.parent / tree["cases"]).resolve()
        if not rows.is_file():
            raise ConfigError(
                f"{shown}:{tree.lines['cases']}: cases: no such file {tree['cases']!r} "
                f"(looked for {_shown_path(rows)}; paths are relative to the case file)"
            )
    return CaseFile(
        path=path,
        shown=shown,
        tree=tree,
        models=tuple(tree.get("models") or ()),
        marks=tuple(tree.get("marks") or ()),
        checks=checks,
        rows=rows,
    )
