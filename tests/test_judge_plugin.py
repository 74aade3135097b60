"""Model-graded checks in pytest runs: the session's judge, case files, record & replay with
the judge server down, the judge's spending caps and its separate summary line."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping

import pytest

# Inner runs are in-process and pytester drops the modules they import: keep the model layer
# (demo server, cached clients) and the judge engine alive across them.
import llmassert._judge._embeddings
import llmassert._judge._grader
import llmassert._models._clients
import llmassert._models._demo
import llmassert._models._model
import llmassert.testing  # noqa: F401
from llmassert.testing import LLMServer, Reply, ServerRequest

_LEAN = ("-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    monkeypatch.delenv("CI", raising=False)


DEMO_TESTS = """
from llmassert import assert_judge

def test_polite():
    assert_judge("Thank you so much for your patience!", "politeness")

def test_rude():
    assert_judge("Figure it out yourself.", "politeness")

def test_fixtures(llm, llm_judge):
    print("PURPOSES", llm.complete("hi").purpose, llm_judge.complete("hi").purpose)
"""


def test_session_judge_grades_and_is_counted_apart(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=DEMO_TESTS)
    result = pytester.runpytest(
        "-s", "--llm-model=demo:finetuned", "--llm-judge-model=demo:judge", *_LEAN
    )
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "PURPOSES model judge" in out
    result.stdout.fnmatch_lines(
        [
            "*assert_judge failed: expected the output to meet the rubric 'politeness'*",
            "*judge (demo:judge): score 1/5 = 0.00 < threshold 0.75",
            '*judge reason: "demo judge (a heuristic, not a model): dismissive wording*',
        ]
    )
    line = next(x for x in result.outlines if x.startswith("llmassert judge:"))
    # two verdicts by checks, and the llm_judge fixture's call (a judge call, not a verdict)
    assert line.startswith("llmassert judge: 3 judge calls (3 live, 0 replayed) for 2 verdicts")
    cost = float(re.search(r"cost \$([0-9.]+)", line).group(1))  # type: ignore[union-attr]
    assert cost > 0  # demo:judge has a (fake) price, so the column shows a number
    assert "not counted in the model under test's" in line


def test_without_a_judge_the_check_is_a_usage_error_naming_the_option(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_demo=DEMO_TESTS)
    result = pytester.runpytest("-k", "polite", *_LEAN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*UsageError: check 'judge': no judge model is configured*"])
    assert "--llm-judge-model SPEC" in result.stdout.str()
    assert "llmassert judge:" not in result.stdout.str()  # no judge call was made


CASES = """
prompt: "What is the capital of {{ country }}?"
models: [demo:prompted]
checks:
  - judge: relevance
cases:
  - id: france
    vars: {country: France}
  - id: atlantis
    vars: {country: Atlantis}
    checks:
      - not_judge: {rubric: "mentions Paris"}
"""


def test_case_files_use_the_judge_key_with_the_case_input(pytester: pytest.Pytester) -> None:
    (pytester.path / "llm_relevance.yaml").write_text(CASES, encoding="utf-8")
    result = pytester.runpytest(
        "-v", "--llm-judge-model=demo:judge", "--llm-record=off", "-rA", *_LEAN
    )
    # demo:prompted answers the France case on topic; the relevance rubric sees the case's
    # rendered prompt as the input (the demo judge scores the overlap with it)
    result.assert_outcomes(passed=2)
    assert result.stdout.str().count("PASSED") >= 2


JUDGED = """
from llmassert import assert_judge, judge

def test_verdicts():
    first = judge("politeness")("Thanks a lot!")
    voted = judge("politeness", votes=3)("Thanks again!")
    print("SCORES", first.score, voted.score, voted.details["judge_votes"])
