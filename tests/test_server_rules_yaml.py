"""Rules from YAML (files and text): every reply kind, and clear errors for bad files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from llmassert import ConfigError
from llmassert.testing import ErrorReply, Fault, LLMServer, Reply, Rule, load_rules

RULES = """\
rules:
  - name: capital
    prompt_regex: "capital of France"
    reply: Paris
  - model: json-model
    reply: {json: {sentiment: positive}}
  - prompt: "weather?"
    reply:
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
  - model: refuser
    reply: {refusal: "I can't help with that."}
  - model: limited
    error: {status: 429, retry_after: 1, message: slow down}
  - model: flaky
    times: 1
    reply: {text: recovered, output_tokens: 42}
    fault: {fail_times: 1, fail_with: {status: 503, retry_after_ms: 1}, latency_s: 0.001}
  - api: completions
    reply: {choices: [{text: one}, {text: two}]}
"""


def test_load_rules_from_a_file_builds_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    rules = load_rules(path)
    assert len(rules) == 7
    assert all(isinstance(r, Rule) for r in rules)
    capital, as_json, tools, refuser, limited, flaky, completions = rules
    assert capital.name == "capital"
    assert capital.reply == "Paris"
    assert capital.prompt_regex is not None
    assert capital.prompt_regex.pattern == "capital of France"
    assert as_json.reply == Reply(json={"sentiment": "positive"})
    assert isinstance(tools.reply, Reply)
    assert tools.reply.tool_calls[0].name == "get_weather"
    assert tools.reply.tool_calls[0].arguments == {"city": "Paris"}
    assert refuser.reply == Reply(refusal="I can't help with that.")
    assert limited.reply == ErrorReply(status=429, retry_after=1, message="slow down")
    assert flaky.times == 1
    assert flaky.fault == Fault(
        fail_times=1, fail_with=ErrorReply(status=503, retry_after_ms=1), latency_s=0.001
    )
    assert isinstance(completions.reply, Reply)
    assert [c.text for c in completions.reply.choices] == ["one", "two"]
    assert load_rules(str(path))[0].name == "capital"  # a str path works too


def test_yaml_rules_drive_the_server(llm_server: LLMServer) -> None:
    llm_server.set_rules(load_rules(RULES))
    client = openai.OpenAI(base_url=llm_server.openai_base_url, api_key="k", max_retries=1)

    def ask(model: str, prompt: str) -> openai.types.chat.ChatCompletion:
        return client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}]
        )

    assert ask("m", "What is the capital of France?").choices[0].message.content == "Paris"
    content = ask("json-model", "x").choices[0].message.content or ""
    assert json.loads(content) == {"sentiment": "positive"}
    calls = ask("m", "weather?").choices[0].message.tool_calls or []
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert ask("refuser", "x").choices[0].message.refusal == "I can't help with that."
    no_retry = client.with_options(max_retries=0)
    with pytest.raises(openai.RateLimitError, match="slow down"):
        no_retry.chat.completions.create(model="limited", messages=[])
    flaky = ask("flaky", "x")  # fails once with 503, the SDK retries
    assert flaky.choices[0].message.content == "recovered"
    assert flaky.usage is not None
    assert flaky.usage.completion_tokens == 42
    assert ask("flaky", "again").choices[0].message.content == "again"  # times: 1 -> echo
    texts = [c.text for c in client.completions.create(model="m", prompt="p", n=2).choices]
    assert texts == ["one", "two"]


def test_top_level_list_and_empty_files(tmp_path: Path) -> None:
    assert [r.reply for r in load_rules("- reply: a\n- reply: b\n")] == ["a", "b"]
    empty = tmp_path / "empty.yml"
    empty.write_text("", encoding="utf-8")
    assert load_rules(empty) == []
    assert load_rules("rules: []\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n  - reply: [unclosed\n", r"rules\.yaml: line \d+: invalid YAML"),
        ("rules: {a: 1}\n", r"rules\.yaml: expected a list of rules"),
        ("rulez: []\n", r"rules\.yaml: unknown top-level key\(s\) rulez"),
        ("rules:\n  - 42\n", r"rules\.yaml: rule 0: expected a mapping"),
        (
            "rules:\n  - reply: a\n  - name: second\n    promt: hi\n",
            r"rules\.yaml: rule 1 \('second'\): unknown field\(s\) promt; valid fields:",
        ),
        (
            "rules:\n  - prompt_regex: '('\n",
            r"rules\.yaml: rule 0: .*invalid prompt_regex '\('",
        ),
        (
            "rules:\n  - reply: {txt: hi}\n",
            r"rules\.yaml: rule 0: reply: unknown field\(s\) txt; valid fields: text,",
        ),
        (
            "rules:\n  - fault: {latency_s: -1}\n",
            r"rules\.yaml: rule 0: fault: Fault\.latency_s: expected seconds >= 0",
        ),
        (
            "rules:\n  - fault: {fail_with: {status: 500, retry: 1}}\n",
            r"rule 0: fault: fail_with: unknown field\(s\) retry",
        ),
        (
            "rules:\n  - reply: a\n    error: {status: 500}\n",
            r"rule 0: give only one of 'reply', 'reply_from', 'error'",
        ),
        ("rules:\n  - api: chat\n", r"rule 0: .*unknown api 'chat'"),
        ("rules:\n  - times: 0\n", r"rule 0: .*times must be a whole number >= 1"),
        ("rules:\n  - model: 3\n", r"rule 0: model must be a string"),
        ("rules:\n  - when: is_ok\n", r"rule 0: when: expected an import path 'package.module"),
        (
            "rules:\n  - reply_from: no_such_module_xyz:f\n",
            r"rule 0: reply_from: cannot import 'no_such_module_xyz'",
        ),
        ("rules:\n  - when: 'json:no_such_fn'\n", r"rule 0: when: module 'json' has no"),
        ("rules:\n  - when: 'json:__name__'\n", r"rule 0: when: 'json:__name__' is not callable"),
    ],
)
def test_bad_rules_files_name_the_file_rule_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_rules(path)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"rules file .*nope\.yaml: not found"):
        load_rules(tmp_path / "nope.yaml")


def test_errors_in_yaml_text_say_so() -> None:
    with pytest.raises(ConfigError, match=r"<rules text>: rule 0: unknown field"):
        load_rules("- reply: a\n  bogus: 1\n")


def test_the_documented_rules_file_loads_and_works(llm_server: LLMServer) -> None:
    page = Path(__file__).parent.parent / "docs" / "test-server.md"
    text = page.read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = load_rules(block)
    assert len(rules) == 8
    llm_server.set_rules(rules)
    client = openai.OpenAI(base_url=llm_server.openai_base_url, api_key="k", max_retries=0)
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "What's the weather in Paris?"}]
    )
    assert completion.choices[0].finish_reason == "tool_calls"


HOOKS = """\
def is_tool_turn(request):
    return request.messages[-1]["role"] == "tool"


