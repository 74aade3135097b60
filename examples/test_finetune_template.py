"""One prompt template for fine-tuning data and tests: render the training file, check it, and
send the tests exactly the prompt training used. Runs offline against the demo models.

The workflow: dataset (EXAMPLES) -> template (support_template.yaml) -> export (train.jsonl) ->
check (assert_dataset_matches) -> tests against the endpoint the template is bound to
(`ft-support` in pyproject.toml: `template = "support_template.yaml"`)."""

import json
from pathlib import Path

import pytest

from llmassert import (
    TemplateMismatchError,
    assert_dataset_matches,
    check_dataset,
    export_dataset,
    load_template,
)

TEMPLATE = load_template(Path(__file__).parent / "support_template.yaml")
EXAMPLES = [
    {"input": "Where is my order?", "output": "It ships within two days."},
    {"input": "Can I get a refund?", "output": "Yes, within 30 days of purchase."},
    {"input": "What is the capital of France?", "output": "Paris."},
]


def test_export_then_check_the_training_file(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    assert export_dataset(EXAMPLES, TEMPLATE, train) == 3
    assert_dataset_matches(train, TEMPLATE)


def test_a_drifted_separator_is_caught(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    record = {"messages": TEMPLATE.messages("Where is my order?", "Soon.")}
    record["messages"][1]["content"] = "Question: Where is my order?\n###\n"
    train.write_text(json.dumps(record) + "\n", encoding="utf-8")
    report = check_dataset(train, TEMPLATE)
    assert not report.ok
    assert (
        report.findings[0]
        .format("train.jsonl")
        .startswith("train.jsonl:1: user message differs from the template")
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=["order", "refund", "capital"])
def test_the_model_gets_the_training_prompt(llm, example) -> None:
    response = llm.complete(TEMPLATE.render_prompt(example["input"]))
    assert isinstance(response.text, str)


# The fine-tuned endpoint: its pyproject table binds the template, so these tests send exactly
# what training used, and a prompt that drifts from it fails before it is sent.
@pytest.mark.parametrize("llm", ["ft-support"], indirect=True)
def test_the_bound_endpoint_answers_the_rendered_prompt(llm) -> None:
    assert llm.template == TEMPLATE
    response = llm.complete(llm.render_prompt("What is the capital of France?"))
    assert "Paris" in response.text


@pytest.mark.parametrize("llm", ["ft-support"], indirect=True)
def test_a_prompt_that_drifts_from_the_bound_template_fails(llm) -> None:
    drifted = llm.render_prompt("Where is my order?")
    drifted[1]["content"] = drifted[1]["content"].rstrip("\n")  # the separator lost its newlines
    with pytest.raises(TemplateMismatchError, match="user message differs from the template"):
        llm.complete(drifted)
