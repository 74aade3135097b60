"""The HTML report without a browser: one self-contained file, the report embedded once and
safely, packed compactly and losslessly (the browser tests check the rendering itself)."""

from __future__ import annotations

import copy
import json
import os
import re
import stat
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from _synthetic_reports import HOSTILE, synthetic_report
from llmassert._errors import UsageError
from llmassert._files import current_umask
from llmassert._reports._html import FIELDS, pack_tests, render_html, write_html

_SCRIPT = re.compile(r'<script type="application/json" id="([\w-]+)">(.*?)</script>', re.S)


def unpack(packed: dict[str, Any]) -> list[dict[str, Any]]:
    """Python twin of ``unpackTests`` in report.js (the browser tests check the JS one)."""
    strings, fields, texts = packed["strings"], packed["fields"], packed["text"]

    def text(x: Any) -> Any:
        if isinstance(x, int):
            return strings[x]
        return None if x is None else x["j"]

    def prompt(x: Any) -> Any:
        if isinstance(x, list):
            return [{"role": text(r), "content": text(c)} for r, c in x]
        return text(x)

    def objects(x: Any, kind: str) -> Any:
        if isinstance(x, list):
            return [obj(a, kind) for a in x]
        return None if x is None else x["j"]

    special = {
        "prompt": prompt,
        "samples": lambda v: objects(v, "sample"),
        "calls": lambda v: objects(v, "call"),
        "checks": lambda v: objects(v, "check"),
        "nodeid": lambda v: v,
    }

    def obj(a: list[Any], kind: str) -> dict[str, Any]:
        names = fields[kind]
        out: dict[str, Any] = {}
        for i, name in enumerate(names):
            v = a[i] if i < len(a) else None
            if name in special:
                out[name] = special[name](v)
            elif name in texts[kind]:
                out[name] = text(v)
            else:
                out[name] = v
        if len(a) > len(names):
            out.update(a[len(names)])
        return out

    tests = []
    for a in packed["tests"]:
        t = obj(a, "test")
        n = t["nodeid"]
        t["nodeid"] = f"{t['key']}[{t['model']}]" if n == -1 else t["key"] if n == -2 else text(n)
        tests.append(t)
    return tests


def embedded(page: str) -> dict[str, Any]:
    """The JSON blocks of a rendered page, by id."""
    return {m.group(1): json.loads(m.group(2)) for m in _SCRIPT.finditer(page)}


def test_the_report_round_trips_through_the_page() -> None:
    report = synthetic_report(30)
    blocks = embedded(render_html(report))
    assert set(blocks) == {"llm-meta", "llm-tests"}
    assert blocks["llm-meta"] == {k: v for k, v in report.items() if k != "tests"}
    assert unpack(blocks["llm-tests"]) == report["tests"]


def test_packing_keeps_unknown_fields_odd_shapes_and_nulls() -> None:
    base = synthetic_report(2, only_first_model=0)["tests"]
    tests = copy.deepcopy(base[:2])
    first, second = tests
    first["nodeid"] = "tests/test_x.py::test_y[custom-id]"  # not key[model]
    first["new_field"] = {"added": "later"}
    first["message"] = 42  # a number where a text is expected
    call = first["samples"][0]["calls"][0]
    call["prompt"] = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    call["extra_call_field"] = True
    first["samples"][0]["checks"][0]["score"] = 0.5
    second["nodeid"] = second["key"]
    second["samples"] = None
    second["verdict"] = None
    second["markers"] = ["slow", "llm"]
    assert unpack(pack_tests(tests)) == tests


def test_missing_fields_read_back_as_null() -> None:
    packed = pack_tests([{"nodeid": "a::b", "key": "a::b", "model": "", "outcome": "passed"}])
    (test,) = unpack(packed)
    assert test["outcome"] == "passed"
    assert test["nodeid"] == "a::b"
    assert test["samples"] is None
    assert set(test) == set(FIELDS["test"])


def test_shared_text_is_stored_once() -> None:
    report = synthetic_report(40)
    packed = pack_tests(report["tests"])
    assert len(packed["strings"]) == len(set(packed["strings"]))
    system = report["tests"][0]["samples"][0]["calls"][0]["prompt"][0]["content"]
    assert render_html(report).count(system) == 1


def test_script_breaking_text_stays_inside_the_json() -> None:
    report = synthetic_report(8)
    assert any(
        HOSTILE in c["output"] for t in report["tests"] for s in t["samples"] for c in s["calls"]
    )
    page = render_html(report)
    # Exactly our three scripts (two JSON blocks, the code), and no comment opened by data.
    assert page.count("<script") == 3
    assert page.count("</script>") == 3
    assert "<!--" not in page
    assert "pwned" in page  # the text is there, escaped
    assert "\u2028" not in page
    assert "\u2029" not in page
    assert unpack(embedded(page)["llm-tests"]) == report["tests"]