def weather(request):
    return f"It is {request.messages[-1]['content']} in Paris."


def shout(request):
    return request.prompt.upper()
"""


def test_yaml_rules_name_python_callables_by_import_path(
    llm_server: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The module sits next to the rules file, which is not on sys.path: found there.
    (tmp_path / "llm_yaml_hooks.py").write_text(HOOKS, encoding="utf-8")
    monkeypatch.delitem(sys.modules, "llm_yaml_hooks", raising=False)
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - when: llm_yaml_hooks:is_tool_turn\n"
        "    reply_from: llm_yaml_hooks:weather\n"
        "  - prompt: loud\n"
        "    reply_from: llm_yaml_hooks:shout\n",
        encoding="utf-8",
    )
    path_before = list(sys.path)
    rules = load_rules(path)
    assert sys.path == path_before
    llm_server.set_rules(rules)
    client = openai.OpenAI(base_url=llm_server.openai_base_url, api_key="k", max_retries=0)
    tool_turn: Any = [
        {"role": "user", "content": "Weather?"},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    ]
    answer = client.chat.completions.create(model="m", messages=tool_turn)
    assert answer.choices[0].message.content == "It is 18C in Paris."
    loud = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "loud"}])
    assert loud.choices[0].message.content == "LOUD"
    other = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert other.choices[0].message.content == "x"  # no rule matched: echo
