"""The HTML report: one self-contained, static file that renders a run report.

The page (``html/report.html`` with ``report.css`` and ``report.js`` inlined) loads nothing
from the network and works from ``file://``. The report is embedded once, as two JSON blocks:

- ``llm-meta``: the report without its tests (run, per-model summary, comparisons, judge), as
  is, so the summary renders before the tests are decoded;
- ``llm-tests``: the tests, packed: every object becomes an array of its values in a fixed field
  order (:data:`FIELDS`; keys outside it are kept in a trailing object), and every text value is
  an index into one string table, so a prompt shared by every model or a repeated check reason
  is stored once. ``report.js`` unpacks it (``unpackTests``); :func:`pack_tests` is the only
  writer.

Both blocks are escaped for a ``<script>`` element: ``<``, ``>`` and ``&`` are written as JSON
``\\u`` escapes, so a model output containing ``</script>`` or ``<!--`` stays data.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from llmassert._errors import UsageError
from llmassert._files import atomic_write_text

__all__ = [
    "FIELDS",
    "configure_html_command",
    "pack_tests",
    "render_html",
    "run_html_command",
    "write_html",
]

#: The field order of each packed object. ``report.js`` reads it (and ``_TEXT``) from the page;
#: only the special fields (``nodeid``, ``prompt``, ``samples``, ``calls``, ``checks``) are
#: decoded by name there.
FIELDS: dict[str, tuple[str, ...]] = {
    "test": (
        "nodeid",
        "key",
        "model",
        "outcome",
        "kind",
        "duration_s",
        "message",
        "markers",
        "repeat",
        "verdict",
        "samples",
    ),
    "sample": ("index", "outcome", "duration_s", "calls", "checks"),
    "call": (
        "model",
        "purpose",
        "prompt",
        "output",
        "finish_reason",
        "latency_s",
        "ttft_s",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "replayed",
        "retries",
    ),
    "check": ("name", "negated", "kind", "passed", "score", "reason"),
}
#: Text fields stored as string-table indexes (other fields are stored as they are).
_TEXT = {
    "test": {"key", "model", "outcome", "kind", "message"},
    "sample": {"outcome"},
    "call": {"model", "purpose", "output", "finish_reason"},
    "check": {"name", "kind", "reason"},
}
#: ``nodeid`` stored as ``-1`` when it is ``key[model]``, as ``-2`` when it equals ``key``.
_NODEID_BRACKETED, _NODEID_IS_KEY = -1, -2

_PLACEHOLDER = re.compile(r"@@([A-Z]+)@@")
#: Characters written as JSON escapes inside a ``<script>`` element (str.replace, each in C).
_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


_RAW, _TEXT_FIELD, _NODEID, _PROMPT = "raw", "text", "nodeid", "prompt"
_NESTED = {"samples": "sample", "calls": "call", "checks": "check"}


def _how(kind: str, name: str) -> str:
    if name in _TEXT[kind]:
        return _TEXT_FIELD
    if name in (_NODEID, _PROMPT):
        return name
    return _NESTED.get(name, _RAW)


class _Packer:
    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}
        self._plan = {
            kind: [(name, _how(kind, name)) for name in fields] for kind, fields in FIELDS.items()
        }

    def text(self, value: Any) -> Any:
        """A string as its table index; ``None`` as is; anything else wrapped as ``{"j": v}``."""
        if isinstance(value, str):
            index = self._index.get(value)
            if index is None:
                index = self._index[value] = len(self.strings)
                self.strings.append(value)
            return index
        if value is None:
            return None
        return {"j": value}

    def prompt(self, value: Any) -> Any:
        """A raw prompt as a text; a list of ``{role, content}`` messages as ``[[role,
        content], ...]`` (both texts); any other shape wrapped as ``{"j": value}``."""
        if isinstance(value, list) and all(
            isinstance(m, dict) and set(m) == {"role", "content"} for m in value
        ):
            return [[self.text(m["role"]), self.text(m["content"])] for m in value]
        if isinstance(value, str) or value is None:
            return self.text(value)
        return {"j": value}

    def objects(self, value: Any, kind: str) -> Any:
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return [self.obj(item, kind) for item in value]
        if value is None:
            return None
        return {"j": value}

    def obj(self, value: dict[str, Any], kind: str) -> list[Any]:
        fields = FIELDS[kind]
        out: list[Any] = []
        for name, how in self._plan[kind]:
            item = value.get(name)
            if how == _RAW:
                out.append(item)
            elif how == _TEXT_FIELD:
                out.append(self.text(item))
            elif how == _NODEID:
                key, model = value.get("key"), value.get("model")
                if isinstance(item, str) and item == f"{key}[{model}]":
                    out.append(_NODEID_BRACKETED)
                elif isinstance(item, str) and item == key:
                    out.append(_NODEID_IS_KEY)
                else:
                    out.append(self.text(item))
            elif how == _PROMPT:
                out.append(self.prompt(item))
            else:  # a list of nested objects of the kind named by ``how``
                out.append(self.objects(item, how))
        if len(value) > len(fields) or any(k not in fields for k in value):
            out.append({k: v for k, v in value.items() if k not in fields})
        else:
            while out and out[-1] is None:
                out.pop()
        return out


def pack_tests(tests: list[dict[str, Any]]) -> dict[str, Any]:
    """The tests of a report in the packed form ``report.js`` reads (see the module doc)."""
    packer = _Packer()
    packed = [packer.obj(test, "test") for test in tests]
    text = {kind: sorted(names) for kind, names in _TEXT.items()}
    return {"v": 1, "fields": FIELDS, "text": text, "strings": packer.strings, "tests": packed}


def _script_json(value: Any, what: str) -> str:
    """``value`` as compact JSON that is safe inside a ``<script>`` element."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:  # NaN or infinity: not plain JSON
        raise UsageError(
            f"the report's {what} are not plain JSON ({exc}): write null for unknown numbers"
        ) from None
    except TypeError as exc:
        raise UsageError(f"the report's {what} are not plain JSON ({exc})") from None
    # Lone surrogates cannot be written as UTF-8: keep the page writable.
    text = text.encode("utf-8", "replace").decode("utf-8")
    for char, escape in _SCRIPT_ESCAPES:
        text = text.replace(char, escape)
    return text