def test_a_title_with_markup_is_escaped() -> None:
    report = synthetic_report(2, models=("<b>m1</b>", "m&2"))
    page = render_html(report)
    title = re.search(r"<title>(.*)</title>", page)
    assert title is not None
    assert (
        title.group(1)
        == "llmassert report: &lt;b&gt;m1&lt;/b&gt; vs m&amp;2 (2026-12-02T01:23:45Z)"
    )


def test_the_page_loads_nothing_from_anywhere() -> None:
    page = render_html(synthetic_report(6, seed=3))
    code = "\n".join(
        resources.files("llmassert._reports")
        .joinpath("html")
        .joinpath(name)
        .read_text(encoding="utf-8")
        for name in ("report.html", "report.css", "report.js")
    )
    outside_data = _SCRIPT.sub("", page)  # JSON blocks are data (here with a URL in an output)
    assert outside_data.count("<script") == 1
    for text in (code, outside_data):
        assert "http://" not in text
        assert "https://" not in text
    for pattern in (
        r"\bsrc\s*=",
        r"\bhref\s*=",
        r"url\(",
        r"@import",
        r"\bfetch\(",
        r"XMLHttpRequest",
        r"\bimport\(",
        r"<link\b",
        r"<img\b",
        r"<iframe\b",
        r"\.innerHTML\b",
    ):
        assert not re.search(pattern, code), pattern


def test_an_empty_report_is_a_small_page() -> None:
    report = synthetic_report(0)
    page = render_html(report)
    assert len(page.encode()) < 60_000
    assert embedded(page)["llm-tests"]["tests"] == []


def test_ten_thousand_tests_fit_in_a_small_file() -> None:
    report = synthetic_report(5000)
    assert len(report["tests"]) == 9998  # two ran on one model only
    page = render_html(report).encode()
    plain = json.dumps(report, separators=(",", ":")).encode()
    assert len(page) < 4_000_000, len(page)
    assert len(page) < 0.35 * len(plain), (len(page), len(plain))


def test_nan_and_non_json_values_are_usage_errors() -> None:
    report = synthetic_report(2)
    report["duration_s"] = float("nan")
    with pytest.raises(UsageError, match="not plain JSON"):
        render_html(report)
    report = synthetic_report(2)
    report["tests"][0]["duration_s"] = object()
    with pytest.raises(UsageError, match="not plain JSON"):
        render_html(report)


@pytest.mark.parametrize(
    ("report", "match"),
    [
        ([], "a run report is a JSON object, got list"),
        ({"tests": {"a": 1}}, '"tests" must be a list of objects'),
        ({"tests": ["x"]}, '"tests" must be a list of objects'),
    ],
)
def test_not_a_report_is_a_usage_error(report: Any, match: str) -> None:
    with pytest.raises(UsageError, match=re.escape(match)):
        render_html(report)


def test_lone_surrogates_do_not_stop_the_page_from_being_written(tmp_path: Path) -> None:
    report = synthetic_report(2)
    report["tests"][0]["message"] = "bad \udcff byte"
    target = write_html(report, tmp_path / "r.html")
    text = target.read_text(encoding="utf-8")
    assert "bad ? byte" in unpack(embedded(text)["llm-tests"])[0]["message"]


def test_write_html_replaces_the_file_atomically_with_a_shared_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.html"
    write_html(synthetic_report(3), target)
    first = target.read_text(encoding="utf-8")
    write_html(synthetic_report(5), target)
    second = target.read_text(encoding="utf-8")
    assert first != second
    assert second.startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~current_umask()
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_report_html_command_writes_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmassert._cli import main

    report = synthetic_report(40)
    source = tmp_path / "run.json"
    source.write_text(json.dumps(report), encoding="utf-8")
    assert main(["report", "html", str(source), "-o", str(tmp_path / "out" / "run.html")]) == 0
    page = (tmp_path / "out" / "run.html").read_text(encoding="utf-8")
    assert page == render_html(report)
    kb = round((tmp_path / "out" / "run.html").stat().st_size / 1e3)
    assert capsys.readouterr().out == f"wrote {tmp_path / 'out' / 'run.html'} ({kb} kB, 78 tests)\n"
    assert main(["report", "html", str(source)]) == 0  # default: beside the report
    assert (tmp_path / "run.html").read_text(encoding="utf-8") == page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json"], "missing.json: no such report file"),
        (["run.json", "-o", "run.json"], "-o run.json: is the report itself"),
        (["run.json", "-o", "."], "-o .: is a directory"),
        (["bad.json"], "bad.json: not JSON (line 1, column 1"),
    ],
)
def test_report_html_command_errors_are_one_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from llmassert._cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps(synthetic_report(2)), encoding="utf-8")
    (tmp_path / "bad.json").write_text("<html>", encoding="utf-8")
    assert main(["report", "html", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"llmassert report: error: {message}"), err
    assert len(err.splitlines()) == 1
