"""Prompt templates: render -> export -> check round trips, drift findings, hygiene, CLI."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import llmassert
from llmassert import PromptTemplate, UsageError, check_dataset, export_dataset, load_template
from llmassert._cli import main

CHAT = PromptTemplate.chat(
    system="You are Acme's support bot.",
    user="Question: {{ input }}\n\n###\n\n",
    assistant=" {{ output }}",
)
COMPLETION = PromptTemplate.completion_form(
    prompt="{{ input }}\n\n###\n\n", completion=" {{ output }}\nEND", stop="\nEND"
)
EXAMPLES = [
    {"input": "What is 2+2?", "output": "4"},
    {"input": "Where is Paris?", "output": "In France."},
    {"input": "Trailing space ok? ", "output": "Yes."},
]


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    return [f.format(str(path)) for f in check_dataset(path, CHAT).findings]


@pytest.mark.parametrize("layout", ["chat", "alpaca", "sharegpt"])
def test_chat_round_trip_every_layout(tmp_path: Path, layout: str) -> None:
    out = tmp_path / f"{layout}.jsonl"
    assert export_dataset(EXAMPLES, CHAT, out, layout=layout) == 3
    report = check_dataset(out, CHAT)
    assert report.ok
    assert report.records == 3
    assert report.layout == layout
    assert report.summary() == f"{out}: 3 records checked, layout {layout}: all match"


@pytest.mark.skipif(os.name != "posix", reason="file mode bits are POSIX")
def test_an_export_gets_the_umask_mode_and_a_failed_one_leaves_the_old_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "train.jsonl"
    previous = os.umask(0o027)
    try:
        export_dataset(EXAMPLES, CHAT, out)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # shared like recordings, not 0600
    before = out.read_bytes()
    with pytest.raises(UsageError):
        export_dataset([*EXAMPLES, {"output": "no input"}], CHAT, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.jsonl"]  # no temp file left


def test_exported_records_are_exactly_the_rendered_template(tmp_path: Path) -> None:
    export_dataset(EXAMPLES[:1], CHAT, tmp_path / "c.jsonl")
    export_dataset(EXAMPLES[:1], CHAT, tmp_path / "a.jsonl", layout="alpaca")
    export_dataset(EXAMPLES[:1], CHAT, tmp_path / "s.jsonl", layout="sharegpt")
    export_dataset(EXAMPLES[:1], COMPLETION, tmp_path / "p.jsonl", layout="completion")
    assert lines(tmp_path / "c.jsonl") == [
        {
            "messages": [
                {"role": "system", "content": "You are Acme's support bot."},
                {"role": "user", "content": "Question: What is 2+2?\n\n###\n\n"},
                {"role": "assistant", "content": " 4"},
            ]
        }
    ]
    assert lines(tmp_path / "a.jsonl") == [
        {
            "system": "You are Acme's support bot.",
            "instruction": "Question: What is 2+2?\n\n###\n\n",
            "input": "",
            "output": " 4",
        }
    ]
    assert lines(tmp_path / "s.jsonl")[0]["conversations"] == [
        {"from": "system", "value": "You are Acme's support bot."},
        {"from": "human", "value": "Question: What is 2+2?\n\n###\n\n"},
        {"from": "gpt", "value": " 4"},
    ]
    assert lines(tmp_path / "p.jsonl") == [
        {"prompt": "What is 2+2?\n\n###\n\n", "completion": " 4\nEND"}
    ]


def test_completion_round_trip_and_template_from_yaml(tmp_path: Path) -> None:
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text(
        'prompt: "{{ input }}\\n\\n###\\n\\n"\ncompletion: " {{ output }}\\nEND"\nstop: "\\nEND"\n',
        encoding="utf-8",
    )
    template = load_template(yaml_file)
    assert template == PromptTemplate.completion_form(
        "{{ input }}\n\n###\n\n", " {{ output }}\nEND", "\nEND"
    ).__class__(**template.__dict__)
    assert template.pair("hi", "yo") == ("hi\n\n###\n\n", " yo\nEND")
    out = tmp_path / "p.jsonl"
    export_dataset(EXAMPLES, template, out, layout="completion")
    assert check_dataset(out, template).ok


def test_separator_drift_shows_a_whitespace_visible_diff(tmp_path: Path) -> None:
    f = write(
        tmp_path / "d.jsonl",
        [
            {
                "messages": [
                    {"role": "system", "content": "You are Acme's support bot."},
                    {"role": "user", "content": "Question: Hi\n###\n\n"},
                    {"role": "assistant", "content": " Hello"},
                ]
            }
        ],
    )
    assert messages(f) == [
        f"{f}:1: user message differs from the template at character 13 (whitespace only)\n"
        '    expected: "Question: Hi\\n\\n###\\n\\n"\n'
        '    found:    "Question: Hi\\n###\\n\\n"\n'
        "                             ^"
    ]


def test_a_trailing_space_in_the_system_prompt_is_visible(tmp_path: Path) -> None:
    f = write(
        tmp_path / "d.jsonl",
        [
            {
                "messages": [
                    {"role": "system", "content": "You are Acme's support bot. "},
                    {"role": "user", "content": "Question: Hi\n\n###\n\n"},
                    {"role": "assistant", "content": " Hello"},
                ]
            }
        ],
    )
    assert messages(f) == [
        f"{f}:1: system prompt differs from the template at character 27 (whitespace only)\n"
        '    expected: "You are Acme\'s support bot."\n'
        '    found:    "You are Acme\'s support bot. "\n'
        "                                          ^"
    ]


def test_role_drift_is_named(tmp_path: Path) -> None:
    sys_msg = {"role": "system", "content": "You are Acme's support bot."}
    user = {"role": "user", "content": "Question: Hi\n\n###\n\n"}
    answer = {"role": "assistant", "content": " Hello"}
    f = write(
        tmp_path / "d.jsonl",
        [
            {"messages": [user, answer]},
            {"messages": [sys_msg, answer, user]},
            {"messages": [sys_msg, user]},
            {"messages": [sys_msg, user, answer, user, answer]},
        ],
    )
    assert messages(f) == [
        f"{f}:1: expected a system message first (the template has one), found 'user'",
        f"{f}:2: message 2: expected role 'user', found 'assistant' "
        "(roles: system / assistant / user)",
        f"{f}:3: the record does not end with an assistant message (the trained answer)",
    ]


def test_multi_turn_records_check_each_turn(tmp_path: Path) -> None:
    sys_msg = {"role": "system", "content": "You are Acme's support bot."}
    f = write(
        tmp_path / "d.jsonl",
        [
            {
                "messages": [
                    sys_msg,
                    {"role": "user", "content": "Question: A\n\n###\n\n"},
                    {"role": "assistant", "content": " a"},
                    {"role": "user", "content": "Question: B\n\n###\n"},
                    {"role": "assistant", "content": "b"},
                ]
            }
        ],
    )
    found = messages(f)
    assert [m.splitlines()[0] for m in found] == [
        f"{f}:1: user message (turn 2) differs from the template at character 17 (whitespace only)",
        f"{f}:1: assistant message (turn 2) differs from the template at character 0 "
        "(whitespace only)",
    ]


def test_stop_sequence_drift(tmp_path: Path) -> None:
    f = write(
        tmp_path / "p.jsonl",
        [
            {"prompt": "Hi\n\n###\n\n", "completion": " Yo\nEND"},
            {"prompt": "Hi\n\n###\n\n", "completion": " Yo\n"},
        ],
    )
    report = check_dataset(f, COMPLETION)
    assert [x.format(str(f)) for x in report.findings] == [
        f'{f}:2: completion does not end with the stop sequence "\\nEND": ends with " Yo\\n"'
    ]


def test_malformed_lines_are_reported_and_checking_continues(tmp_path: Path) -> None:
    f = tmp_path / "d.jsonl"
    good = json.dumps({"messages": CHAT.messages("Hi", "Hello")})
    f.write_text(
        f"{good}\n{{bad\n[1]\n\n{json.dumps({'prompt': 'x', 'completion': 'y'})}\n"
        f"{good.replace('Hello', 'Bye')}\n",
        encoding="utf-8",
    )
    report = check_dataset(f, CHAT)
    assert [x.format(str(f)) for x in report.findings] == [
        f"{f}:2: not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1))",
        f"{f}:3: not a JSON object (a list)",
        f"{f}:5: not a chat record like line 1 (expected "
        '{"messages": [{"role", "content"}, ...]}, found keys [\'completion\', \'prompt\'])',
    ]
    assert report.records == 3  # lines 1, 5 and 6: checking went on after the bad lines


def test_hygiene_checks(tmp_path: Path) -> None:
    rec = {"messages": CHAT.messages("Hi", "Hello")}
    f = write(
        tmp_path / "d.jsonl",
        [
            rec,
            rec,
            {"messages": CHAT.messages("Mail me at jane.doe@example.com", "ok")},
            {"messages": CHAT.messages("Hi", "")},
            {"messages": CHAT.messages("x" * 400, "y")},
        ],
    )
    test_file = write(tmp_path / "test.jsonl", [{"messages": CHAT.messages("Hi", "Other")}])
    report = check_dataset(f, CHAT, max_tokens=50, overlap=test_file)
    assert [x.format(str(f)) for x in report.findings] == [
        f"{f}:1: the prompt also occurs in {test_file}:1",
        f"{f}:2: duplicate of line 1",
        f"{f}:2: the prompt also occurs in {test_file}:1",
        f"{f}:3: user message contains email j***@example.com",
        f'{f}:4: the output is empty or whitespace-only: " "',
        f"{f}:4: the prompt also occurs in {test_file}:1",
        f"{f}:5: 113 tokens (approximation: chars/4), over the budget of 50",
    ]
    quiet = check_dataset(f, CHAT, empty=False, duplicates=False, pii=False)
    assert quiet.ok


def test_templates_that_make_recovery_ambiguous_are_usage_errors(tmp_path: Path) -> None:
    f = write(tmp_path / "d.jsonl", [{"messages": [{"role": "user", "content": "ab"}]}])
    with pytest.raises(UsageError, match="are adjacent"):
        check_dataset(f, PromptTemplate.chat("{{ a }}{{ input }}"))
    with pytest.raises(UsageError, match="control flow"):
        check_dataset(f, PromptTemplate.chat("{% if input %}{{ input }}{% endif %}"))
    with pytest.raises(UsageError, match="completion-form template"):
        check_dataset(f, COMPLETION)
    with pytest.raises(UsageError, match="mixes chat keys"):
        PromptTemplate.from_dict({"user": "x", "prompt": "y"})
    with pytest.raises(UsageError, match="must end with its stop sequence"):
        PromptTemplate.completion_form("{{ input }}", "{{ output }}", stop="\n")


def test_rendering_keeps_the_trailing_newline_and_is_strict() -> None:
    assert CHAT.messages("Hi")[1]["content"] == "Question: Hi\n\n###\n\n"
    with pytest.raises(UsageError, match="undefined variable 'product'"):
        PromptTemplate.chat("{{ product }}: {{ input }}").messages("Hi")


def test_assert_dataset_matches(tmp_path: Path) -> None:
    f = write(tmp_path / "d.jsonl", [{"messages": CHAT.messages("Hi", "")}])
    with pytest.raises(llmassert.DatasetCheckError) as info:
        llmassert.assert_dataset_matches(f, CHAT)
    assert str(info.value) == (
        f"{f}: 1 record checked, layout chat: 1 finding (1 empty)\n"
        f'{f}:1: the output is empty or whitespace-only: " "'
    )


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "t.yaml"
    template.write_text('user: "Q: {{ input }}\\n"\nassistant: "{{ output }}"\n', "utf-8")
    t = load_template(template)
    good = tmp_path / "good.jsonl"
    export_dataset(EXAMPLES, t, good)
    assert main(["dataset", "check", str(good), "--template", str(template)]) == 0
    assert capsys.readouterr().out == f"{good}: 3 records checked, layout chat: all match\n"
    bad = write(tmp_path / "bad.jsonl", [{"messages": t.messages("Hi", "")}])
    assert main(["dataset", "check", str(bad), "--template", str(template)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f'{bad}:1: the output is empty or whitespace-only: ""',
        f"{bad}: 1 record checked, layout chat: 1 finding (1 empty)",
    ]
    assert main(["dataset", "check", str(bad), "--template", str(template), "--no-empty"]) == 0
    capsys.readouterr()
    assert main(["dataset", "check", str(bad), "--template", str(tmp_path / "no.yaml")]) == 2
    assert "llmassert dataset: error: template" in capsys.readouterr().err
    assert main(["dataset", "check", str(tmp_path / "no.jsonl"), "--template", str(template)]) == 2
    assert "cannot read it" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["dataset", "check", str(bad)])
    assert exit_info.value.code == 2


def test_a_variable_in_the_system_prompt_and_the_user_message_has_one_value(
    tmp_path: Path,
) -> None:
    template = PromptTemplate.chat(
        system="You support {{ product }}.", user="[{{ product }}] {{ input }}"
    )
    good = template.messages("Hi", "Hello", product="Widget")
    bad = [dict(m) for m in good]
    bad[1]["content"] = "[Gadget] Hi"
    turns = [
        *good,
        {"role": "user", "content": "[Widget] Again"},
        {"role": "assistant", "content": "ok"},
    ]
    drifted_turn = [*turns[:3], {"role": "user", "content": "[Gizmo] Again"}, turns[-1]]
    f = write(
        tmp_path / "vars.jsonl",
        [{"messages": good}, {"messages": bad}, {"messages": turns}, {"messages": drifted_turn}],
    )
    assert [x.format("vars.jsonl") for x in check_dataset(f, template).findings] == [
        'vars.jsonl:2: variable {{ product }} is "Widget" in the system prompt but "Gadget" '
        "in the user message",
        'vars.jsonl:4: variable {{ product }} is "Widget" in the system prompt but "Gizmo" '
        "in the user message (turn 2)",
    ]
    # input / output take a new value each turn: a second question is not a mismatch (line 3).
    completion = PromptTemplate.completion_form(
        "{{ lang }}: {{ input }}\n###\n", " ({{ lang }}) {{ output }}\nEND", stop="\nEND"
    )
    g = write(
        tmp_path / "pairs.jsonl",
        [
            {"prompt": "fr: Hi\n###\n", "completion": " (fr) Salut\nEND"},
            {"prompt": "fr: Hi\n###\n", "completion": " (de) Hallo\nEND"},
        ],
    )
    assert [x.format("pairs.jsonl") for x in check_dataset(g, completion).findings] == [
        'pairs.jsonl:2: variable {{ lang }} is "fr" in the prompt but "de" in the completion'
    ]