def _asset(name: str) -> str:
    return (
        resources.files("llmassert._reports")
        .joinpath("html")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def _title(report: dict[str, Any]) -> str:
    run = report.get("run")
    models = run.get("models") if isinstance(run, dict) else None
    title = "llmassert report"
    if isinstance(models, list) and models:
        title += ": " + " vs ".join(str(m) for m in models[:4])
        if len(models) > 4:
            title += f" (+{len(models) - 4})"
    created = report.get("created_at")
    if isinstance(created, str) and created:
        title += f" ({created})"
    return title


def render_html(report: dict[str, Any]) -> str:
    """The HTML page of ``report`` (a run-report dict, ``schema_version`` 1) as one string."""
    if not isinstance(report, dict):
        raise UsageError(f"a run report is a JSON object, got {type(report).__name__}")
    tests = report.get("tests", [])
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise UsageError('the report\'s "tests" must be a list of objects (one per test)')
    meta = {k: v for k, v in report.items() if k != "tests"}
    parts = {
        "TITLE": html.escape(_title(report)),
        "CSS": _asset("report.css"),
        "JS": _asset("report.js"),
        "META": _script_json(meta, "summary fields"),
        "TESTS": _script_json(pack_tests(tests), "tests"),
    }
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], _asset("report.html"))


def write_html(report: dict[str, Any], path: Path | str) -> Path:
    """Render ``report`` and write it to ``path`` atomically; returns the path."""
    target = Path(path)
    atomic_write_text(target, render_html(report))
    return target


# -- llmassert report html REPORT -o OUT.html ------------------------------------------------


def configure_html_command(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT", help="a JSON report (pytest --llm-report)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT.html",
        default=None,
        help="the HTML file to write (default: REPORT with the suffix .html)",
    )


def run_html_command(args: argparse.Namespace) -> int:
    from llmassert._reports._schema import load_report

    source = Path(args.report)
    target = Path(args.output) if args.output else source.with_suffix(".html")
    if target.is_dir():
        raise UsageError(f"-o {target}: is a directory; name the HTML file to write")
    if target.resolve() == source.resolve():
        raise UsageError(f"-o {target}: is the report itself; name another file (OUT.html)")
    report = load_report(source)
    write_html(report, target)
    size = target.stat().st_size
    tests = len(report.get("tests") or [])
    shown = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
    print(f"wrote {target} ({shown}, {tests} tests)")
    return 0
