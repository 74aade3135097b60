"""The command-line options and ini keys of the plugin, and how they combine.

Precedence: command-line option > ini / ``[tool.pytest.ini_options]`` > default. The ``CI``
environment variable only changes the default record mode (see :mod:`llmassert._settings`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmassert._errors import ConfigError
from llmassert._settings import RECORD_MODES, resolve_record_mode

__all__ = ["PROGRESS_MODES", "Settings", "get_settings"]

_SETTINGS_KEY = pytest.StashKey["Settings"]()

#: ``--llm-progress`` / ``llm_progress``: the case-file prefetch progress display.
PROGRESS_MODES = ("auto", "on", "off")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmassert", "llmassert: LLM behaviour tests")
    group.addoption(
        "--llm-model",
        action="append",
        default=[],
        metavar="SPEC",
        help="Model under test for the `llm` fixture (repeatable: tests run once per model), "
        "e.g. openai:gpt-4o-mini, anthropic:claude-3-5-haiku-latest, demo:prompted, or a "
        "named endpoint from [tool.llmassert.endpoints]. Overrides the llm_models ini setting.",
    )
    group.addoption(
        "--llm-judge-model",
        default=None,
        metavar="SPEC",
        help="Model used by the `llm_judge` fixture and LLM-as-judge checks.",
    )
    group.addoption(
        "--llm-record",
        default=None,
        choices=RECORD_MODES,
        help="Record mode: none (replay only), once (record what is missing), all (re-record), "
        "off (no store). Default: once, or none when the CI environment variable is set.",
    )
    group.addoption(
        "--llm-concurrency",
        default=None,
        type=int,
        metavar="N",
        help="Maximum in-flight requests per endpoint.",
    )
    group.addoption(
        "--llm-max-cost",
        default=None,
        type=float,
        metavar="USD",
        help="Stop live model calls once they have cost this much (replays are free).",
    )
    group.addoption(
        "--llm-max-calls",
        default=None,
        type=int,
        metavar="N",
        help="Stop after this many live model calls (replays are free).",
    )
    group.addoption(
        "--llm-report",
        default=None,
        metavar="PATH",
        help="Write the JSON report of the run (every test, sample, model call and check "
        "result; the per-model summary and comparison) to PATH.",
    )
    group.addoption(
        "--llm-html",
        default=None,
        metavar="PATH",
        help="Write the HTML report of the run to PATH: one static, self-contained file (the "
        "summary, the comparison, every test's outputs side by side per model).",
    )
    group.addoption(
        "--llm-baseline",
        default=None,
        metavar="PATH",
        help="The JSON report of an earlier run (--llm-report) to compare this run with: "
        "regressions and improvements per test and per model.",
    )
    group.addoption(
        "--llm-progress",
        default=None,
        metavar="{auto,on,off}",
        help="Progress display while case-file requests are in flight: auto (on a terminal, "
        "not with -q), on, off. Default: auto, or the llm_progress ini setting.",
    )
    group.addoption(
        "--no-llm-summary",
        action="store_true",
        default=False,
        help="Do not print the llmassert summary at the end of the run.",
    )
    parser.addini(
        "llm_models",
        type="args",
        default=[],
        help="Models under test for the `llm` fixture (whitespace separated specs).",
    )
    parser.addini("llm_judge_model", default="", help="Judge model spec.")
    parser.addini("llm_record", default="", help=f"Record mode: {', '.join(RECORD_MODES)}.")
    parser.addini(
        "llm_recordings_dir",
        default="",
        help="Where recordings are stored (default: llm_recordings/ beside the rootdir config).",
    )
    parser.addini("llm_concurrency", default="", help="Maximum in-flight requests per endpoint.")
    parser.addini(
        "llm_progress",
        default="",
        help="Progress display while case-file requests are in flight: auto, on, off.",
    )


@dataclass(frozen=True)
class Settings:
    """The resolved llmassert settings of a pytest run."""

    models: tuple[str, ...]
    #: Which setting named the models: ``--llm-model``, ``llm_models (ini)`` or ``""``.
    models_source: str
    judge_model: str | None
    #: Which setting named the judge: ``--llm-judge-model``, ``llm_judge_model (ini)`` or ``""``.
    judge_model_source: str
    record_mode: str
    record_mode_source: str
    recordings_dir: Path
    concurrency: int | None
    max_cost_usd: float | None
    max_calls: int | None
    summary: bool
    rootpath: Path
    #: The prefetch progress display: ``auto``, ``on`` or ``off``.
    progress: str = "auto"


def _positive_int(value: object, source: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(f"{source}: expected a whole number >= 1, got {value!r}") from None
    if number < 1:
        raise ConfigError(f"{source}: expected a whole number >= 1, got {value!r}")
    return number


def _resolve(config: pytest.Config) -> Settings:
    cli_models = [m for m in config.getoption("--llm-model") or [] if m.strip()]
    ini_models = [m for m in config.getini("llm_models") if m.strip()]
    if cli_models:
        models, models_source = tuple(cli_models), "--llm-model"
    elif ini_models:
        models, models_source = tuple(ini_models), "llm_models (ini)"
    else:
        models, models_source = (), ""
    judge = config.getoption("--llm-judge-model") or None
    judge_source = "--llm-judge-model" if judge else ""
    if judge is None and config.getini("llm_judge_model"):
        judge, judge_source = config.getini("llm_judge_model"), "llm_judge_model (ini)"
    mode, mode_source = resolve_record_mode(
        config.getoption("--llm-record"), config.getini("llm_record") or None, os.environ
    )
    rootpath = config.rootpath
    rec_dir_value = config.getini("llm_recordings_dir")
    inipath = config.inipath
    base = inipath.parent if inipath is not None else rootpath
    recordings_dir = (base / rec_dir_value) if rec_dir_value else base / "llm_recordings"
    cli_concurrency = config.getoption("--llm-concurrency")
    if cli_concurrency is not None:
        concurrency = _positive_int(cli_concurrency, "--llm-concurrency")
    else:
        concurrency = _positive_int(config.getini("llm_concurrency"), "llm_concurrency (ini)")
    max_cost = config.getoption("--llm-max-cost")
    if max_cost is not None and max_cost < 0:
        raise ConfigError(f"--llm-max-cost: expected a non-negative amount in USD, got {max_cost}")
    max_calls = config.getoption("--llm-max-calls")
    if max_calls is not None and max_calls < 0:
        raise ConfigError(f"--llm-max-calls: expected a whole number >= 0, got {max_calls}")

    progress, progress_source = config.getoption("--llm-progress"), "--llm-progress"
    if progress is None:
        progress, progress_source = config.getini("llm_progress") or "auto", "llm_progress (ini)"
    if progress not in PROGRESS_MODES:
        raise ConfigError(
            f"{progress_source}: expected one of {', '.join(PROGRESS_MODES)}, got {progress!r}"
        )

    return Settings(
        models=models,
        models_source=models_source,
        judge_model=judge,
        judge_model_source=judge_source,
        record_mode=mode,
        record_mode_source=mode_source,
        recordings_dir=recordings_dir,
        concurrency=concurrency,
        max_cost_usd=max_cost,
        max_calls=max_calls,
        summary=not config.getoption("--no-llm-summary"),
        rootpath=rootpath,
        progress=progress,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[_SETTINGS_KEY] = _resolve(config)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def get_settings(config: pytest.Config) -> Settings:
    """The run's resolved settings (computed once, at configure time)."""
    settings = config.stash.get(_SETTINGS_KEY, None)
    if settings is None:
        settings = _resolve(config)
        config.stash[_SETTINGS_KEY] = settings
    return settings
