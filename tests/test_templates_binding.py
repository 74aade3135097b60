"""A template bound to an endpoint: every prompt sent to it is checked against the template the
model was trained with (through pytester, against the local test server and the demo models)."""

from __future__ import annotations

from pathlib import Path

import pytest

# Inner runs are in-process, and pytester removes the modules they import when they end: import
# the model layer here so its process-wide state outlives each inner run.
import llmassert._models._binding
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model  # noqa: F401
from _layers import imports_of_layers
from llmassert import ConfigError, TemplateMismatchError, UsageError, model
from llmassert._models._endpoints import load_endpoints
from llmassert.testing import LLMServer, Reply

TEMPLATE = """\
system: "You are Acme's support bot."
user: "Question: {{ input }}\\n\\n###\\n\\n"
assistant: "{{ output }}"
"""
COMPLETION = """\
prompt: "{{ input }}\\n\\n###\\n\\n"
completion: " {{ output }}\\nEND"
stop: "\\nEND"
"""


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def project(pytester: pytest.Pytester, server: LLMServer, extra: str = "", api: str = "") -> None:
    pytester.makefile(".yaml", support=TEMPLATE)
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_models = ["ft"]

        [tool.llmassert.endpoints.ft]
        base_url = "{server.openai_base_url}"
        model = "acme-support"
        template = "support.yaml"
        {api}
        {extra}
        """
    )


def test_matching_prompts_pass_and_drifted_ones_fail_with_the_diff(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Reply(text="It ships today."))
    project(pytester, llm_server)
    pytester.makepyfile(
        """
        SYSTEM = "You are Acme's support bot."

        def test_rendered(llm):
            assert llm.render_prompt("Where is my order?") == [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Question: Where is my order?\\n\\n###\\n\\n"},
            ]
            assert llm.complete(llm.render_prompt("Where is my order?")).text == "It ships today."

        def test_same_text_by_hand(llm):
            llm.complete("Question: Hi\\n\\n###\\n\\n", system=SYSTEM)

        def test_trailing_space(llm):
            llm.complete("Question: Hi\\n\\n###\\n\\n ", system=SYSTEM)

        def test_other_system_prompt(llm):
            llm.complete("Question: Hi\\n\\n###\\n\\n", system="You are a helpful assistant.")

        def test_missing_separator(llm):
            llm.complete([
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Question: Hi"},
            ])

        def test_no_system_prompt(llm):
            llm.complete("Question: Hi\\n\\n###\\n\\n")
        """
    )
    result = pytester.runpytest("--llm-record", "off", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=4)
    out = result.stdout.str()
    head = (
        "E       llmassert._models._binding.TemplateMismatchError: ft: the prompt does not match "
        "the template the endpoint was trained with (*support.yaml):"
    )
    result.stdout.fnmatch_lines(
        [
            "*test_trailing_space*",
            head,
            "E       user message differs from the template at character 19 (whitespace only)",
            'E           expected: "Question: Hi\\n\\n###\\n\\n"',
            'E           found:    "Question: Hi\\n\\n###\\n\\n "',
            "E                                             ^",
            "E       Build it from the template (model.render_prompt(...)) so tests send exactly "
            "what training used.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_other_system_prompt*",
            head,
            "E       system prompt differs from the template at character 8",
            'E           expected: "You are Acme\'s support bot."',
            'E           found:    "You are a helpful assistant."',
            "E                              ^",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_missing_separator*",
            head,
            "E       user message differs from the template at character 12",
            'E           expected: "Question: Hi\\n\\n###\\n\\n"',
            'E           found:    "Question: Hi"',
            "E                                  ^",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_no_system_prompt*",
            head,
            "E       expected a system message first (the template has one), found 'user'",
        ]
    )
    # A drifted prompt is never sent: only the two matching ones reached the server.
    assert len(llm_server.requests) == 2
    assert "Traceback" not in out
    assert "_binding.py" not in out  # the test's line, not llmassert's internals


def test_warn_mode_sends_the_prompt_and_warns(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Reply(text="ok"))
    project(pytester, llm_server, extra='template_mismatch = "warn"')
    pytester.makepyfile(
        """
        import pytest
        from llmassert import TemplateMismatchWarning

        def test_warns(llm):
            with pytest.warns(TemplateMismatchWarning, match="at character 19") as seen:
                reply = llm.complete(
                    "Question: Hi\\n\\n###\\n\\n ", system="You are Acme's support bot."
                )
            assert reply.text == "ok"
            assert seen[0].filename == __file__  # points at the test's own call

        def test_sample_warns_once(llm):
            with pytest.warns(TemplateMismatchWarning) as seen:
                replies = llm.sample("Question: Hi", n=3, system="You are Acme's support bot.")
            assert [r.text for r in replies] == ["ok"] * 3
            assert len(seen) == 1
        """
    )
    result = pytester.runpytest("--llm-record", "off", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert len(llm_server.requests) == 4


def test_acomplete_sample_and_case_files_are_checked(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Reply(text="ok"))
    project(pytester, llm_server)
    pytester.makepyfile(
        """
        import asyncio

        import pytest
        from llmassert import TemplateMismatchError

        SYSTEM = "You are Acme's support bot."

        def test_acomplete(llm):
            good = llm.render_prompt("Hi")
            assert asyncio.run(llm.acomplete(good)).text == "ok"
            with pytest.raises(TemplateMismatchError, match="user message differs"):
                asyncio.run(llm.acomplete("Question: Hi\\n\\n###\\n", system=SYSTEM))

        def test_sample(llm):
            assert len(llm.sample(llm.render_prompt("Hi"), n=2)) == 2
            with pytest.raises(TemplateMismatchError, match="system prompt differs"):
                llm.sample("Question: Hi\\n\\n###\\n\\n", system="Be nice.", n=2)
        """
    )
    pytester.makefile(
        ".yaml",
        llm_support="""
        system: "You are Acme's support bot."
        prompt: "Question: {{ question }}\\n\\n###\\n\\n"
        cases:
          - id: good
            vars: {question: "Where is my order?"}
          - id: drifted
            vars: {question: "Where is my order? "}
        """.replace("\n        ", "\n"),
    )
    pytester.makefile(
        ".yaml",
        llm_drift="""
        prompt: "Question: {{ question }}\\n###\\n\\n"
        cases:
          - id: no-separator
            vars: {question: "Hi"}
        """.replace("\n        ", "\n"),
    )
    result = pytester.runpytest("--llm-record", "off", "-p", "no:cacheprovider", "-rf")
    # The case's own trailing space is part of its input (a variable): it matches.
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*case no-separator [[]ft[]]*",
            "TemplateMismatchError: ft: the prompt does not match the template the endpoint "
            "was trained with (*support.yaml):",
            "expected a system message first (the template has one), found 'user'",
        ]
    )


def test_a_completion_form_template_checks_the_prompt_and_the_stop_sequence(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Reply(text="ok"))
    pytester.makefile(".yaml", raw=COMPLETION)
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_models = ["raw"]

        [tool.llmassert.endpoints.raw]
        base_url = "{llm_server.openai_base_url}"
        model = "acme-raw"
        api = "completions"
        template = "raw.yaml"
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from llmassert import TemplateMismatchError

        def test_raw(llm):
            prompt = llm.render_prompt("Where is my order?")
            assert prompt == "Where is my order?\\n\\n###\\n\\n"
            assert llm.complete(prompt, stop="\\nEND").text == "ok"
            with pytest.raises(TemplateMismatchError, match="pass stop='\\\\\\\\nEND'"):
                llm.complete(prompt)
            with pytest.raises(TemplateMismatchError, match="prompt differs .* at character 22"):
                llm.complete("Where is my order?\\n\\n##\\n\\n", stop="\\nEND")
        """
    )
    result = pytester.runpytest("--llm-record", "off", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_named_demo_endpoint_with_a_template_runs_offline_and_bypasses_recordings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")  # record mode none: any recorded call would fail
    pytester.makefile(".yaml", support=TEMPLATE)
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        llm_models = ["ft-demo"]

        [tool.llmassert.endpoints.ft-demo]
        provider = "demo"
        model = "finetuned"
        template = "support.yaml"
        """
    )
    pytester.makepyfile(
        """
        def test_demo(llm):
            reply = llm.complete(llm.render_prompt("What is the capital of France?"))
            assert "Paris" in reply.text
            assert reply.cost_usd is not None  # the demo prices
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "llm_recordings").exists()


