"""Our Hugging Face chat-template renderer against transformers' own ``apply_chat_template``.

transformers comes with the optional ``hf`` extra (scripts/run-tests installs it, so CI runs
this comparison; no torch needed). The tokenizer is built offline from a tiny word-level
vocabulary (the ``tokenizers`` library), with the chat template set on it: no network, no hub."""

from __future__ import annotations

from typing import Any

import pytest

from llmassert import UsageError
from llmassert._templates._hf import render_chat_template

transformers = pytest.importorskip(
    "transformers",
    reason="transformers is not installed: pip install 'llmassert[hf]' to compare our "
    "chat-template rendering with transformers' apply_chat_template",
)
tokenizers = pytest.importorskip("tokenizers", reason="tokenizers comes with transformers")

TOKENS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "unk_token": "<unk>"}

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Llama-3 style: role headers, whitespace control, trim, tools / documents, a date, a
# namespace, {% generation %} blocks, reasoning fields and loop controls.
LLAMA3 = """{{- bos_token }}
{%- set ns = namespace(system='') %}
{%- if messages[0]['role'] == 'system' %}
    {%- set ns.system = messages[0]['content'] | trim %}
    {%- set messages = messages[1:] %}
{%- endif %}
{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}
{{- 'Today Date: ' + strftime_now('%Y') + '\\n' }}
{%- if tools is not none %}
    {{- 'Tools:\\n' }}
    {%- for tool in tools %}{{ tool | tojson(indent=2) }}{{ '\\n' }}{% endfor %}
{%- endif %}
{%- if documents is not none %}
    {%- for doc in documents %}{{ 'Doc ' + doc['title'] + ': ' + doc['text'] + '\\n' }}{% endfor %}
{%- endif %}
{{- ns.system }}{{ '<|eot_id|>' }}
{%- for message in messages %}
    {%- if message['role'] not in ['user', 'assistant'] %}
        {{- raise_exception('roles must be user or assistant, got ' + message['role']) }}
    {%- endif %}
    {%- if message['content'] == 'SKIP' %}{% continue %}{% endif %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}
    {%- if message['role'] == 'assistant' %}
        {%- if message['reasoning_content'] is defined %}
            {{- '<think>' + message['reasoning_content'] + '</think>' }}
        {%- endif %}
        {% generation %}{{- message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}
    {%- else %}
        {{- message['content'] | trim + '<|eot_id|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

CONVERSATIONS: dict[str, list[dict[str, Any]]] = {
    "one-turn": [{"role": "user", "content": "Hi"}],
    "system-and-turns": [
        {"role": "system", "content": "  Be brief.  "},
        {"role": "user", "content": "Where is my order?\n"},
        {"role": "assistant", "content": " It ships today. "},
        {"role": "user", "content": "Thanks — très bien"},
    ],
    "none-values-and-reasoning": [
        {"role": "user", "content": "2+2?", "name": None},
        {"role": "assistant", "content": "4", "reasoning": "add them", "tool_calls": None},
        {"role": "user", "content": "SKIP"},
        {"role": "user", "content": "and 3+3?"},
    ],
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "order_status",
            "description": "Look up an order — by id",
            "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
        },
    }
]
DOCUMENTS = [{"title": "Shipping", "text": "Orders ship within two days."}]


def tokenizer(template: str) -> Any:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    vocab = {token: n for n, token in enumerate(TOKENS.values())}
    backend = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, **TOKENS)
    tok.chat_template = template
    return tok


@pytest.mark.parametrize("template", [CHATML, LLAMA3], ids=["chatml", "llama3"])
@pytest.mark.parametrize("conversation", list(CONVERSATIONS))
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"add_generation_prompt": True},
        {"tools": TOOLS, "documents": DOCUMENTS, "add_generation_prompt": True},
        {"continue_final_message": True},
    ],
    ids=["plain", "generation-prompt", "tools-documents", "continue-final"],
)
def test_our_rendering_equals_apply_chat_template(
    template: str, conversation: str, options: dict[str, Any]
) -> None:
    messages = CONVERSATIONS[conversation]
    theirs = tokenizer(template).apply_chat_template(messages, tokenize=False, **options)
    ours = render_chat_template(template, messages, **options, **TOKENS)
    assert ours == theirs


def test_raise_exception_refuses_in_both() -> None:
    messages = [{"role": "tool", "content": "x"}]
    with pytest.raises(Exception, match="roles must be user or assistant, got tool"):
        tokenizer(LLAMA3).apply_chat_template(messages, tokenize=False)
    with pytest.raises(UsageError, match="roles must be user or assistant, got tool"):
        render_chat_template(LLAMA3, messages, **TOKENS)
