"""Run reports: the JSON report of a session (schema, assembly, validation), the per-model
summary, the paired comparison of models, rendering, baselines and shard merging.

Everything here works on plain report dicts (pure functions, no pytest); the pytest side lives
in :mod:`llmassert._plugins.reports`. Names load on first use: importing this package is cheap
(the ``llmassert`` command line imports ``llmassert._reports._cli`` to build its parser).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - static view of the lazy names below
    from llmassert._reports._compare import compare_models
    from llmassert._reports._kinds import CHECK_KINDS, KINDS, check_kind
    from llmassert._reports._schema import (
        SCHEMA_VERSION,
        finalize,
        load_report,
        to_json,
        validate_report,
    )
    from llmassert._reports._summary import summarize_models

__all__ = [
    "CHECK_KINDS",
    "KINDS",
    "SCHEMA_VERSION",
    "check_kind",
    "compare_models",
    "finalize",
    "load_report",
    "summarize_models",
    "to_json",
    "validate_report",
]

_WHERE = {
    "CHECK_KINDS": "_kinds",
    "KINDS": "_kinds",
    "check_kind": "_kinds",
    "compare_models": "_compare",
    "SCHEMA_VERSION": "_schema",
    "finalize": "_schema",
    "load_report": "_schema",
    "to_json": "_schema",
    "validate_report": "_schema",
    "summarize_models": "_summary",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
