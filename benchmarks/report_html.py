"""HTML report at scale: a 10,000-test report (two models) in headless Chromium.

Prints the file size (and the plain JSON report's size), the time to render the page in Python,
and, in the browser, the time from navigation until the per-model summary is rendered (target:
< 2 s) and until the first page of tests is shown, against a baseline measured in the same run:
a trivial HTML page that marks the same point as soon as its script runs. Best of ``--repeat``
fresh navigations.

    .venv/bin/python benchmarks/report_html.py [--tests 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _browser import start_chromium  # noqa: E402
from _synthetic_reports import synthetic_report  # noqa: E402
from llmassert._reports._html import render_html  # noqa: E402

BASELINE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>baseline</title>
</head><body><h1>baseline</h1><p id="x"></p><script>
document.getElementById("x").textContent = "rendered";
performance.mark("llm-summary"); performance.mark("llm-tests");
document.documentElement.dataset.tests = "ready";
</script></body></html>
"""


def _navigate(chrome: object, url: str) -> tuple[float, float]:
    """(ms to the summary mark, ms to the tests mark) of one fresh navigation."""
    from selenium.webdriver.support.wait import WebDriverWait

    chrome.get("about:blank")  # type: ignore[attr-defined]
    chrome.get(url)  # type: ignore[attr-defined]
    WebDriverWait(chrome, 30).until(
        lambda d: d.execute_script("return document.documentElement.dataset.tests") == "ready"
    )
    summary, tests = chrome.execute_script(  # type: ignore[attr-defined]
        "return ['llm-summary', 'llm-tests'].map(n => performance.getEntriesByName(n)[0].startTime)"
    )
    return float(summary), float(tests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000, help="test entries (all models)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    report = synthetic_report(args.tests // 2, only_first_model=0)
    started = time.perf_counter()
    page = render_html(report)
    render_s = time.perf_counter() - started
    size = len(page.encode())
    plain = len(json.dumps(report, separators=(",", ":")).encode())

    with tempfile.TemporaryDirectory() as tmp:
        report_path, baseline_path = Path(tmp, "report.html"), Path(tmp, "baseline.html")
        report_path.write_text(page, encoding="utf-8")
        baseline_path.write_text(BASELINE, encoding="utf-8")
        chrome = start_chromium()
        try:
            _navigate(chrome, report_path.as_uri())  # warm up the browser process
            base = [_navigate(chrome, baseline_path.as_uri()) for _ in range(args.repeat)]
            runs = [_navigate(chrome, report_path.as_uri()) for _ in range(args.repeat)]
            dom = chrome.execute_script("return document.getElementsByTagName('*').length")
        finally:
            chrome.quit()

    base_ms = min(b[0] for b in base)
    summary_ms = min(r[0] for r in runs)
    tests_ms = min(r[1] for r in runs)
    print(f"report: {len(report['tests']):,} tests on 2 models")
    print(
        f"file size: {size / 1e6:.2f} MB (plain JSON report: {plain / 1e6:.2f} MB, "
        f"{size / plain:.2f}x)"
    )
    print(f"render_html: {render_s * 1000:.0f} ms")
    print(f"baseline (trivial page, navigation to its script): {base_ms:.0f} ms")
    print(
        f"navigation -> summary rendered: {summary_ms:.0f} ms "
        f"({summary_ms / base_ms:.1f}x baseline; target < 2000 ms: "
        f"{'ok' if summary_ms < 2000 else 'MISSED'})"
    )
    print(
        f"navigation -> first page of tests shown: {tests_ms:.0f} ms "
        f"({tests_ms / base_ms:.1f}x baseline)"
    )
    print(f"elements in the DOM with the first page shown: {dom:,}")


if __name__ == "__main__":
    main()
