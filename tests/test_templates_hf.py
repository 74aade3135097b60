"""Hugging Face chat templates rendered as transformers renders them (two layouts written here:
ChatML-style markers and Llama-3-style role headers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmassert import UsageError
from llmassert._templates._hf import load_chat_template, render_chat_template

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3 = """{{- bos_token -}}
{% for message in messages %}
    {% if message['role'] not in ['system', 'user', 'assistant'] %}
        {{- raise_exception('unknown role ' + message['role']) }}
    {% endif %}
    {% if message['content'] == '' %}{% continue %}{% endif %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}
    {{- message['content'] | trim }}{{ '<|eot_id|>' -}}
{% endfor %}
{% if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{% endif %}
"""
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello"},
]


def test_chatml_template() -> None:
    assert render_chat_template(CHATML, MESSAGES[:2], add_generation_prompt=True) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_llama3_template_from_tokenizer_config(tmp_path: Path) -> None:
    config = tmp_path / "tokenizer_config.json"
    config.write_text(
        json.dumps(
            {
                "chat_template": LLAMA3,
                "bos_token": {"content": "<|begin_of_text|>", "lstrip": False},
                "eos_token": "<|eot_id|>",
            }
        ),
        encoding="utf-8",
    )
    source, tokens = load_chat_template(config)
    assert tokens == {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
    # trim_blocks / lstrip_blocks as in transformers: the template's indentation and newlines
    # after block tags do not reach the prompt.
    empty_turn = {"role": "user", "content": ""}  # skipped by {% continue %}
    assert render_chat_template(source, [*MESSAGES, empty_turn], **tokens) == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
    )


def test_raise_exception_and_bad_templates_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="refused the messages: unknown role tool"):
        render_chat_template(LLAMA3, [{"role": "tool", "content": "x"}], bos_token="")
    with pytest.raises(UsageError, match="syntax error"):
        render_chat_template("{% for %}", MESSAGES)
    (tmp_path / "c.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError, match="has no 'chat_template'"):
        load_chat_template(tmp_path / "c.json")


def test_dataset_check_of_text_records_against_a_chat_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmassert._cli import main

    config = tmp_path / "tokenizer_config.json"
    config.write_text(json.dumps({"chat_template": CHATML}), encoding="utf-8")
    good = render_chat_template(CHATML, MESSAGES)
    data = tmp_path / "text.jsonl"
    records = [
        {"messages": MESSAGES, "text": good},
        {
            "messages": MESSAGES,
            "text": good.replace("<|im_end|>\n<|im_start|>user", "<|im_end|><|im_start|>user"),
        },
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert main(["dataset", "check", str(data), "--template", str(config)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{data}:2: text differs from the chat template's rendering at character 38")
    assert out[-1] == f"{data}: 2 records checked, layout text: 1 finding (1 mismatch)"


def test_hygiene_checks_apply_to_text_records(tmp_path: Path) -> None:
    from llmassert import check_dataset
    from llmassert._templates._hf import HFChatTemplate

    template = HFChatTemplate(CHATML)

    def record(user: str, answer: str) -> dict[str, object]:
        messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        return {"messages": messages, "text": render_chat_template(CHATML, messages)}

    data = tmp_path / "text.jsonl"
    rows = [
        record("Hi", "Hello"),
        record("Hi", "Hello"),
        record("My key is sk-abcdefghijklmnopqrstuvwx", "noted"),
        record("Empty?", "  "),
        record("x" * 400, "y"),
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    held_out = tmp_path / "test.jsonl"
    held_out.write_text(json.dumps(record("Empty?", "other")) + "\n", encoding="utf-8")
    report = check_dataset(data, template, max_tokens=60, overlap=held_out)
    found = [(f.line, f.kind) for f in report.findings]
    assert found == [
        (2, "duplicate"),
        (3, "pii"),
        (4, "empty"),
        (4, "overlap"),
        (5, "tokens"),
    ], report.findings
    assert report.findings[1].message.startswith("text contains ")
    assert "sk-abcdefghijklmnopqrstuvwx" not in report.findings[1].message  # masked
    assert report.findings[3].message == f"the prompt also occurs in {held_out}:1"
    assert check_dataset(data, template, empty=False, duplicates=False, pii=False).ok
