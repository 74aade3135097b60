"""docs/checks.md is exact: every example fails with the message printed under it, and the
table lists every check with its three forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import llmassert
from llmassert._checks._base import check_names

DOC = Path(__file__).resolve().parent.parent / "docs" / "checks.md"
EXAMPLE = re.compile(
    r"```python\n((?:(?!```).)*?)\n```\n\nfails with:\n\n```text\n((?:(?!```).)*?)\n```", re.DOTALL
)


def examples() -> list[tuple[str, str]]:
    return EXAMPLE.findall(DOC.read_text(encoding="utf-8"))


def test_docs_have_an_example_per_check() -> None:
    assert len(examples()) == len(check_names()) + 1  # + assert_pass_rate


@pytest.mark.parametrize(("code", "message"), examples())
def test_documented_failure_message_is_exact(code: str, message: str) -> None:
    namespace = {name: getattr(llmassert, name) for name in llmassert.__all__}
    with pytest.raises(llmassert.LLMAssertionError) as exc:
        exec(code, namespace)
    assert str(exc.value) == message


def test_table_lists_every_check_with_three_forms() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in check_names():
        row = f"| `assert_{name}` / `assert_not_{name}` | `{name}` / `not_{name}` |"
        assert row in text, f"docs/checks.md table misses {name}"
        assert f"\n### {name}\n" in text