@pytest.mark.parametrize(
    ("setting", "files", "message"),
    [
        ('template = "missing.yaml"', {}, r"\.template: cannot read the template .*missing\.yaml"),
        (
            'template = "bad.yaml"',
            {"bad.yaml": "user: '{{ input }}'\nsytem: x\n"},
            r"\.template: .*bad\.yaml: unknown template key\(s\) sytem",
        ),
        (
            'template = "tokenizer_config.json"',
            {"tokenizer_config.json": "{}"},
            r"\.template: .*tokenizer_config\.json is a JSON file; bind the YAML prompt template",
        ),
        (
            'template = "chat.yaml"\napi = "completions"',
            {"chat.yaml": "user: '{{ input }}'\n"},
            r"chat-form template but the endpoint uses api = \"completions\"",
        ),
        (
            'template = "chat.yaml"\ntemplate_mismatch = "ignore"',
            {"chat.yaml": "user: '{{ input }}'\n"},
            r"\.template_mismatch: expected one of error, warn, got 'ignore'",
        ),
    ],
)
def test_a_bad_binding_is_one_config_error_naming_endpoint_key_and_file(
    tmp_path: Path, setting: str, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[tool.llmassert.endpoints.ft]\nbase_url = "http://h/v1"\n{setting}\n')
    with pytest.raises(ConfigError, match=message) as info:
        load_endpoints(path)
    assert f"{path}: [tool.llmassert.endpoints.ft]" in str(info.value)


def test_a_bad_binding_stops_the_run_at_start_up(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        llm_models = ["demo:finetuned"]

        [tool.llmassert.endpoints.ft]
        provider = "demo"
        model = "finetuned"
        template = "nowhere/support.yaml"
        """
    )
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1
    assert "[tool.llmassert.endpoints.ft].template: cannot read the template" in errors[0]
    assert "nowhere/support.yaml" in errors[0]


def test_library_use_and_a_per_model_template(tmp_path: Path) -> None:
    (tmp_path / "support.yaml").write_text(TEMPLATE)
    ft = model("demo:finetuned", template=str(tmp_path / "support.yaml"))
    assert ft.template is not None
    assert "Paris" in ft.complete(ft.render_prompt("What is the capital of France?")).text
    with pytest.raises(TemplateMismatchError, match="the prompt does not end with a user"):
        ft.complete([*ft.render_prompt("Hi"), {"role": "assistant", "content": "Hello"}])
    with pytest.raises(UsageError, match="template_mismatch: expected one of error, warn"):
        model("demo:finetuned", template=str(tmp_path / "support.yaml"), template_mismatch="no")
    plain = model("demo:finetuned")
    with pytest.raises(UsageError, match="the endpoint has no template"):
        plain.render_prompt("Hi")


def test_templates_never_import_the_model_recording_or_plugin_layers() -> None:
    layers = ("llmassert._models", "llmassert._recording", "llmassert._plugins")
    assert imports_of_layers("_templates", layers) == []


def test_warn_mode_in_a_case_file_sends_the_prompt_and_the_warning_names_the_case(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Reply(text="It ships today."))
    project(pytester, llm_server, extra='template_mismatch = "warn"')
    pytester.makefile(
        ".yaml",
        llm_drift="""
        system: "You are Acme's support bot."
        prompt: "Question: {{ question }}\\n###\\n\\n"
        checks:
          - contains: ships
        cases:
          - id: short-separator
            vars: {question: "Hi"}
          - id: second
            vars: {question: "Hello"}
        """.replace("\n        ", "\n"),
    )
    # -W default: the outer suite turns warnings into errors, and in-process runs inherit that.
    # Both cases are fetched ahead, on the prefetch thread, before or while the first one runs:
    # each warning still lands on its own case, as an in-item call's would.
    result = pytester.runpytest("--llm-record", "off", "-p", "no:cacheprovider", "-W", "default")
    result.assert_outcomes(passed=2, warnings=2)
    for case, question in (("short-separator", "Hi"), ("second", "Hello")):
        result.stdout.fnmatch_lines(
            [
                "*warnings summary*",
                f"llm_drift.yaml::{case}[[]ft[]]",
                "*TemplateMismatchWarning: ft: the prompt does not match the template the "
                "endpoint was trained with (*support.yaml):",
                f"*user message differs from the template at character {11 + len(question)} "
                "(whitespace only)",
                f'*found:    "Question: {question}\\n###\\n\\n"',
            ]
        )
    assert len(llm_server.requests) == 2  # warned, and sent
