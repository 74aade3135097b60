"""The per-model summary, the comparison of models, the check-kind table and the report schema,
on crafted report entries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from llmassert._errors import UsageError
from llmassert._reports import finalize, load_report, to_json, validate_report
from llmassert._reports._compare import compare_models
from llmassert._reports._kinds import CHECK_KINDS, KINDS, check_kind
from llmassert._reports._schema import load_schema
from llmassert._reports._summary import summarize_models
from reports_data import A, B, call, check, clear_win, entry, repeated_entry

# -- comparison -------------------------------------------------------------------------------


def test_a_clear_win_gives_a_significant_verdict() -> None:
    (comparison,) = compare_models(clear_win(), [A, B])
    assert (comparison["a"], comparison["b"], comparison["shared_tests"]) == (A, B, 30)
    rate = comparison["pass_rate"]
    assert rate["method"] == "exact McNemar"
    assert rate["p_value"] == pytest.approx(0.001953125)  # scipy.stats.binomtest(0, 10).pvalue
    assert rate["significant"] is True
    assert rate["diff"] == pytest.approx(1 / 3)
    latency = comparison["latency_median_ratio"]
    assert latency["ratio"] == pytest.approx((0.25 + 14.5 / 500) / (0.1 + 14.5 / 1000))
    assert latency["ci_low"] > 1
    assert latency["replayed"] is False
    assert comparison["cost_mean_ratio"]["ratio"] == pytest.approx(5.0)
    assert comparison["verdict"] == (
        "demo:finetuned vs demo:prompted: +33 pts pass rate on 30 tests "
        "(95% CI +14..+51, p=0.002); median latency 2.4× lower; mean cost 5.0× lower"
    )


def test_the_order_of_models_decides_a_and_b() -> None:
    (comparison,) = compare_models(clear_win(), [B, A])
    assert (comparison["a"], comparison["b"]) == (B, A)
    assert comparison["pass_rate"]["diff"] == pytest.approx(-1 / 3)
    assert comparison["verdict"].startswith(
        "demo:prompted vs demo:finetuned: -33 pts pass rate on 30 tests (95% CI -51..-14"
    )
    assert "median latency 2.4× higher; mean cost 5.0× higher" in comparison["verdict"]


def test_no_significant_difference_is_said_so() -> None:
    tests = []
    for i in range(20):
        key = f"t.py::t{i}"
        a_pass = i < 10 or i in (10, 11, 12, 13)
        b_pass = i < 10 or i == 14
        tests.append(entry(key, A, "passed" if a_pass else "failed", latency=0.2 + i / 1000))
        tests.append(entry(key, B, "passed" if b_pass else "failed", latency=0.2 + i / 1000))
    (comparison,) = compare_models(tests, [A, B])
    assert comparison["pass_rate"]["p_value"] == pytest.approx(0.375)  # binomtest(1, 5)
    assert comparison["verdict"] == (
        "demo:finetuned vs demo:prompted: no significant difference in pass rate on 20 tests "
        "(+15 pts, 95% CI -8..+35, p=0.38); median latency not significantly different; "
        "mean cost not significantly different"
    )


def test_all_ties() -> None:
    tests = [
        entry(f"t.py::t{i}", model, "passed" if i % 3 else "failed")
        for i in range(9)
        for model in (A, B)
    ]
    (comparison,) = compare_models(tests, [A, B])
    rate = comparison["pass_rate"]
    assert (rate["diff"], rate["p_value"], rate["significant"]) == (0.0, 1.0, False)
    assert comparison["verdict"].startswith(
        "demo:finetuned vs demo:prompted: no significant difference in pass rate on 9 tests "
        "(+0 pts, 95% CI"
    )


def test_zero_shared_tests() -> None:
    tests = [entry("t.py::only_a", A), entry("t.py::only_b1", B), entry("t.py::only_b2", B)]
    (comparison,) = compare_models(tests, [A, B])
    assert comparison["shared_tests"] == 0
    assert comparison["pass_rate"] is None
    assert comparison["latency_median_ratio"] is None
    assert comparison["only_a"] == ["t.py::only_a"]
    assert comparison["only_b"] == ["t.py::only_b1", "t.py::only_b2"]
    assert comparison["verdict"] == (
        "demo:finetuned vs demo:prompted: no shared tests to compare "
        "(1 ran on demo:finetuned only, 2 on demo:prompted only)"
    )


def test_tests_on_one_model_only_are_listed_not_paired() -> None:
    tests = [*clear_win(), entry("t.py::extra", A, "failed"), entry("t.py::skipped", A)]
    tests.append({**entry("t.py::skipped", B), "outcome": "skipped", "samples": []})
    (comparison,) = compare_models(tests, [A, B])
    assert comparison["shared_tests"] == 30
    assert comparison["only_a"] == ["t.py::extra", "t.py::skipped"]  # skipped on B: not run
    assert comparison["only_b"] == []
    assert comparison["verdict"].endswith("; 2 tests ran on one model only")


def test_repeated_tests_are_compared_by_their_rates() -> None:
    a = [9, 10, 7, 8, 6, 10, 5, 9]
    b = [6, 8, 7, 5, 7, 9, 2, 8]
    tests = [repeated_entry(f"t.py::r{i}", A, x, 10) for i, x in enumerate(a)]
    tests += [repeated_entry(f"t.py::r{i}", B, x, 10) for i, x in enumerate(b)]
    (comparison,) = compare_models(tests, [A, B])
    rate = comparison["pass_rate"]
    assert rate["method"].startswith("exact paired sign-flip permutation test")
    assert rate["p_value"] == pytest.approx(0.0625)  # scipy.stats.permutation_test (stats tests)
    assert (rate["a"], rate["b"]) == (pytest.approx(0.8), pytest.approx(0.65))


def test_replayed_latency_is_marked_in_the_verdict() -> None:
    tests = [
        entry(f"t.py::t{i}", m, latency=lat + i / 1000, replayed=True)
        for i in range(10)
        for m, lat in ((A, 0.1), (B, 0.3))
    ]
    (comparison,) = compare_models(tests, [A, B])
    assert comparison["latency_median_ratio"]["replayed"] is True
    assert "median latency (recorded) 2.9× lower" in comparison["verdict"]


def test_unknown_costs_leave_the_cost_ratio_out() -> None:
    tests = [entry(f"t.py::t{i}", m, cost=None) for i in range(5) for m in (A, B)]
    (comparison,) = compare_models(tests, [A, B])
    assert comparison["cost_mean_ratio"] is None
    assert "cost" not in comparison["verdict"]


def test_three_models_give_three_pairs_in_order() -> None:
    c = "openai:gpt-4o-mini"
    tests = clear_win() + [entry(f"tests/test_x.py::test_{i:02d}", c) for i in range(30)]
    pairs = [(x["a"], x["b"]) for x in compare_models(tests, [c, A, B])]
    assert pairs == [(c, A), (c, B), (A, B)]
    assert compare_models(tests, [A])[0]["a"] == A  # unlisted models follow, sorted


# -- summary ---------------------------------------------------------------------------------


def test_summary_counts_rates_compliance_latency_and_calls() -> None:
    tests = [
        entry(
            "t.py::json",
            A,
            checks=[check("json", True), check("refusal", False), check("not_contains", True)],
            calls=[
                call(A, 0.1, 1e-5, ttft=0.02),
                call(A, 0.3, None, replayed=True, retries=2),
                call("demo:judge", 1.0, 1e-3, purpose="judge"),
            ],
        ),
        entry("t.py::b", A, "failed", latency=0.5),
        entry("t.py::c", A, "error", latency=None, calls=[]),
        {**entry("t.py::d", A), "outcome": "skipped", "samples": []},
        {**entry("t.py::e", A), "outcome": "xfailed"},
        entry("t.py::none", ""),
    ]
    summary = summarize_models(tests, [A])
    assert list(summary) == [A]
    s = summary[A]
    assert (s["tests"], s["passed"], s["failed"], s["errors"], s["skipped"]) == (5, 1, 1, 1, 1)
    assert s["xfailed"] == 1
    assert s["pass_rate"] == pytest.approx(1 / 3)
    assert s["compliance"] == {
        "format": {"passed": 1, "total": 1, "rate": 1.0},
        "refusal": {"passed": 0, "total": 1, "rate": 0.0},
        # not_contains passed; the failed and the error test's contains failed; the xfailed
        # test's passed
        "content": {"passed": 2, "total": 4, "rate": 0.5},
    }
    # model calls only (the judge call is reported apart): 0.1, 0.3, 0.5, 0.2 (xfailed test)
    assert s["calls"] == 4
    assert s["latency_p50_s"] == pytest.approx(0.25)
    assert s["latency_p95_s"] == pytest.approx(0.47)
    assert (s["ttft_p50_s"], s["ttft_p95_s"]) == (pytest.approx(0.02), pytest.approx(0.02))
    assert s["latency_source"] == "mixed"
    assert (s["replayed_calls"], s["live_calls"], s["retries"]) == (1, 3, 2)
    assert s["cost_usd"] == pytest.approx(3e-5)
    assert s["cost_unknown_calls"] == 1
    assert (s["input_tokens"], s["output_tokens"]) == (48, 12)


def test_summary_of_replayed_calls_says_the_latency_is_recorded() -> None:
    summary = summarize_models([entry("t.py::a", B, replayed=True)], [A, B])
    assert list(summary) == [B]
    assert summary[B]["latency_source"] == "recorded"
    assert summary[B]["replayed_calls"] == 1


# -- check kinds ---------------------------------------------------------------------------------


def test_every_registered_check_has_a_kind_in_the_table() -> None:
    from llmassert._checks._base import check_names

    assert sorted(set(check_names()) - CHECK_KINDS.keys()) == []
    assert set(CHECK_KINDS.values()) <= set(KINDS)
    assert (check_kind("not_regex"), check_kind("my_check"), check_kind("judge")) == (
        "format",
        "custom",
        "judge",
    )


def test_the_docs_list_the_same_kind_table() -> None:
    text = (Path(__file__).parent.parent / "docs" / "reports.md").read_text(encoding="utf-8")
    for kind in KINDS:
        names = sorted(n for n, k in CHECK_KINDS.items() if k == kind)
        row = next(
            line for line in text.splitlines() if line.startswith((f"| {kind} |", f"| `{kind}` |"))
        )
        assert all(f"`{n}`" in row for n in names), (kind, row)


# -- schema, finalize, load --------------------------------------------------------------------


def report(**meta: Any) -> dict[str, Any]:
    tests = clear_win()
    tests.append(
        entry(
            "t.py::judged",
            A,
            calls=[
                call(A),
                call("demo:judge", 1.5, 2e-3, purpose="judge"),
                call("demo:embed", 0.25, 4e-6, purpose="embedding", replayed=True),
                call("vectors", 0.5, None, purpose="embedding"),
            ],
        )
    )
    tests.append(repeated_entry("t.py::rep", B, 7, 10, ci=(0.4, 0.89)))
    return finalize(
        reversed(tests),
        {"run": {"models": [A, B], "record_mode": "once", "workers": 2}, **meta},
    )


def test_finalize_sorts_fills_and_validates_against_the_shipped_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(load_schema())
    r = report(created_at="2026-12-02T01:23:45Z", duration_s=12.5)
    validate_report(r)
    keys = [(t["key"], t["model"]) for t in r["tests"]]
    assert keys == sorted(keys)
    assert r["schema_version"] == 1
    assert r["tool"]["name"] == "llmassert"
    assert r["run"] == {"models": [A, B], "record_mode": "once", "workers": 2, "shards": 1}
    assert list(r["models"]) == [A, B]
    assert r["comparisons"][0]["only_a"] == ["t.py::judged"]
    assert r["judge"] == {
        "calls": 1,
        "cost_usd": 2e-3,
        "latency_s_total": 1.5,
        "replayed_calls": 0,
        "cost_unknown_calls": 0,
    }
    # embeddings calls are grader calls too, apart from the judge's and from the model's
    assert r["embedding"] == {
        "calls": 2,
        "cost_usd": 4e-6,
        "latency_s_total": 0.75,
        "replayed_calls": 1,
        "cost_unknown_calls": 1,
    }
    assert r["models"][A]["calls"] == 31  # 30 clear-win tests + the judged test's model call
    assert json.loads(to_json(r)) == r


def test_finalize_defaults() -> None:
    r = finalize([entry("t.py::a", B), entry("t.py::a", A)], {})
    validate_report(r)
    assert r["run"]["models"] == [A, B]  # order of first appearance (tests sorted)
    assert r["created_at"].endswith("Z")
    none = {
        "calls": 0,
        "cost_usd": None,
        "latency_s_total": 0.0,
        "replayed_calls": 0,
        "cost_unknown_calls": 0,
    }
    assert r["judge"] == r["embedding"] == none


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda r: r["tests"][3].update(outcome="passd"), "$.tests[3].outcome"),
        (lambda r: r["tests"][0].pop("model"), "$.tests[0]"),
        (
            lambda r: r["tests"][1]["samples"][0]["calls"][0].update(latency_s="fast"),
            "$.tests[1].samples[0].calls[0].latency_s",
        ),
        (lambda r: r["models"][A].update(pass_rate="high"), "$.models.demo:finetuned.pass_rate"),
        (lambda r: r.update(schema_version=2), "$.schema_version"),
    ],
)
def test_validation_names_the_json_path_of_the_problem(mutate: Any, where: str) -> None:
    r = copy.deepcopy(report())
    mutate(r)
    with pytest.raises(UsageError, match="not a valid llmassert report") as info:
        validate_report(r, "run.json")
    assert str(info.value).startswith("run.json: ")
    assert f"at {where}:" in str(info.value)


def test_load_report_errors_are_clear(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(to_json(report()), encoding="utf-8")
    assert load_report(good)["schema_version"] == 1
    cases = {
        "missing.json": (None, "no such report file (write one with pytest --llm-report"),
        "text.json": ("not json at all", "not JSON (line 1, column 1"),
        "nan.json": ('{"schema_version": 1, "duration_s": NaN}', "NaN is not JSON"),
        "list.json": ("[1, 2]", "the top level is a list"),
        "newer.json": ('{"schema_version": 2}', "upgrade llmassert"),
        "older.json": ('{"schema_version": 0}', "re-run the tests with this llmassert"),
        "other.json": ('{"tests": []}', "schema_version is null"),
        "bad.json": ('{"schema_version": 1}', "'tool' is a required property"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text, encoding="utf-8")
        with pytest.raises(UsageError) as info:
            load_report(path)
        assert str(info.value).startswith(f"{path}: "), info.value
        assert message in str(info.value), info.value


def test_finalize_counts_fixture_calls_in_their_model_and_grader_totals() -> None:
    fixture = {"scope": "module", "nodeid": "t.py", "first_test": "t.py::a"}
    groups = [
        {**fixture, "fixture": "zeta", "calls": [call(A, 0.5, 3e-5)]},
        {**fixture, "fixture": "alpha", "calls": [call(A, 0.5, None), call("demo:other", 0.5)]},
        {
            **fixture,
            "nodeid": "",
            "scope": "session",
            "fixture": "graded",
            "calls": [call("demo:embed", 0.25, 1e-6, purpose="embedding")],
        },
    ]
    r = finalize([entry("t.py::a", A), entry("t.py::a", B)], {"unattributed": groups})
    validate_report(r)
    assert [g["fixture"] for g in r["unattributed"]] == ["graded", "alpha", "zeta"]
    a = r["models"][A]
    assert (a["tests"], a["calls"], a["unattributed_calls"]) == (1, 3, 2)
    assert a["cost_usd"] == pytest.approx(1e-5 + 3e-5)
    assert a["cost_unknown_calls"] == 1
    assert (r["models"][B]["calls"], r["models"][B]["unattributed_calls"]) == (1, 0)
    assert "demo:other" not in r["models"]  # no test ran on it: listed only
    assert r["embedding"]["calls"] == 1
    assert r["comparisons"][0]["shared_tests"] == 1  # fixture calls are in no test
