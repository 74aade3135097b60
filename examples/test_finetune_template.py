"""One prompt template for fine-tuning data and tests: render the training file, check it, and
send the tests exactly the prompt training used. Runs offline against the demo models."""

import json
from pathlib import Path

import pytest

from llmassert import assert_dataset_matches, check_dataset, export_dataset, load_template

TEMPLATE = load_template(Path(__file__).parent / "support_template.yaml")
EXAMPLES = [
    {"input": "Where is my order?", "output": "It ships within two days."},
    {"input": "Can I get a refund?", "output": "Yes, within 30 days of purchase."},
]


def test_export_then_check_the_training_file(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    assert export_dataset(EXAMPLES, TEMPLATE, train) == 2
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


@pytest.mark.parametrize("example", EXAMPLES, ids=["order", "refund"])
def test_the_model_gets_the_training_prompt(llm, example) -> None:
    response = llm.complete(TEMPLATE.render_prompt(example["input"]))
    assert isinstance(response.text, str)
