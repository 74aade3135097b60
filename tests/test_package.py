"""The package itself: version, cheap imports, the plugin entry point, the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

import llmassert
from llmassert._cli import main


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("code", ["import llmassert", "import llmassert.plugin"])
def test_import_does_not_load_provider_sdks(code: str) -> None:
    modules = _imported_after(code)
    heavy = {"openai", "anthropic", "aiohttp", "jsonschema", "httpx2", "yaml"} & modules
    assert not heavy, f"{code!r} imported {sorted(heavy)}"


def test_version_matches_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"llmassert {llmassert.__version__}"


def test_console_script_is_installed() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "llmassert", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"llmassert {llmassert.__version__}"


def test_public_names_resolve() -> None:
    for name in llmassert.__all__:
        assert getattr(llmassert, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = llmassert.nope


def test_plugin_is_registered_through_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*llmassert: LLM behaviour tests*", "*--llm-model=SPEC*"])


def test_invalid_record_mode_in_ini_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_record = sometimes\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(
        [
            "*llm_record (ini): invalid record mode 'sometimes'; "
            "valid values are: none, once, all, off"
        ]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_all_lazy_and_static_views_agree() -> None:
    """`__all__` (literal, for type checkers), the lazy table and the TYPE_CHECKING imports
    must list the same names, or a name works at runtime but not for a strict user (or the
    other way round)."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(llmassert.__file__).read_text())
    static: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name)):
            continue
        if node.test.id != "TYPE_CHECKING":
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom):
                static |= {alias.asname or alias.name for alias in stmt.names}
    lazy = set(llmassert._LAZY)
    assert set(llmassert.__all__) == lazy | {"__version__"}
    assert len(llmassert.__all__) == len(set(llmassert.__all__))
    assert static == lazy
