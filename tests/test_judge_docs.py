"""docs/judge.md shows each built-in rubric's prompt and the grading instructions word for
word, and names every structured-output form."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmassert._judge._grader import FORMATS
from llmassert._judge._rubrics import _BUILTIN, SYSTEM_PROMPT

DOC = (Path(__file__).resolve().parent.parent / "docs" / "judge.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("rubric", _BUILTIN, ids=lambda r: r.name)
def test_each_builtin_rubric_is_documented_word_for_word(rubric: object) -> None:
    name, text, needs = rubric.name, rubric.text, rubric.needs  # type: ignore[attr-defined]
    assert f"### `{name}`\n" in DOC
    assert f"```text\n{text}\n```" in DOC
    section = DOC.split(f"### `{name}`\n", 1)[1].split("```", 1)[0]
    for part in needs:
        assert f"`{part}`" in section


def test_the_grading_instructions_are_documented_word_for_word() -> None:
    shown = SYSTEM_PROMPT.replace("{{", "{").replace("}}", "}")
    assert f"```text\n{shown}\n```" in DOC


def test_every_structured_output_form_is_documented() -> None:
    for form in FORMATS[1:]:
        assert f"| `{form}` |" in DOC
