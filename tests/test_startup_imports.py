"""Plugin start-up: a run that makes no model call imports only what configuration needs.

The plugin loads in every pytest run of a project that installs it, so the model clients, the
provider SDKs and the record & replay stack must load on first use, not at start-up. Checked
deterministically (which modules a subprocess ended with), not by timing; the timing is in
``benchmarks/plugin_startup.py``.
"""

from __future__ import annotations

import json

import pytest

#: Modules a run without any model call must never import.
HEAVY = (
    "openai",
    "anthropic",
    "httpx2",
    "httpx",
    "aiohttp",
    "tenacity",
    "jsonschema",
    "yaml",
    "rapidfuzz",
    "pydantic",
    "asyncio",
    "concurrent.futures",
    "llmassert._models._model",
    "llmassert._models._clients",
    "llmassert._models._transport",
    "llmassert._models._retry",
    "llmassert._models._demo",
    "llmassert._recording._interceptor",
    "llmassert._recording._recorder",
    "llmassert._recording._store",
    "llmassert._recording._secrets",
    "llmassert._recording._usage",
    "llmassert._checks",
    "llmassert.testing",
)

#: Writes every module the process imported, at interpreter exit (after pytest's own end).
CONFTEST = """
import atexit
import json
import sys


def _dump():
    with open("modules.json", "w") as f:
        json.dump(sorted(sys.modules), f)


atexit.register(_dump)
"""


def _modules_after(pytester: pytest.Pytester, *args: str) -> set[str]:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_trivial="def test_one():\n    assert 1\n\ndef test_two():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "llmassert.plugin", "-p", "no:cacheprovider", *args
    )
    assert result.ret == 0, result.stdout.str()
    modules = set(json.loads((pytester.path / "modules.json").read_text()))
    assert "llmassert._plugins.recording" in modules  # the plugin really was loaded
    return modules


@pytest.fixture(autouse=True)
def _only_llmassert(monkeypatch: pytest.MonkeyPatch) -> None:
    # Autoload off: only llmassert is loaded, so no other plugin's imports blur the picture.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_collect_only_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    modules = _modules_after(pytester, "--co", "-q")
    assert sorted(m for m in HEAVY if m in modules) == []


def test_a_run_without_model_calls_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    modules = _modules_after(pytester, "-q")
    assert sorted(m for m in HEAVY if m in modules) == []
