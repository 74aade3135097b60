"""llmassert: simple, fast, trustworthy tests for LLM behaviour.

Importing ``llmassert`` is cheap: names are loaded on first use (the pytest plugin loads in
every pytest run, so it must never pull in the provider SDKs up front).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from llmassert._version import __version__

if TYPE_CHECKING:  # pragma: no cover - static view of the lazy names below
    # --- core (owner: lead) ---
    from llmassert._errors import (
        AuthenticationError,
        BudgetExceededError,
        ConfigError,
        ContextLengthError,
        CorruptRecordingError,
        EndpointUnreachableError,
        JudgeError,
        LLMAssertError,
        LLMAssertionError,
        MissingAPIKeyError,
        ModelNotFoundError,
        ModelSpecError,
        ModelTimeoutError,
        ProviderError,
        QuotaExceededError,
        RateLimitError,
        RecordingError,
        RecordingMissingError,
        ServerError,
        UnsupportedParameterError,
        UsageError,
    )
    from llmassert._response import Response, ToolCall, Usage

    # --- checks (owner: checks) ---
    # isort: split
    from llmassert._checks._asserts import (
        assert_check,
        assert_contains,
        assert_contains_all,
        assert_contains_any,
        assert_cost,
        assert_custom,
        assert_ends_with,
        assert_equals,
        assert_finish_reason,
        assert_icontains,
        assert_json,
        assert_json_value,
        assert_judge,
        assert_latency,
        assert_length,
        assert_matches_schema,
        assert_not_contains,
        assert_not_contains_all,
        assert_not_contains_any,
        assert_not_cost,
        assert_not_custom,
        assert_not_ends_with,
        assert_not_equals,
        assert_not_finish_reason,
        assert_not_icontains,
        assert_not_json,
        assert_not_json_value,
        assert_not_judge,
        assert_not_latency,
        assert_not_length,
        assert_not_matches_schema,
        assert_not_pii,
        assert_not_refusal,
        assert_not_regex,
        assert_not_semantic_similar,
        assert_not_similar,
        assert_not_starts_with,
        assert_not_tokens,
        assert_not_tool_call,
        assert_pii,
        assert_refusal,
        assert_regex,
        assert_semantic_similar,
        assert_similar,
        assert_starts_with,
        assert_tokens,
        assert_tool_call,
    )
    from llmassert._checks._base import (
        Check,
        check,
    )
    from llmassert._checks._custom import (
        custom,
    )
    from llmassert._checks._json import (
        json,
        json_value,
    )
    from llmassert._checks._judge import (
        judge,
        semantic_similar,
    )
    from llmassert._checks._length import (
        length,
    )
    from llmassert._checks._passrate import (
        PassRate,
        assert_pass_rate,
    )
    from llmassert._checks._pii import (
        pii,
    )
    from llmassert._checks._refusal import (
        RefusalResult,
        is_refusal,
        refusal,
    )
    from llmassert._checks._result import (
        CheckResult,
    )
    from llmassert._checks._runtime import (
        cost,
        finish_reason,
        latency,
        tokens,
    )
    from llmassert._checks._schema import (
        matches_schema,
    )
    from llmassert._checks._similarity import (
        similar,
    )
    from llmassert._checks._text import (
        contains,
        contains_all,
        contains_any,
        ends_with,
        equals,
        icontains,
        regex,
        starts_with,
    )
    from llmassert._checks._tools import (
        tool_call,
    )
    from llmassert._judge._rubrics import RUBRICS, Rubric, register_rubric

    # --- models (owner: models) ---
    from llmassert._models._budget import Budget
    from llmassert._models._endpoints import Endpoint
    from llmassert._models._model import Model, model
    from llmassert._models._pricing import Price, get_price, set_prices
    from llmassert._models._spec import ModelSpec, parse_spec

    # --- case files (owner: cases) ---
    # isort: split
    from llmassert._cases._file import Case
    from llmassert._plugins.cases import assert_case, cases

    # --- recording (owner: recording) ---
    from llmassert._recording._interceptor import RecordingInterceptor
    from llmassert._recording._proxy import RecordingProxy
    from llmassert._recording._store import RecordingStore

    # --- templates (owner: templates) ---
    from llmassert._templates._check import (
        DatasetCheckError,
        DatasetReport,
        assert_dataset_matches,
        check_dataset,
    )
    from llmassert._templates._export import export_dataset
    from llmassert._templates._hf import load_chat_template, render_chat_template
    from llmassert._templates._template import PromptTemplate, load_template

    # isort: split
    from llmassert._models._binding import TemplateMismatchError, TemplateMismatchWarning

# Public name -> module that defines it. Every public name is listed here exactly once.
_LAZY: dict[str, str] = {
    # --- case files (owner: cases) ---
    "Case": "llmassert._cases._file",
    "assert_case": "llmassert._plugins.cases",
    "cases": "llmassert._plugins.cases",
    # --- core (owner: lead) ---
    "AuthenticationError": "llmassert._errors",
    "BudgetExceededError": "llmassert._errors",
    "ConfigError": "llmassert._errors",
    "ContextLengthError": "llmassert._errors",
    "CorruptRecordingError": "llmassert._errors",
    "EndpointUnreachableError": "llmassert._errors",
    "JudgeError": "llmassert._errors",
    "LLMAssertError": "llmassert._errors",
    "LLMAssertionError": "llmassert._errors",
    "MissingAPIKeyError": "llmassert._errors",
    "ModelNotFoundError": "llmassert._errors",
    "ModelSpecError": "llmassert._errors",
    "ModelTimeoutError": "llmassert._errors",
    "ProviderError": "llmassert._errors",
    "QuotaExceededError": "llmassert._errors",
    "RateLimitError": "llmassert._errors",
    "RecordingError": "llmassert._errors",
    "RecordingMissingError": "llmassert._errors",
    "ServerError": "llmassert._errors",
    "UnsupportedParameterError": "llmassert._errors",
    "UsageError": "llmassert._errors",
    "Response": "llmassert._response",
    "ToolCall": "llmassert._response",
    "Usage": "llmassert._response",
    # --- checks (owner: checks) ---
    "Check": "llmassert._checks._base",
    "CheckResult": "llmassert._checks._result",
    "PassRate": "llmassert._checks._passrate",
    "RefusalResult": "llmassert._checks._refusal",
    "assert_check": "llmassert._checks._asserts",
    "assert_contains": "llmassert._checks._asserts",
    "assert_contains_all": "llmassert._checks._asserts",
    "assert_contains_any": "llmassert._checks._asserts",
    "assert_cost": "llmassert._checks._asserts",
    "assert_custom": "llmassert._checks._asserts",
    "assert_ends_with": "llmassert._checks._asserts",
    "assert_equals": "llmassert._checks._asserts",
    "assert_finish_reason": "llmassert._checks._asserts",
    "assert_icontains": "llmassert._checks._asserts",
    "assert_json": "llmassert._checks._asserts",
    "assert_json_value": "llmassert._checks._asserts",
    "assert_judge": "llmassert._checks._asserts",
    "assert_latency": "llmassert._checks._asserts",
    "assert_length": "llmassert._checks._asserts",
    "assert_matches_schema": "llmassert._checks._asserts",
    "assert_not_contains": "llmassert._checks._asserts",
    "assert_not_contains_all": "llmassert._checks._asserts",
    "assert_not_contains_any": "llmassert._checks._asserts",
    "assert_not_cost": "llmassert._checks._asserts",
    "assert_not_custom": "llmassert._checks._asserts",
    "assert_not_ends_with": "llmassert._checks._asserts",
    "assert_not_equals": "llmassert._checks._asserts",
    "assert_not_finish_reason": "llmassert._checks._asserts",
    "assert_not_icontains": "llmassert._checks._asserts",
    "assert_not_json": "llmassert._checks._asserts",
    "assert_not_json_value": "llmassert._checks._asserts",
    "assert_not_judge": "llmassert._checks._asserts",
    "assert_not_latency": "llmassert._checks._asserts",
    "assert_not_length": "llmassert._checks._asserts",
    "assert_not_matches_schema": "llmassert._checks._asserts",
    "assert_not_pii": "llmassert._checks._asserts",
    "assert_not_refusal": "llmassert._checks._asserts",
    "assert_not_regex": "llmassert._checks._asserts",
    "assert_not_semantic_similar": "llmassert._checks._asserts",
    "assert_not_similar": "llmassert._checks._asserts",
    "assert_not_starts_with": "llmassert._checks._asserts",
    "assert_not_tokens": "llmassert._checks._asserts",
    "assert_not_tool_call": "llmassert._checks._asserts",
    "assert_pass_rate": "llmassert._checks._passrate",
    "assert_pii": "llmassert._checks._asserts",
    "assert_refusal": "llmassert._checks._asserts",
    "assert_regex": "llmassert._checks._asserts",
    "assert_semantic_similar": "llmassert._checks._asserts",
    "assert_similar": "llmassert._checks._asserts",
    "assert_starts_with": "llmassert._checks._asserts",
    "assert_tokens": "llmassert._checks._asserts",
    "assert_tool_call": "llmassert._checks._asserts",
    "check": "llmassert._checks._base",
    "contains": "llmassert._checks._text",
    "contains_all": "llmassert._checks._text",
    "contains_any": "llmassert._checks._text",
    "cost": "llmassert._checks._runtime",
    "custom": "llmassert._checks._custom",
    "ends_with": "llmassert._checks._text",
    "equals": "llmassert._checks._text",
    "finish_reason": "llmassert._checks._runtime",
    "icontains": "llmassert._checks._text",
    "is_refusal": "llmassert._checks._refusal",
    "json": "llmassert._checks._json",
    "json_value": "llmassert._checks._json",
    "judge": "llmassert._checks._judge",
    "semantic_similar": "llmassert._checks._judge",
    "RUBRICS": "llmassert._judge._rubrics",
    "Rubric": "llmassert._judge._rubrics",
    "register_rubric": "llmassert._judge._rubrics",
    "latency": "llmassert._checks._runtime",
    "length": "llmassert._checks._length",
    "matches_schema": "llmassert._checks._schema",
    "pii": "llmassert._checks._pii",
    "refusal": "llmassert._checks._refusal",
    "regex": "llmassert._checks._text",
    "similar": "llmassert._checks._similarity",
    "starts_with": "llmassert._checks._text",
    "tokens": "llmassert._checks._runtime",
    "tool_call": "llmassert._checks._tools",
    # --- models (owner: models) ---
    "Budget": "llmassert._models._budget",
    "Endpoint": "llmassert._models._endpoints",
    "Model": "llmassert._models._model",
    "ModelSpec": "llmassert._models._spec",
    "Price": "llmassert._models._pricing",
    "get_price": "llmassert._models._pricing",
    "model": "llmassert._models._model",
    "parse_spec": "llmassert._models._spec",
    "set_prices": "llmassert._models._pricing",
    # --- recording (owner: recording) ---
    "RecordingInterceptor": "llmassert._recording._interceptor",
    "RecordingProxy": "llmassert._recording._proxy",
    "RecordingStore": "llmassert._recording._store",
    # --- templates (owner: templates) ---
    "DatasetCheckError": "llmassert._templates._check",
    "DatasetReport": "llmassert._templates._check",
    "PromptTemplate": "llmassert._templates._template",
    "assert_dataset_matches": "llmassert._templates._check",
    "check_dataset": "llmassert._templates._check",
    "export_dataset": "llmassert._templates._export",
    "load_chat_template": "llmassert._templates._hf",
    "render_chat_template": "llmassert._templates._hf",
    "load_template": "llmassert._templates._template",
    "TemplateMismatchError": "llmassert._models._binding",
    "TemplateMismatchWarning": "llmassert._models._binding",
}

# Literal, so type checkers see the re-exports (tests/test_package.py keeps it in step).
__all__ = [
    "RUBRICS",
    "AuthenticationError",
    "Budget",
    "BudgetExceededError",
    "Case",
    "Check",
    "CheckResult",
    "ConfigError",
    "ContextLengthError",
    "CorruptRecordingError",
    "DatasetCheckError",
    "DatasetReport",
    "Endpoint",
    "EndpointUnreachableError",
    "JudgeError",
    "LLMAssertError",
    "LLMAssertionError",
    "MissingAPIKeyError",
    "Model",
    "ModelNotFoundError",
    "ModelSpec",
    "ModelSpecError",
    "ModelTimeoutError",
    "PassRate",
    "Price",
    "PromptTemplate",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitError",
    "RecordingError",
    "RecordingInterceptor",
    "RecordingMissingError",
    "RecordingProxy",
    "RecordingStore",
    "RefusalResult",
    "Response",
    "Rubric",
    "ServerError",
    "TemplateMismatchError",
    "TemplateMismatchWarning",
    "ToolCall",
    "UnsupportedParameterError",
    "Usage",
    "UsageError",
    "__version__",
    "assert_case",
    "assert_check",
    "assert_contains",
    "assert_contains_all",
    "assert_contains_any",
    "assert_cost",
    "assert_custom",
    "assert_dataset_matches",
    "assert_ends_with",
    "assert_equals",
    "assert_finish_reason",
    "assert_icontains",
    "assert_json",
    "assert_json_value",
    "assert_judge",
    "assert_latency",
    "assert_length",
    "assert_matches_schema",
    "assert_not_contains",
    "assert_not_contains_all",
    "assert_not_contains_any",
    "assert_not_cost",
    "assert_not_custom",
    "assert_not_ends_with",
    "assert_not_equals",
    "assert_not_finish_reason",
    "assert_not_icontains",
    "assert_not_json",
    "assert_not_json_value",
    "assert_not_judge",
    "assert_not_latency",
    "assert_not_length",
    "assert_not_matches_schema",
    "assert_not_pii",
    "assert_not_refusal",
    "assert_not_regex",
    "assert_not_semantic_similar",
    "assert_not_similar",
    "assert_not_starts_with",
    "assert_not_tokens",
    "assert_not_tool_call",
    "assert_pass_rate",
    "assert_pii",
    "assert_refusal",
    "assert_regex",
    "assert_semantic_similar",
    "assert_similar",
    "assert_starts_with",
    "assert_tokens",
    "assert_tool_call",
    "cases",
    "check",
    "check_dataset",
    "contains",
    "contains_all",
    "contains_any",
    "cost",
    "custom",
    "ends_with",
    "equals",
    "export_dataset",
    "finish_reason",
    "get_price",
    "icontains",
    "is_refusal",
    "json",
    "json_value",
    "judge",
    "latency",
    "length",
    "load_chat_template",
    "load_template",
    "matches_schema",
    "model",
    "parse_spec",
    "pii",
    "refusal",
    "regex",
    "register_rubric",
    "render_chat_template",
    "semantic_similar",
    "set_prices",
    "similar",
    "starts_with",
    "tokens",
    "tool_call",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmassert' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
