"""Case-file validation: every error names file, line and field, with the fix; YAML is loaded
safely; the JSON Schema ships in the package."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from importlib import resources
from pathlib import Path

import pytest

import llmassert._cases._file
import llmassert._models._demo
import llmassert._models._model  # noqa: F401
from llmassert import ConfigError, UsageError
from llmassert._cases._file import load_case_file

ROOT = Path(__file__).resolve().parent.parent


def _error(tmp_path: Path, text: str, name: str = "llm_x.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")

    def load() -> None:
        list(load_case_file(path, shown=name).cases())

    with pytest.raises(ConfigError) as info:
        load()
    assert isinstance(info.value, UsageError)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "promt: hi\ncases: [{}]\n",
            "llm_x.yaml:1: promt: unknown key 'promt' (did you mean 'prompt'?); valid keys: "
            "cases, checks, concurrency, confidence, description, early_stop, marks, messages, "
            "models, params, pass_rate, prompt, repeat, system, vars, verdict",
        ),
        (
            "prompt: hi\ncases:\n  - id: a\n    varz: {x: 1}\n",
            "llm_x.yaml:4: cases[0].varz: unknown key 'varz' (did you mean 'vars'?); valid "
            "keys: checks, concurrency, confidence, description, early_stop, id, marks, pass_rate, "
            "repeat, vars, verdict",
        ),
        ("prompt: hi\n", "llm_x.yaml:1: (top level): missing required key 'cases'"),
        (
            "prompt: hi\ncases: {a: 1}\n",
            "llm_x.yaml:2: cases: must be a list of cases or the path of a .jsonl / .csv file "
            "of vars, got a mapping",
        ),
        ("prompt: hi\ncases: []\n", "llm_x.yaml:2: cases: must not be empty"),
        (
            "prompt: hi\ncases:\n  - checks:\n      - contains: a\n        regex: b\n",
            "llm_x.yaml:4: cases[0].checks[0]: a check is one name or a one-key mapping, e.g. "
            "`- contains: Paris`; put each check in its own list item (got 2 keys: contains, "
            "regex)",
        ),
        (
            "prompt: hi\ncases:\n  - checks:\n      - 3\n",
            "llm_x.yaml:4: cases[0].checks[0]: a check is a name (`- not_refusal`) or a one-key "
            "mapping (`- contains: Paris`), got int 3",
        ),
        (
            "prompt: hi\ncases:\n  - pass_rate: 1.5\n",
            "llm_x.yaml:3: cases[0].pass_rate: must be <= 1, got 1.5",
        ),
        ("prompt: hi\nrepeat: 0\ncases: [{}]\n", "llm_x.yaml:2: repeat: must be >= 1, got 0"),
        (
            "prompt: 3\ncases: [{}]\n",
            "llm_x.yaml:1: prompt: must be a string, got int 3",
        ),
        (
            "messages:\n  - {role: bot, content: hi}\ncases: [{}]\n",
            "llm_x.yaml:2: messages[0].role: must be one of 'system', 'user', 'assistant', got "
            "'bot'",
        ),
        (
            "prompt: hi\nmarks: [not a name]\ncases: [{}]\n",
            "llm_x.yaml:2: marks[0]: a mark name must be a Python identifier, got 'not a name'",
        ),
        (
            "prompt: hi\nparams: {temprature: 0}\ncases: [{}]\n",
            "llm_x.yaml:2: params.temprature: unknown key 'temprature' (did you mean "
            "'temperature'?); valid keys: extra_body, json_schema, max_tokens, reasoning_effort, "
            "response_format, seed, stop, temperature, thinking, tool_choice, tools, top_p",
        ),
        (
            "prompt: hi\nverdict: pass^2\ncases: [{}]\n",
            "llm_x.yaml:2: verdict: must be one of 'rate', 'strict', 'pass^k', 'pass@k', got "
            "'pass^2'",
        ),
        (
            "prompt: hi\ncases:\n  - confidence: 1\n",
            "llm_x.yaml:3: cases[0].confidence: must be < 1, got 1",
        ),
        (
            "prompt: hi\ncases:\n  - confidence: 0\n",
            "llm_x.yaml:3: cases[0].confidence: must be > 0, got 0",
        ),
        (
            "prompt: hi\nearly_stop: yes please\ncases: [{}]\n",
            "llm_x.yaml:2: early_stop: must be true or false, got str 'yes please'",
        ),
        (
            "prompt: hi\ncases:\n  - concurrency: 0\n",
            "llm_x.yaml:3: cases[0].concurrency: must be >= 1, got 0",
        ),
        (
            "prompt: hi\nconcurrency: 2.5\ncases: [{}]\n",
            "llm_x.yaml:2: concurrency: must be an integer, got float 2.5",
        ),
    ],
)
def test_schema_errors_name_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    assert _error(tmp_path, text) == message


def test_several_schema_errors_are_listed_in_line_order(tmp_path: Path) -> None:
    assert _error(tmp_path, "prompt: 3\nsystm: x\ncases: []\n").splitlines() == [
        "llm_x.yaml:1: prompt: must be a string, got int 3",
        "llm_x.yaml:2: systm: unknown key 'systm' (did you mean 'system'?); valid keys: cases, "
        "checks, concurrency, confidence, description, early_stop, marks, messages, models, "
        "params, pass_rate, prompt, repeat, system, vars, verdict",
        "llm_x.yaml:3: cases: must not be empty",
    ]


def test_unknown_check_says_did_you_mean(tmp_path: Path) -> None:
    text = (
        "prompt: hi\nchecks:\n  - not_refusal\ncases:\n  - id: a\n    checks:\n"
        "      - contians: x\n"
    )
    message = _error(tmp_path, text)
    assert message.startswith(
        "llm_x.yaml:7: cases[0].checks[0] (case 'a'): unknown check 'contians': did you mean "
        "'contains'? known checks are "
    ), message
    file_level = _error(tmp_path, "prompt: hi\nchecks:\n  - not_refusl\ncases: [{}]\n")
    assert file_level.startswith(
        "llm_x.yaml:3: checks[0] (case '1'): unknown check 'not_refusl': did you mean "
        "'not_refusal'?"
    ), file_level


def test_bad_check_arguments_name_the_check(tmp_path: Path) -> None:
    message = _error(tmp_path, "prompt: hi\ncases:\n  - checks:\n      - regex: '('\n")
    assert message.startswith("llm_x.yaml:4: cases[0].checks[0] (case '1'): "), message
    assert "regex" in message


def test_an_undefined_variable_names_file_case_and_variable(tmp_path: Path) -> None:
    text = "prompt: Capital of {{ contry }}?\ncases:\n  - id: fr\n    vars: {country: France}\n"
    assert _error(tmp_path, text) == (
        "llm_x.yaml:1: prompt (case 'fr'): undefined variable 'contry' (defined: country)"
    )
    in_check = "prompt: hi\ncases:\n  - id: fr\n    checks:\n      - contains: '{{ capitl }}'\n"
    assert _error(tmp_path, in_check) == (
        "llm_x.yaml:5: cases[0].checks[0] (case 'fr'): undefined variable 'capitl' (defined: none)"
    )
    message = "messages:\n  - role: user\n    content: '{{ q }}'\ncases: [{id: a}]\n"
    assert _error(tmp_path, message) == (
        "llm_x.yaml:3: messages[0] (case 'a'): undefined variable 'q' (defined: none)"
    )


def test_the_template_sandbox_refuses_python_internals(tmp_path: Path) -> None:
    text = "prompt: '{{ x.__class__.__mro__ }}'\ncases:\n  - id: a\n    vars: {x: 1}\n"
    assert _error(tmp_path, text).startswith(
        "llm_x.yaml:1: prompt (case 'a'): refused by the template sandbox: access to attribute "
        "'__class__'"
    )


def test_yaml_is_loaded_safely_and_duplicates_are_refused(tmp_path: Path) -> None:
    tagged = "prompt: !!python/object/apply:os.system ['touch pwned']\ncases: [{}]\n"
    assert _error(tmp_path, tagged) == (
        "llm_x.yaml:1: invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' (only plain YAML is allowed: no "
        "Python tags)"
    )
    assert not (tmp_path / "pwned").exists()
    assert _error(tmp_path, "prompt: a\nprompt: b\ncases: [{}]\n") == (
        "llm_x.yaml:2: duplicate key 'prompt' (first on line 1)"
    )
    assert _error(tmp_path, "prompt: [\n").startswith("llm_x.yaml:2: invalid YAML: ")
    assert _error(tmp_path, "- a\n") == (
        "llm_x.yaml:1: a case file is a mapping with at least prompt (or messages) and cases"
    )


def test_prompt_rules(tmp_path: Path) -> None:
    assert _error(tmp_path, "cases: [{}]\n") == (
        'llm_x.yaml:1: missing the prompt: give prompt: "..." or messages: [{role, content}, ...]'
    )
    both = "prompt: a\nmessages: [{role: user, content: b}]\ncases: [{}]\n"
    assert _error(tmp_path, both) == "llm_x.yaml:2: both prompt and messages: keep one"
    twice = "system: s\nmessages: [{role: system, content: s}]\ncases: [{}]\n"
    assert _error(tmp_path, twice) == (
        "llm_x.yaml:1: system is given twice (the system key and a system message): keep one"
    )


def test_sampling_keys_that_do_not_go_together_name_the_case(tmp_path: Path) -> None:
    text = "prompt: hi\nverdict: pass^k\nrepeat: 5\ncases:\n  - id: a\n    pass_rate: 0.8\n"
    assert _error(tmp_path, text) == (
        "llm_x.yaml:5: cases[0] (case 'a'): pass_rate has no meaning with verdict='pass^k' "
        "(every sample must pass decides); leave it out"
    )
    text = (
        "prompt: hi\ncases:\n  - id: b\n    verdict: strict\n    repeat: 10\n    pass_rate: 0.8\n"
    )
    assert _error(tmp_path, text) == (
        "llm_x.yaml:3: cases[0] (case 'b'): verdict='strict' can never pass with repeat=10: even "
        "10/10 passing give a 95% exact lower bound of 69.2%, below the required 0.8; use "
        "repeat >= 17 (or a lower required rate or confidence)"
    )
    (tmp_path / "rows.jsonl").write_text(
        '{"id": "r", "vars": {}, "verdict": "pass@k", "pass_rate": 0.5, "repeat": 3}\n',
        encoding="utf-8",
    )
    assert _error(tmp_path, "prompt: hi\ncases: rows.jsonl\n").endswith(
        "rows.jsonl:1: case 'r': pass_rate has no meaning with verdict='pass@k' (one passing "
        "sample decides); leave it out"
    )


def test_case_ids_are_unique_and_usable_in_node_ids(tmp_path: Path) -> None:
    dup = "prompt: hi\ncases:\n  - id: a\n  - id: b\n  - id: a\n"
    assert _error(tmp_path, dup) == (
        "llm_x.yaml:5: cases[2]: duplicate case id 'a' (first at llm_x.yaml:3); ids must be "
        "unique in a file"
    )
    assert _error(tmp_path, "prompt: hi\ncases:\n  - id: 'a::b'\n") == (
        "llm_x.yaml:3: cases[0]: case id 'a::b' must be non-empty, on one line, without '::', "
        "'[' or ']'"
    )


def test_row_files_errors_name_the_row(tmp_path: Path) -> None:
    assert _error(tmp_path, "prompt: hi\ncases: rows.csv\n") == (
        "llm_x.yaml:2: cases: no such file 'rows.csv' (looked for "
        f"{Path(__import__('os').path.relpath(tmp_path / 'rows.csv'))}; paths are relative to "
        "the case file)"
    )
    (tmp_path / "rows.csv").write_text("id,q\na,1\nb,2,3\n", encoding="utf-8")
    message = _error(tmp_path, "prompt: '{{ q }}'\ncases: rows.csv\n")
    assert message.endswith("rows.csv:3: 3 values for 2 columns (id, q)"), message
    (tmp_path / "rows.jsonl").write_text('{"q": 1}\n[1]\n', encoding="utf-8")
    message = _error(tmp_path, "prompt: '{{ q }}'\ncases: rows.jsonl\n")
    assert message.endswith("rows.jsonl:2: each line must be a JSON object of vars, got list")
    (tmp_path / "rows.jsonl").write_text('{"q": 1}\n{"q": \n', encoding="utf-8")
    message = _error(tmp_path, "prompt: '{{ q }}'\ncases: rows.jsonl\n")
    assert "rows.jsonl:2: invalid JSON: " in message
    (tmp_path / "rows.jsonl").write_text('{"vars": {"q": 1}, "chekcs": []}\n', encoding="utf-8")
    message = _error(tmp_path, "prompt: '{{ q }}'\ncases: rows.jsonl\n")
    assert message.endswith(
        "rows.jsonl:1: chekcs: unknown key 'chekcs' (did you mean 'checks'?); valid keys: "
        "checks, concurrency, confidence, description, early_stop, id, marks, pass_rate, "
        "repeat, vars, verdict"
    ), message
    (tmp_path / "rows.jsonl").write_text('{"x": 1}\n{"q": 2}\n', encoding="utf-8")
    message = _error(tmp_path, "prompt: '{{ q }}'\ncases: rows.jsonl\n")
    assert message.endswith("rows.jsonl:1: prompt (case '1'): undefined variable 'q' (defined: x)")


@pytest.fixture
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


@pytest.mark.usefixtures("_no_outer_xdist")
def test_a_bad_file_is_one_collection_error_without_traceback(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_record = off\nllm_models = demo:finetuned\n")
    (pytester.path / "llm_bad.yaml").write_text(
        "prompt: Capital of {{ contry }}?\ncases:\n  - id: fr\n    vars: {country: France}\n",
        encoding="utf-8",
    )
    (pytester.path / "llm_good.yaml").write_text(
        "prompt: Capital of France?\ncases: [{checks: [{contains: Paris}]}]\n", encoding="utf-8"
    )
    result = pytester.runpytest("--continue-on-collection-errors")
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "Traceback" not in out, out
    assert "_file.py" not in out, out
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting llm_bad.yaml*",
            "llm_bad.yaml:1: prompt (case 'fr'): undefined variable 'contry' (defined: country)",
        ]
    )


@pytest.mark.usefixtures("_no_outer_xdist")
def test_no_model_bad_model_and_unregistered_marks(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nllm_record = off\n")
    (pytester.path / "llm_a.yaml").write_text("prompt: hi\ncases: [{}]\n", encoding="utf-8")
    (pytester.path / "llm_b.yaml").write_text(
        "prompt: hi\nmodels:\n  - demo:finetuned\n  - opnai:gpt-4o\ncases: [{}]\n",
        encoding="utf-8",
    )
    (pytester.path / "llm_c.yaml").write_text(
        "prompt: hi\nmodels: [demo:finetuned]\ncases:\n  - marks: [nightly]\n", encoding="utf-8"
    )
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "llm_a.yaml: no model to run the cases on: add models: [SPEC, ...] to the file, or "
            "name one for the run with --llm-model SPEC (or llm_models in the ini), e.g. "
            "demo:prompted",
            "llm_b.yaml:4: models?1?: unknown provider 'opnai' in model spec 'opnai:gpt-4o'. "
            "Did you mean 'openai:gpt-4o'?*",
            "llm_c.yaml:4: marks: 'nightly' not found in `markers` configuration option",
        ]
    )


def test_the_schema_ships_in_the_package_and_is_a_valid_schema() -> None:
    from jsonschema import Draft202012Validator

    text = resources.files("llmassert._cases").joinpath("case-file.schema.json").read_text()
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    example = (ROOT / "examples" / "llm_prompted_vs_finetuned.yaml").read_text()
    import yaml

    assert not list(Draft202012Validator(schema).iter_errors(yaml.safe_load(example)))


def test_the_wheel_contains_the_schema(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("llmassert-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "llmassert/_cases/case-file.schema.json" in names
    metadata = next(n for n in names if n.endswith("METADATA"))
    assert "Requires-Dist: jinja2>=3.1" in zipfile.ZipFile(wheel).read(metadata).decode()
