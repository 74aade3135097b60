"""docs/recording.md stays true: its GitHub Actions workflow, commands, library sample and the
output lines it shows match what the code does."""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path

import pytest
import yaml

from llmassert._cli import main
from llmassert._settings import RECORD_MODES

DOC = Path(__file__).resolve().parent.parent / "docs" / "recording.md"


def _blocks(kind: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{kind}\n(.*?)\n```", text, re.DOTALL)


def test_the_github_actions_workflow_replays_on_push_and_refreshes_on_demand() -> None:
    (workflow,) = [yaml.safe_load(b) for b in _blocks("yaml") if "jobs:" in b]
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch"}
    test, refresh = workflow["jobs"]["test"], workflow["jobs"]["refresh-recordings"]
    assert test["if"] == "github.event_name != 'workflow_dispatch'"
    assert refresh["if"] == "github.event_name == 'workflow_dispatch'"
    test_runs = [s["run"] for s in test["steps"] if "run" in s]
    assert any(r.startswith("pytest") and "--llm-record" not in r for r in test_runs)
    assert not any("secrets." in str(s) for s in test["steps"])  # CI replays without keys
    (refresh_step,) = [s for s in refresh["steps"] if "pytest" in s.get("run", "")]
    assert set(refresh_step["env"]) == {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
    for command in refresh_step["run"].split("&&"):
        args = shlex.split(command)
        if args[0] == "pytest":
            modes = [a.split("=", 1)[1] for a in args if a.startswith("--llm-record=")]
            assert modes == ["all"]
            assert modes[0] in RECORD_MODES
        else:
            assert args[:3] == ["llmassert", "recordings", "prune"]


def test_the_documented_commands_parse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commands = [
        line.split("#")[0].strip()[2:]
        for block in _blocks("console")
        for line in block.splitlines()
        if line.startswith("$ llmassert recordings")
    ]
    assert len(commands) == 4
    for command in commands:
        args = shlex.split(command)[1:]
        code = main([args[0], "--dir", str(tmp_path), *args[1:]])
        err = capsys.readouterr().err
        assert "invalid choice" not in err, command
        assert "unrecognized arguments" not in err, command
        assert code in (0, 2), command


def test_the_library_sample_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = [b for b in _blocks("python") if "RecordingProxy(" in b]
    monkeypatch.chdir(tmp_path)
    printed: list[str] = []
    exec(code, {"print": printed.append})
    assert printed[0].startswith("OPENAI_BASE_URL=http://127.0.0.1:")
    assert printed[1].startswith("ANTHROPIC_BASE_URL=http://127.0.0.1:")
    assert printed[0].endswith("/openai/v1")


def test_the_documented_summary_lines_have_the_real_shape() -> None:
    text = "\n".join(_blocks("text"))
    summary = next(x for x in text.splitlines() if x.startswith("llmassert recordings: 41"))
    assert fnmatch.fnmatch(
        summary,
        "llmassert recordings: * replayed, * recorded, * live, * missing (record mode *; store *)",
    )
    miss = next(x for x in text.splitlines() if x.startswith("RecordingMissingError"))
    assert fnmatch.fnmatch(
        miss,
        "RecordingMissingError: no recording for this request (record mode 'none'): model * "
        "(openai /v1/chat/completions), prompt '*', test *",
    )
