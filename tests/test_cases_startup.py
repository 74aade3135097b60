"""Case files load their stack (jinja2, YAML, jsonschema, the model layer) only when a case file
is collected: a run without one imports none of it."""

from __future__ import annotations

import json

import pytest

CASE_STACK = ("jinja2", "yaml", "jsonschema", "llmassert._cases", "llmassert._templates")

CONFTEST = """
import atexit
import json
import sys


def _dump():
    with open("modules.json", "w") as f:
        json.dump(sorted(sys.modules), f)


atexit.register(_dump)
"""


@pytest.fixture(autouse=True)
def _only_llmassert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _modules(pytester: pytest.Pytester, *args: str) -> set[str]:
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest_subprocess(
        "-p", "llmassert.plugin", "-p", "no:cacheprovider", *args
    )
    assert result.ret == 0, result.stdout.str()
    modules = set(json.loads((pytester.path / "modules.json").read_text()))
    assert "llmassert._plugins.cases" in modules
    return modules


def test_a_run_without_case_files_imports_none_of_their_stack(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_trivial="def test_one():\n    pass\n")
    (pytester.path / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    modules = _modules(pytester, "-q")
    assert sorted(m for m in modules if m.split(".")[0] in CASE_STACK or m in CASE_STACK) == []
    assert not any(m.startswith(CASE_STACK) for m in modules)


def test_collecting_a_case_file_loads_it(pytester: pytest.Pytester) -> None:
    (pytester.path / "llm_x.yaml").write_text(
        "prompt: hi\nmodels: [demo:finetuned]\ncases: [{}]\n", encoding="utf-8"
    )
    modules = _modules(pytester, "--co", "-q")
    assert {"jinja2", "yaml", "llmassert._cases._file"} <= modules
