"""Model calls made by module-, class-, package- or session-scoped fixtures: attributed to no
test, listed under the run's ``unattributed`` (fixture, scope, the test whose setup made them)
and counted in their model's summary (``unattributed_calls``), never in a test's figures."""

from __future__ import annotations

import json
from typing import Any

import pytest

# Inner runs are in-process and pytester drops the modules they import: keep them alive (the
# inner suite's llmassert.model must note into the observation the plugin opens).
import llmassert._models._clients
import llmassert._models._model
import llmassert._observe  # noqa: F401
from llmassert._reports._merge import comparable, merge_reports
from llmassert._reports._schema import validate_report

_LEAN = ("-p", "no:cacheprovider")

SUITE = """
import pytest
import llmassert


@pytest.fixture(scope="module")
def shared():
    return llmassert.model("demo:prompted").complete("What is the capital of France?")


@pytest.fixture(scope="session")
def greeting():
    return llmassert.model("demo:finetuned").complete("Say hello.")


def test_first(shared):
    assert "Paris" in shared.text


def test_second(shared, greeting):
    assert shared.text and greeting.text


def test_model(llm):
    llm.complete("What is the capital of France?")
"""


@pytest.fixture(autouse=True)
def _no_outer_xdist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def _report(pytester: pytest.Pytester, name: str = "out.json") -> dict[str, Any]:
    report = json.loads((pytester.path / name).read_text(encoding="utf-8"))
    validate_report(report)
    return report


def _calls(group: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["model"], c["purpose"], c["prompt"]) for c in group["calls"]]


@pytest.mark.parametrize("workers", [0, 2])
def test_fixture_calls_are_listed_under_the_run_and_counted_in_their_model(
    pytester: pytest.Pytester, workers: int
) -> None:
    pytester.makepyfile(test_fixtures=SUITE)
    xdist = ("-n", str(workers), "-p", "xdist") if workers else ()
    result = pytester.runpytest(
        *_LEAN, *xdist, "--llm-model=demo:prompted", "--llm-report=out.json"
    )
    result.assert_outcomes(passed=3)
    report = _report(pytester)
    tests = {t["nodeid"]: t for t in report["tests"]}
    # the tests that use the fixtures made no call themselves: no model, no samples
    for name in ("test_first", "test_second"):
        entry = tests[f"test_fixtures.py::{name}"]
        assert (entry["model"], entry["samples"]) == ("", [])
    groups = report["unattributed"]
    first = "test_fixtures.py::test_first"
    second = "test_fixtures.py::test_second"
    if workers:  # each worker sets the module fixture up for the first of its tests using it
        shared = [g for g in groups if g["fixture"] == "shared"]
        assert {g["first_test"] for g in shared} <= {first, second}
        assert all(_calls(g) == [("demo:prompted", "model", "What is the capital of France?")]
                   for g in shared)  # fmt: skip
        prompted_fixture_calls = len(shared)
    else:
        assert [
            (g["fixture"], g["scope"], g["nodeid"], g["first_test"], _calls(g)) for g in groups
        ] == [
            ("greeting", "session", "", second, [("demo:finetuned", "model", "Say hello.")]),
            (
                "shared",
                "module",
                "test_fixtures.py",
                first,
                [("demo:prompted", "model", "What is the capital of France?")],
            ),
        ]
        prompted_fixture_calls = 1
    fixture_cost = sum(
        c["cost_usd"] for g in groups for c in g["calls"] if c["model"] == "demo:prompted"
    )
    (own,) = tests["test_fixtures.py::test_model[demo:prompted]"]["samples"][0]["calls"]
    summary = report["models"]["demo:prompted"]
    assert summary["tests"] == 1
    assert summary["calls"] == 1 + prompted_fixture_calls
    assert summary["unattributed_calls"] == prompted_fixture_calls
    assert summary["cost_usd"] == pytest.approx(own["cost_usd"] + fixture_cost)
    # demo:finetuned ran no test: its call is in the list only, not in a summary row
    assert list(report["models"]) == ["demo:prompted"]
    total = len([c for g in groups for c in g["calls"]])
    assert total == prompted_fixture_calls + 1
    result.stdout.fnmatch_lines(
        [
            f"fixtures: {total} calls made by module- and session-scoped fixtures (greeting, "
            f"shared), $0.0000*, * in total ({prompted_fixture_calls} of them in their model's "
            "row; attributed to no test)"
        ]
    )


def test_fixture_calls_survive_a_shard_merge(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=SUITE)
    args = (*_LEAN, "--llm-model=demo:prompted")
    pytester.runpytest(*args, "--llm-report=single.json").assert_outcomes(passed=3)
    pytester.runpytest(*args, "-k", "first", "--llm-report=a.json").assert_outcomes(passed=1)
    pytester.runpytest(*args, "-k", "not first", "--llm-report=b.json").assert_outcomes(passed=2)
    single = _report(pytester, "single.json")
    merged = merge_reports([_report(pytester, "a.json"), _report(pytester, "b.json")])
    validate_report(merged)
    # shard b sets 'shared' up again (for test_second): the merged run really made that call
    assert [(g["fixture"], g["first_test"]) for g in merged["unattributed"]] == [
        ("greeting", "test_fixtures.py::test_second"),
        ("shared", "test_fixtures.py::test_first"),
        ("shared", "test_fixtures.py::test_second"),
    ]
    assert merged["models"]["demo:prompted"]["unattributed_calls"] == 2
    assert single["models"]["demo:prompted"]["unattributed_calls"] == 1
    assert comparable(merged)["tests"] == comparable(single)["tests"]


def test_a_run_whose_only_calls_are_a_fixture_s_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=SUITE)
    result = pytester.runpytest(*_LEAN, "--llm-model=demo:prompted", "-k", "first")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*= llmassert =*",
            "fixtures: 1 call made by module-scoped fixture (shared), $0.000043, * in total (in "
            "no row: no test ran on their model; attributed to no test)",
        ]
    )
