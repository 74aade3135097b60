"""Layering checks shared by the tests: which modules of a core package import a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["SRC", "imports_of_layers"]

SRC = Path(__file__).resolve().parents[1] / "src" / "llmassert"


def imports_of_layers(package: str, layers: tuple[str, ...]) -> list[str]:
    """``FILE:LINE imports NAME`` for every import in ``src/llmassert/<package>/*.py`` of a
    module under one of ``layers`` (module prefixes such as ``"llmassert._plugins"``)."""
    offenders = []
    for path in sorted((SRC / package).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith(layers):
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    return offenders
