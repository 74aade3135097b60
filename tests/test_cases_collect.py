"""Case files through inner pytest runs: collection, node ids, selection, templates, checks,
repeat / pass_rate verdicts and failure output (against the offline demo models)."""

from __future__ import annotations

import textwrap

import pytest

# Inner runs are in-process and pytester drops the modules they import: keep the model layer
# (demo server, cached clients) and the case-file core alive across them.
import llmassert._cases._file
import llmassert._cases._prefetch
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model
import llmassert.testing  # noqa: F401

CAPITALS = """
system: "Answer in one word."
prompt: "What is the capital of {{ country }}?"
models: [demo:prompted, demo:finetuned]
checks:
  - not_refusal
cases:
  - id: france
    vars: {country: France}
    checks:
      - contains: Paris
  - id: japan
    marks: [slow]
    vars: {country: Japan}
    checks:
      - contains: "{{ capital }}"
    # a case's vars win over the file's
  - vars: {country: Kenya, capital: Nairobi}
    checks:
      - icontains: nairobi
vars: {capital: Tokyo}
"""

INI = "[pytest]\nllm_record = off\nmarkers =\n    slow: slow cases\n"


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _write(pytester: pytest.Pytester, name: str, text: str) -> None:
    (pytester.path / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_one_item_per_case_and_model_with_case_ids(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    _write(pytester, "llm_capitals.yaml", CAPITALS)
    _write(pytester, "llm_other.yml", CAPITALS)
    _write(pytester, "capitals.yaml", CAPITALS)  # not llm_*: not collected
    result = pytester.runpytest("--co", "-q")
    ids = [line for line in result.outlines if "::" in line]
    assert ids[:6] == [
        "llm_capitals.yaml::france[demo:prompted]",
        "llm_capitals.yaml::france[demo:finetuned]",
        "llm_capitals.yaml::japan[demo:prompted]",
        "llm_capitals.yaml::japan[demo:finetuned]",
        "llm_capitals.yaml::3[demo:prompted]",
        "llm_capitals.yaml::3[demo:finetuned]",
    ]
    assert len(ids) == 12
    assert not any(line.startswith("capitals.yaml") for line in ids)


def test_cases_run_and_pass(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    _write(pytester, "llm_capitals.yaml", CAPITALS)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["llm_capitals.yaml::france?demo:prompted? PASSED*"])


def test_selection_k_m_node_id_and_deselect(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    _write(pytester, "llm_capitals.yaml", CAPITALS)
    pytester.runpytest("-k", "france").assert_outcomes(passed=2)
    pytester.runpytest("-k", "finetuned and not japan").assert_outcomes(passed=2)
    pytester.runpytest("-m", "slow").assert_outcomes(passed=2)
    pytester.runpytest("-m", "not slow").assert_outcomes(passed=4)
    pytester.runpytest("llm_capitals.yaml::japan[demo:finetuned]").assert_outcomes(passed=1)
    pytester.runpytest(
        "--deselect",
        "llm_capitals.yaml::japan[demo:finetuned]",
        "--deselect",
        "llm_capitals.yaml::3[demo:prompted]",
    ).assert_outcomes(passed=4)


def test_last_failed_reruns_exactly_the_failed_cases(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    _write(pytester, "llm_capitals.yaml", CAPITALS.replace("contains: Paris", "contains: Lyon"))
    pytester.runpytest("-p", "cacheprovider").assert_outcomes(passed=4, failed=2)
    again = pytester.runpytest("-p", "cacheprovider", "--lf", "-v")
    again.assert_outcomes(failed=2)  # the passed ones are not even collected
    again.stdout.fnmatch_lines(
        [
            "run-last-failure: rerun previous 2 failures",
            "*llm_capitals.yaml::france?demo:prompted? FAILED*",
            "*llm_capitals.yaml::france?demo:finetuned? FAILED*",
        ]
    )


def test_rows_from_csv_and_jsonl_are_cases_with_their_id_or_row_number(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    _write(
        pytester,
        "llm_csv.yaml",
        """
        prompt: "What is the capital of {{ country }}?"
        models: [demo:finetuned]
        checks:
          - contains: "{{ capital }}"
        cases: data/capitals.csv
        """,
    )
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "capitals.csv").write_text(
        "id,country,capital\nfr,France,Paris\njp,Japan,Tokyo\n", encoding="utf-8"
    )
    _write(
        pytester,
        "llm_jsonl.yaml",
        """
        prompt: "What is the capital of {{ country }}?"
        models: [demo:finetuned]
        checks:
          - contains: "{{ capital }}"
        cases: capitals.jsonl
        """,
    )
    (pytester.path / "capitals.jsonl").write_text(
        '{"country": "France", "capital": "Paris"}\n\n'
        '{"id": "jp", "vars": {"country": "Japan", "capital": "Tokyo"}, '
        '"checks": ["not_refusal"]}\n'
        '{"country": "Kenya", "capital": "Nairobi"}\n',
        encoding="utf-8",
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "llm_csv.yaml::fr?demo:finetuned? PASSED*",
            "llm_csv.yaml::jp?demo:finetuned? PASSED*",
            "llm_jsonl.yaml::1?demo:finetuned? PASSED*",
            "llm_jsonl.yaml::jp?demo:finetuned? PASSED*",
            "llm_jsonl.yaml::3?demo:finetuned? PASSED*",
        ]
    )
    pytester.runpytest("llm_jsonl.yaml::3[demo:finetuned]").assert_outcomes(passed=1)


def test_the_session_models_are_the_default(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "llm_models = demo:finetuned\n")
    _write(
        pytester,
        "llm_x.yaml",
        """
        prompt: What is the capital of France?
        cases:
          - checks: [{contains: Paris}]
        """,
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["llm_x.yaml::1?demo:finetuned? PASSED*"])


def test_a_failing_case_shows_prompt_output_and_every_failing_check(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    _write(
        pytester,
        "llm_fail.yaml",
        """
        system: Answer in one word.
        prompt: What is the capital of {{ country }}?
        models: [demo:finetuned]
        checks:
          - not_refusal
        cases:
          - id: france
            vars: {country: France}
            checks:
              - contains: Lyon
              - regex: '^\\d+$'
        """,
    )
    result = pytester.runpytest("--no-llm-summary")  # the failure is the last section
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "Traceback" not in out
    assert "cases.py" not in out
    start = result.outlines.index(
        next(line for line in result.outlines if line.startswith("case 'france'"))
    )
    assert result.outlines[start : start + 9] == [
        "case 'france' on demo:finetuned: 2 of 3 checks failed",
        "system: 'Answer in one word.'",
        "prompt: 'What is the capital of France?'",
        "output (5 chars): 'Paris'",
        "- contains failed: expected the output to contain 'Lyon' (case-sensitive)",
        "    reason: 'Lyon' not found",
        "- regex failed: expected the output to match the pattern '^\\\\d+$'",
        "    reason: no match anywhere in the output",
        "=========================== short test summary info ============================",
    ], "\n".join(result.outlines[start : start + 9])


def test_repeat_and_pass_rate_use_the_marker_verdict(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    review = "Return only JSON with a sentiment key for this review: 'Great value, I love it.'"
    _write(
        pytester,
        "llm_json.yaml",
        f"""
        prompt: "{review}"
        models: [demo:prompted, demo:finetuned]
        repeat: 10
        checks:
          - json
        cases:
          - id: strict
          - id: lenient
            pass_rate: 0.1
        """,
    )
    result = pytester.runpytest("-v", "-p", "no:randomly")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "llm_json.yaml::strict?demo:prompted? FAILED*",
            "llm_json.yaml::strict?demo:finetuned? PASSED (10/10 samples)*",
            "llm_json.yaml::lenient?demo:prompted? PASSED (*/10 samples)*",
            "case 'strict' on demo:prompted: llm(repeat=10, pass_rate=1): */10 samples passed "
            "(*), required >= 100%",
            "prompt: *Return only JSON*",
            "failed samples (*):",
            "  sample *: output (*",
            "    - json failed: *",
        ]
    )


def test_templates_keep_whitespace_exactly(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    _write(
        pytester,
        "llm_ws.yaml",
        """
        prompt: "  {{ word }}\\n\\n"
        models: [demo:finetuned]
        cases:
          - vars: {word: hello}
            checks:
              - equals: "  hello\\n\\n"
        """,
    )
    # demo models echo a prompt they do not know: the output is the rendered prompt
    pytester.runpytest().assert_outcomes(passed=1)


def test_skip_and_xfail_marks_apply_to_cases(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    _write(
        pytester,
        "llm_marks.yaml",
        """
        prompt: What is the capital of France?
        models: [demo:finetuned]
        cases:
          - id: skipped
            marks: [skip]
          - id: expected-to-fail
            marks: [xfail]
            checks: [{contains: Lyon}]
          - id: runs
            checks: [{contains: Paris}]
        """,
    )
    pytester.runpytest().assert_outcomes(passed=1, skipped=1, xfailed=1)