"""


def _by_seed(request: ServerRequest) -> Reply:
    body = request.body if isinstance(request.body, Mapping) else {}
    seed = int(body.get("seed", 0))
    return Reply(json={"reason": f"seed {seed}", "score": 1 + (seed * 2 + len(request.prompt)) % 5})


def test_judge_verdicts_replay_with_the_judge_server_down(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_judged=JUDGED)
    with LLMServer() as server:
        server.add_rule(_by_seed)
        pytester.makepyprojecttoml(
            f"""
            [tool.llmassert.endpoints.judgebox]
            base_url = "{server.openai_base_url}"
            model = "grader"
            """
        )
        recorded = pytester.runpytest(
            "-s", "--llm-judge-model=judgebox", "--llm-record=once", *_LEAN
        )
        assert server.request_count == 4
    recorded.assert_outcomes(passed=1)
    scores = re.search(r"SCORES .*", recorded.stdout.str())
    assert scores is not None
    # the server is gone; CI mode (record mode none) replays every verdict, votes included
    monkeypatch.setenv("CI", "1")
    replayed = pytester.runpytest("-s", "--llm-judge-model=judgebox", *_LEAN)
    replayed.assert_outcomes(passed=1)
    again = re.search(r"SCORES .*", replayed.stdout.str())
    assert again is not None
    assert again.group(0) == scores.group(0)
    replayed.stdout.fnmatch_lines(
        [
            "llmassert judge: 4 judge calls (0 live, 4 replayed) for 2 verdicts, cost $0.000000*",
            "llmassert recordings: 4 replayed, 0 recorded, 0 live, 0 missing*",
        ]
    )


CAPPED = """
from llmassert import assert_judge

def test_one():
    assert_judge("Thank you!", "politeness")

def test_two():
    assert_judge("Thanks again!", "politeness")
"""


@pytest.mark.parametrize(
    ("option", "shown"),
    [
        ("--llm-judge-max-calls=1", "--llm-judge-max-calls 1 reached (1 live calls made)"),
        ("--llm-judge-max-cost=0.0000001", "--llm-judge-max-cost 1e-07 USD reached"),
        ("--llm-max-calls=1", "--llm-max-calls 1 reached (1 live calls made)"),
    ],
)
def test_judge_calls_obey_their_own_caps_and_the_runs(
    pytester: pytest.Pytester, option: str, shown: str
) -> None:
    pytester.makepyfile(test_capped=CAPPED)
    result = pytester.runpytest("--llm-judge-model=demo:judge", option, *_LEAN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"*BudgetExceededError: demo:judge: live call refused: {shown}*"])


def test_judge_caps_must_be_valid(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_capped=CAPPED)
    result = pytester.runpytest("--llm-judge-max-calls=-1", *_LEAN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--llm-judge-max-calls: expected a whole number >= 0*"])


def test_help_lists_the_judge_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = textwrap.dedent(result.stdout.str())
    for option in ("--llm-judge-max-calls", "--llm-judge-max-cost", "--llm-embedding-model"):
        assert option in text


GARBAGE = """
from llmassert import assert_judge

def test_garbage():
    assert_judge("Thank you!", "politeness")
"""


def test_an_unreadable_verdict_is_one_short_judge_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_garbage=GARBAGE)
    with LLMServer() as server:
        server.add_rule(Reply(text="Looks fine to me."))
        pytester.makepyprojecttoml(
            f"""
            [tool.llmassert.endpoints.judgebox]
            base_url = "{server.openai_base_url}"
            model = "grader"
            """
        )
        result = pytester.runpytest("--llm-judge-model=judgebox", "--llm-record=off", *_LEAN)
        assert server.request_count == 3  # the first ask and 2 retries
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            '>       assert_judge("Thank you!", "politeness")',
            "E       llmassert.JudgeError: judge judgebox: no readable verdict after 3 attempt(s)*",
            "E         - attempt 1: not JSON (no JSON object found); answer: 'Looks fine to me.'",
        ]
    )
    assert "_grader.py" not in out  # the message, not the engine's frames
    assert "AssertionError" not in out
    assert "1 judge error (no readable verdict)" in out


def test_a_case_file_needing_a_judge_without_one_is_a_usage_error_before_any_call(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "llm_relevance.yaml").write_text(CASES, encoding="utf-8")
    (pytester.path / "llm_similar.yaml").write_text(
        "prompt: hi\nmodels: [demo:finetuned]\ncases:\n  - checks:\n"
        "      - not_semantic_similar: bye\n",
        encoding="utf-8",
    )
    result = pytester.runpytest("--llm-record=off", "llm_relevance.yaml", *_LEAN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*llm_relevance.yaml:*: case 'france' has the check 'judge', but no judge model is "
            "configured: pass --llm-judge-model SPEC*"
        ]
    )
    assert "llmassert recordings" not in result.stdout.str()  # no model call was made
    similar = pytester.runpytest("--llm-judge-model=demo:judge", "llm_similar.yaml", *_LEAN)
    assert similar.ret == pytest.ExitCode.USAGE_ERROR
    similar.stderr.fnmatch_lines(["*'not_semantic_similar', but no embeddings model*"])
    # deselected cases do not count
    fine = pytester.runpytest("llm_relevance.yaml", "-k", "nothing", *_LEAN)
    assert fine.ret == pytest.ExitCode.NO_TESTS_COLLECTED
