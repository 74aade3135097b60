"""Run settings shared by the pytest plugin and plain-library use (no pytest import here).

Precedence, everywhere: command-line option > ini / ``[tool.pytest.ini_options]`` > default.
The ``CI`` environment variable changes only the *default* record mode (``once`` -> ``none``);
an explicit option or ini value always wins over it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from llmassert._errors import ConfigError

__all__ = ["RECORD_MODES", "default_record_mode", "resolve_record_mode"]

#: Record modes, as tabled in the docs ("Recording and replay in CI").
RECORD_MODES = ("none", "once", "all", "off")


def _ci_is_set(env: Mapping[str, str]) -> bool:
    value = env.get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no", "off")


def default_record_mode(env: Mapping[str, str] | None = None) -> str:
    """``none`` when the ``CI`` environment variable is set (and not false-like), else ``once``."""
    return "none" if _ci_is_set(os.environ if env is None else env) else "once"


def resolve_record_mode(
    cli: str | None, ini: str | None, env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Return ``(mode, source)`` where source says which setting decided it."""
    for value, source in ((cli, "--llm-record"), (ini, "llm_record (ini)")):
        if value:
            mode = value.strip().lower()
            if mode not in RECORD_MODES:
                raise ConfigError(
                    f"{source}: invalid record mode {value!r}; "
                    f"valid values are: {', '.join(RECORD_MODES)}"
                )
            return mode, source
    mode = default_record_mode(env)
    return mode, "default (CI is set)" if mode == "none" else "default"
