"""Repeated cases draw their samples through the sampler of ``@pytest.mark.llm``: every verdict
mode, early stop, a case's own concurrency, samples fetched concurrently, one ``llm_pass_rate``
property shape for both; and the prefetch progress display."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import llmassert._cases._file
import llmassert._cases._prefetch
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model
import llmassert._recording._store  # noqa: F401
from llmassert.testing import Fault, LLMServer, Rule

PROPS_CONFTEST = """
import json


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "llm_pass_rate":
            with open("props.jsonl", "a") as f:
                f.write(json.dumps({"nodeid": report.nodeid, **value}) + "\\n")
"""


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("LOCAL_KEY", "sk-local-test-key-000000")


def _project(pytester: pytest.Pytester, server: LLMServer, case_file: str) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_recordings_dir = "recordings"
        llm_models = ["local"]

        [tool.llmassert.endpoints.local]
        base_url = "{server.openai_base_url}"
        api_key_env = "LOCAL_KEY"
        model = "local-model"
        max_retries = 0
        """
    )
    pytester.makeconftest(PROPS_CONFTEST)
    (pytester.path / "llm_cases.yaml").write_text(case_file, encoding="utf-8")


def _props(pytester: pytest.Pytester) -> dict[str, dict[str, Any]]:
    path = pytester.path / "props.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    found = {}
    for line in lines:
        value = json.loads(line)
        found[value.pop("nodeid")] = value
    return found


def test_verdict_modes_of_the_marker(pytester: pytest.Pytester, llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule("wrong", prompt="q3"))  # every sample of case 'none' fails
    _project(
        pytester,
        llm_server,
        """
prompt: "{{ q }}"
repeat: 5
checks:
  - contains: "{{ q }}"
cases:
  - {id: every, vars: {q: q1}, verdict: "pass^k"}
  - {id: one, vars: {q: q2}, verdict: "pass@k"}
  - {id: none, vars: {q: q3}, verdict: "pass@k"}
  - {id: strict, vars: {q: q4}, verdict: strict, repeat: 20, pass_rate: 0.8, confidence: 0.9}
""",
    )
    result = pytester.runpytest("--llm-record", "off", "-v", "-p", "no:randomly")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::every?local? PASSED (5/5 samples)*",
            "*::none?local? FAILED*",
            "*::strict?local? PASSED (20/20 samples)*",
            "case 'none' on local: llm(repeat=5, verdict='pass@k'): 0/5 samples passed (0%, "
            "95% CI 0%-43%), required at least 1 of 5 to pass (pass@5)",
            "prompt: 'q3'",
            "failed samples (5):",
            "  sample 1: output (5 chars): 'wrong'",
            "    - contains failed: *",
        ]
    )
    props = _props(pytester)
    assert props["llm_cases.yaml::strict[local]"]["verdict"] == "strict"
    assert props["llm_cases.yaml::strict[local]"]["confidence"] == 0.9
    assert props["llm_cases.yaml::none[local]"]["failed_samples"] == [1, 2, 3, 4, 5]


