"""``llmassert recordings list|show|prune``: inspect and clean the recording store."""

from __future__ import annotations

import argparse
import configparser
import importlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmassert._errors import ConfigError, CorruptRecordingError, UsageError
from llmassert._recording._key import describe_prompt
from llmassert._recording._store import Recording, RecordingStore, is_entry_name
from llmassert._recording._usage import read_manifest, stale_entries

__all__ = ["configure_parser", "find_recordings_dir", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        default=None,
        metavar="DIR",
        help="the recordings directory (default: llm_recordings_dir from the pytest config "
        "found from the current directory upwards, else ./llm_recordings)",
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = sub.add_parser("list", help="one line per recording")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = sub.add_parser("show", help="show one recording")
    show.add_argument("entry", help="a key (or key prefix, optionally with -N) or a file path")
    show.add_argument("--json", action="store_true", help="print the stored file as is")
    prune = sub.add_parser("prune", help="delete recordings the last complete test run did not use")
    prune.add_argument("--dry-run", action="store_true", help="list what would be deleted")


def _read_pytest_ini(path: Path) -> dict[str, str] | None:
    if path.suffix == ".toml":
        tomllib = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read it as TOML: {exc}") from None
        if path.name == "pyproject.toml":
            table = doc.get("tool", {}).get("pytest", {}).get("ini_options")
        else:  # pytest.toml / .pytest.toml (pytest >= 9)
            table = doc.get("pytest", {})
        return {k: str(v) for k, v in table.items()} if isinstance(table, dict) else None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"{path}: cannot read it as an ini file: {exc}") from None
    section = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    return dict(parser[section]) if parser.has_section(section) else None


#: pytest's config files, in its order of precedence; the first two kinds count even when empty.
_CONFIG_FILES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)
_ALWAYS_CONFIG = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini")


