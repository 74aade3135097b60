"""Merging shard reports: the merged report equals a single run of the same tests."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from llmassert._errors import UsageError
from llmassert._reports import finalize, validate_report
from llmassert._reports._merge import comparable, merge_reports, without_timings
from reports_data import A, B, call, clear_win, entry, repeated_entry


def suite() -> list[dict[str, Any]]:
    tests = clear_win()
    tests += [repeated_entry(f"t.py::rep{i}", m, 6 + i, 10) for i in range(3) for m in (A, B)]
    tests.append(
        entry("t.py::judged", A, calls=[call(A), call("demo:judge", 1.0, 1e-3, purpose="judge")])
    )
    tests.append({**entry("t.py::skipped", B), "outcome": "skipped", "samples": []})
    return tests


def meta(workers: int = 1) -> dict[str, Any]:
    return {
        "created_at": "2026-12-02T01:00:00Z",
        "duration_s": 30.0,
        "run": {"models": [A, B], "record_mode": "none", "workers": workers},
    }


def shard(tests: list[dict[str, Any]], seconds: float, when: str) -> dict[str, Any]:
    return finalize(
        tests,
        {
            "created_at": when,
            "duration_s": seconds,
            "run": {"models": [A, B], "record_mode": "none"},
        },
    )


def test_merged_shards_equal_the_single_run() -> None:
    tests = suite()
    single = finalize(tests, meta(workers=3))
    shuffled = list(tests)
    random.Random(1).shuffle(shuffled)
    shards = [
        shard(shuffled[0::3], 10.0, "2026-12-02T01:00:05Z"),
        shard(shuffled[1::3], 12.5, "2026-12-02T01:00:09Z"),
        shard(shuffled[2::3], 11.0, "2026-12-02T01:00:07Z"),
    ]
    merged = merge_reports(shards, names=["s1.json", "s2.json", "s3.json"])
    validate_report(merged)
    # Identical data: identical everything but the run's metadata, timings included (the
    # bootstrap is seeded from the data, not from the order or the shard).
    assert merged["tests"] == single["tests"]
    assert merged["models"] == single["models"]
    assert merged["comparisons"] == single["comparisons"]
    assert merged["judge"] == single["judge"]
    assert merged["run"] == {"models": [A, B], "record_mode": "none", "workers": 3, "shards": 3}
    assert (merged["duration_s"], merged["created_at"]) == (12.5, "2026-12-02T01:00:09Z")
    # Merging merged reports adds up their shards.
    again = merge_reports([merged, shard([entry("t.py::late", A)], 1.0, "2026-12-02T02:00:00Z")])
    assert again["run"]["shards"] == 4


def test_equal_to_a_single_run_ignores_timings() -> None:
    tests = suite()
    single = finalize(tests, meta())
    retimed = copy.deepcopy(tests)
    for t in retimed:
        t["duration_s"] = 9.9
        for s in t["samples"]:
            for c in s["calls"]:
                c["latency_s"] = (c["latency_s"] or 0) * 1.1
    merged = merge_reports([shard(retimed[:40], 1, "x"), shard(retimed[40:], 1, "y")])
    assert comparable(merged) == comparable(single)
    assert merged["models"] != single["models"]  # the latency percentiles did change
    assert "median latency" not in comparable(single)["comparisons"][0]["verdict"]


def test_a_test_in_two_shards_is_an_error_naming_both_files() -> None:
    one = shard([entry("t.py::a", A), entry("t.py::b", A)], 1, "x")
    two = shard([entry("t.py::b", A, "failed")], 1, "y")
    with pytest.raises(UsageError) as info:
        merge_reports([one, two], names=["shard-1.json", "shard-2.json"])
    assert str(info.value) == (
        "merge: the test t.py::b[demo:finetuned] is in both shard-1.json (passed) and "
        "shard-2.json (failed) with different results: each test belongs to one shard (are two "
        "shards running the same tests?)"
    )


def test_an_identical_test_in_two_shards_is_kept_once() -> None:
    one = shard([entry("t.py::a", A), entry("t.py::b", A, duration=0.1)], 1, "x")
    two = shard([entry("t.py::b", A, duration=0.7)], 1, "y")
    merged = merge_reports([one, two])
    assert [t["nodeid"] for t in merged["tests"]] == [
        "t.py::a[demo:finetuned]",
        "t.py::b[demo:finetuned]",
    ]
    assert merged["tests"][1]["duration_s"] == 0.1  # the first shard's entry


def test_different_schema_versions_are_an_error() -> None:
    one = shard([entry("t.py::a", A)], 1, "x")
    two = {**shard([entry("t.py::b", A)], 1, "y"), "schema_version": 2}
    with pytest.raises(
        UsageError, match=r"different schema versions \(a.json has schema_version 1, b.json has 2\)"
    ):
        merge_reports([one, two], names=["a.json", "b.json"])
    with pytest.raises(UsageError, match="no report"):
        merge_reports([])


def test_record_modes_that_differ_are_mixed() -> None:
    one = shard([entry("t.py::a", A)], 1, "x")
    two = shard([entry("t.py::b", A)], 1, "y")
    two["run"]["record_mode"] = "once"
    assert merge_reports([one, two])["run"]["record_mode"] == "mixed"


def test_without_timings_is_recursive() -> None:
    value = {
        "duration_s": 1,
        "a": [{"latency_s": 2, "b": 3}],
        "verdict": "x: +1 pts; median latency 2× lower; mean cost 1× lower",
    }
    assert without_timings(value) == {"a": [{"b": 3}], "verdict": "x: +1 pts; mean cost 1× lower"}