def test_the_pass_rate_property_has_the_marker_shape(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    _project(
        pytester,
        llm_server,
        'prompt: "hello"\nrepeat: 3\npass_rate: 0.6\nchecks: [{contains: hello}]\n'
        "cases: [{id: a}]\n",
    )
    pytester.makepyfile(
        test_marked="""
        import pytest

        @pytest.mark.llm(repeat=3, pass_rate=0.6)
        def test_marked(llm):
            assert "hello" in llm.complete("hello").text
        """
    )
    pytester.runpytest("--llm-record", "off", "-p", "no:randomly").assert_outcomes(passed=2)
    props = _props(pytester)
    case = props["llm_cases.yaml::a[local]"]
    marked = props["test_marked.py::test_marked[local]"]
    assert list(case) == list(marked)  # the same keys, in the same order
    from llmassert._checks import _sampler
    from llmassert._plugins import marker

    assert marker.USER_PROPERTY == _sampler.USER_PROPERTY == "llm_pass_rate"
    assert [list(s) for s in case["samples"]] == [list(s) for s in marked["samples"]]
    for value in (case, marked):
        assert (value["passed"], value["total"], value["verdict"]) == (3, 3, "rate")
        assert [s["index"] for s in value["samples"]] == [1, 2, 3]
        assert all(s["calls"] == 1 and s["live"] == 1 for s in value["samples"])
        assert all(s["tokens"] for s in value["samples"])


def test_repeated_samples_are_fetched_concurrently(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    # held until 9 are in flight: more than one case's 8 samples at once
    llm_server.add_rule(Rule(None, fault=Fault(hold_until_in_flight=9)))
    _project(
        pytester,
        llm_server,
        'prompt: "{{ q }}"\nrepeat: 8\nchecks: [{contains: "{{ q }}"}]\n'
        "cases: [{id: a, vars: {q: qa}}, {id: b, vars: {q: qb}}]\n",
    )
    result = pytester.runpytest("--llm-record", "off", "--llm-concurrency", "16")
    result.assert_outcomes(passed=2)
    assert llm_server.request_count == 16
    assert llm_server.max_in_flight > 8, llm_server.max_in_flight  # both cases' samples at once
    assert llm_server.errors == []


def test_a_case_concurrency_bounds_its_samples_in_flight(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Rule(None, fault=Fault(hold_until_in_flight=3, latency_s=0.05)))
    _project(
        pytester,
        llm_server,
        'prompt: "hi"\nrepeat: 9\nconcurrency: 3\nchecks: [{contains: hi}]\ncases: [{id: a}]\n',
    )
    result = pytester.runpytest("--llm-record", "off", "--llm-concurrency", "8")
    result.assert_outcomes(passed=1)
    assert llm_server.request_count == 9
    assert llm_server.max_in_flight == 3
    assert llm_server.errors == []
    assert _props(pytester)["llm_cases.yaml::a[local]"]["concurrency"] == 3


def test_early_stop_draws_only_the_samples_it_needs_and_replays_the_verdict(
    pytester: pytest.Pytester, llm_server: LLMServer
) -> None:
    llm_server.add_rule(Rule("wrong", prompt="bad"))
    _project(
        pytester,
        llm_server,
        'prompt: "{{ q }}"\nrepeat: 20\npass_rate: 0.5\nearly_stop: true\nconcurrency: 2\n'
        'checks: [{contains: "{{ q }}"}]\n'
        "cases: [{id: good, vars: {q: good}}, {id: bad, vars: {q: bad}}]\n",
    )
    result = pytester.runpytest("--llm-record", "once", "-v", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::good?local? PASSED (10/10 samples, stopped early)*",
            "case 'bad' on local: llm(repeat=20, pass_rate=0.5, early_stop=True): 0/11 samples "
            "passed (0%, *), required >= 50%",
            "stopped early after 11 of 20 samples: 11 failed, so at most 9 of 20 can pass (10 "
            "needed)",
        ]
    )
    recorded = llm_server.request_count
    assert 21 <= recorded <= 21 + 2 * 2, recorded  # the drawn samples and their window ahead
    props = _props(pytester)
    assert props["llm_cases.yaml::good[local]"]["stopped_early"] == "10 passed, 10 of 20 needed"
    (pytester.path / "props.jsonl").unlink()
    llm_server.reset_counters()
    replay = pytester.runpytest("--llm-record", "none", "-p", "no:randomly")
    replay.assert_outcomes(passed=1, failed=1)
    assert llm_server.request_count == 0
    again = _props(pytester)
    for nodeid, value in props.items():
        assert again[nodeid]["passed"] == value["passed"]
        assert again[nodeid]["total"] == value["total"]


def test_progress_display(pytester: pytest.Pytester, llm_server: LLMServer) -> None:
    llm_server.add_rule(Rule(None, fault=Fault(latency_s=0.5)))
    _project(
        pytester,
        llm_server,
        'prompt: "{{ q }}"\ncases:\n' + "".join(f"  - vars: {{q: q{i}}}\n" for i in range(4)),
    )
    shown = pytester.runpytest(
        "--llm-record", "off", "--llm-concurrency", "2", "--llm-progress", "on", "-q"
    )
    shown.assert_outcomes(passed=4)
    out = shown.stdout.str()
    statuses = re.findall(r"\[llmassert: (\d+) in flight, (\d+)/4 fetched\]", out)
    assert statuses, out
    assert {flight for flight, _ in statuses} <= {"1", "2"}
    assert "\x1b8\x1b[K" in out  # erased before the item's result
    quiet = pytester.runpytest("--llm-record", "off", "--llm-concurrency", "2")  # auto: no TTY
    quiet.assert_outcomes(passed=4)
    assert "llmassert: " not in quiet.stdout.str().replace("llmassert: LLM", "")
    bad = pytester.runpytest("--llm-progress", "sometimes")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--llm-progress: expected one of auto, on, off, got 'sometimes'*"])