def find_recordings_dir(start: Path | None = None) -> Path:
    """The store pytest would use, found like pytest finds its config file."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        for name in _CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file():
                ini = _read_pytest_ini(candidate)
                if ini is not None or name in _ALWAYS_CONFIG:
                    value = (ini or {}).get("llm_recordings_dir", "").strip()
                    return directory / (value or "llm_recordings")
    return here / "llm_recordings"


def _response_text(recording: Recording) -> str:
    body = recording.body
    if recording.events is not None:
        text = _stream_text(recording.events)
        return f"{text}  <stream of {len(recording.events)} events>"
    if isinstance(body, Mapping):
        choices = body.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            message = choices[0].get("message") or {}
            if isinstance(message, Mapping) and message.get("content") is not None:
                return str(message["content"])
            if choices[0].get("text") is not None:
                return str(choices[0]["text"])
        content = body.get("content")
        if isinstance(content, list):
            return " ".join(
                str(b.get("text", "")) for b in content if isinstance(b, Mapping) and "text" in b
            )
        output = body.get("output")
        if isinstance(output, list):
            texts = [
                str(part.get("text", ""))
                for item in output
                if isinstance(item, Mapping)
                for part in item.get("content") or []
                if isinstance(part, Mapping) and "text" in part
            ]
            return " ".join(texts)
        if "data" in body:
            return f"<{len(body['data']) if isinstance(body['data'], list) else '?'} data items>"
    return json.dumps(body)[:200]


def _stream_text(events: list[dict[str, Any]]) -> str:
    """The text a stream spelled out (OpenAI chat / completions / Responses, Anthropic)."""
    parts: list[str] = []
    for event in events:
        try:
            data = json.loads(event.get("data", ""))
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        delta = data.get("delta")
        if data.get("type") == "response.output_text.delta" and isinstance(delta, str):
            parts.append(delta)
        elif isinstance(delta, dict) and isinstance(delta.get("text"), str):
            parts.append(delta["text"])  # Anthropic content_block_delta
        for choice in data.get("choices") or []:
            if isinstance(choice, dict):
                piece = (choice.get("delta") or {}).get("content") or choice.get("text")
                if isinstance(piece, str):
                    parts.append(piece)
    return "".join(parts)


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _summary(store: RecordingStore, recording: Recording) -> dict[str, Any]:
    request = recording.request
    assert recording.path is not None
    return {
        "file": store.relative(recording.path),
        "key": recording.digest,
        "occurrence": recording.occurrence,
        "provider": request.get("provider"),
        "path": request.get("path"),
        "model": recording.model,
        "stream": recording.events is not None,
        "status": recording.status,
        "prompt": describe_prompt(request.get("body")),
        "recorded_by": recording.recorded_by,
        "recorded_at": recording.recorded_at,
    }


def _list(store: RecordingStore, as_json: bool) -> int:
    rows: list[dict[str, Any]] = []
    corrupt: list[str] = []
    for path in store.entries():
        try:
            recording = store.read(path)
        except CorruptRecordingError as exc:
            corrupt.append(str(exc))
            continue
        assert recording is not None
        rows.append(_summary(store, recording))
    if as_json:
        print(json.dumps({"dir": str(store.root), "entries": rows, "corrupt": corrupt}, indent=2))
    else:
        missing = "" if store.root.is_dir() else " (the directory does not exist yet)"
        print(f"{store.root}: {len(rows)} recording(s){missing}")
        for row in rows:
            flags = " stream" if row["stream"] else ""
            print(
                f"  {row['file']}  {row['path']}{flags}  {_short(row['prompt'], 50)!r}  "
                f"<- {row['recorded_by']}"
            )
        for message in corrupt:
            print(f"  CORRUPT: {message}")
    return 1 if corrupt else 0


def _find(store: RecordingStore, entry: str) -> Path:
    as_path = Path(entry)
    for candidate in (as_path, store.root / as_path):
        if candidate.is_file():
            if not is_entry_name(candidate.name):
                raise UsageError(
                    f"{candidate} is not a recording (recording files are named "
                    "KEY-N.json or, for repeats, KEY-N-TEST.json, e.g. "
                    "59d95a6c4a7093a68a49ca01-0.json; see "
                    "`llmassert recordings list`)"
                )
            return candidate
    matches = [p for p in store.entries() if p.name.startswith(entry)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(
            f"no recording matches {entry!r} in {store.root} (see `llmassert recordings list`)"
        )
    names = ", ".join(store.relative(p) for p in matches[:5])
    raise UsageError(
        f"{entry!r} matches {len(matches)} recordings ({names}); give more of the key, "
        "or KEY-N for occurrence N"
    )


def _show(store: RecordingStore, entry: str, as_json: bool) -> int:
    path = _find(store, entry)
    if as_json:
        print(path.read_text(encoding="utf-8"), end="")
        return 0
    recording = store.read(path)
    assert recording is not None
    info = _summary(store, recording)
    for name in ("file", "key", "occurrence", "recorded_by", "recorded_at", "status"):
        print(f"{name}: {info[name]}")
    print(f"request: {info['provider']} {recording.request.get('method', 'POST')} {info['path']}")
    print(f"model: {info['model']}{' (streamed)' if info['stream'] else ''}")
    print(f"prompt: {info['prompt']}")
    print(f"response: {_short(_response_text(recording), 500)}")
    if recording.latency_s is not None:
        print(f"recorded latency: {recording.latency_s:.3f}s")
    if recording.redactions:
        print(f"redacted before writing: {', '.join(recording.redactions)}")
    return 0


def _prune(store: RecordingStore, dry_run: bool) -> int:
    if not store.root.is_dir():
        raise UsageError(
            f"recordings directory {store.root} does not exist: nothing to prune (give the "
            "store with --dir DIR, or run the command in your project)"
        )
    usage = read_manifest(store.root)
    if usage is None:
        raise UsageError(
            f"no complete test run is recorded in {store.root} yet, so nothing is known to be "
            "unused. Run the whole suite once (plain `pytest`: no -k/-m/-x/--lf/--deselect, no "
            "node ids, no failures), then prune."
        )
    stale = stale_entries(store, usage)
    temps = store.stray_temp_files()
    verb = "would delete" if dry_run else "deleted"
    for path in [*stale, *temps]:
        print(f"  {verb} {store.relative(path)}")
        if not dry_run:
            path.unlink(missing_ok=True)
    if not dry_run:
        for directory in sorted(
            (p for p in store.root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)
        ):
            if not any(directory.iterdir()):
                directory.rmdir()
    kept = sum(1 for _ in store.entries()) - (len(stale) if dry_run else 0)
    print(
        f"{store.root}: {verb} {len(stale)} unused recording(s) and {len(temps)} leftover "
        f"temporary file(s); {kept} kept (based on the complete run of {usage.finished_at}, "
        f"{usage.tests} tests)"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except BrokenPipeError:  # e.g. `llmassert recordings list | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    store = RecordingStore(Path(args.dir) if args.dir else find_recordings_dir())
    action = getattr(args, "action", None)
    if action == "list":
        return _list(store, args.json)
    if action == "show":
        return _show(store, args.entry, args.json)
    if action == "prune":
        return _prune(store, args.dry_run)
    print("usage: llmassert recordings {list,show,prune} (see --help)", file=sys.stderr)
    return 2
