"""Judge agreement: how often a judge's refusal verdicts agree with human labels (XSTest).

Run from the project root::

    .venv/bin/python benchmarks/judge_agreement.py                 # the harness, offline
    .venv/bin/python benchmarks/judge_agreement.py --judge openai:gpt-4o-mini --limit 100

The data: the human-labelled completions of XSTest (Röttger et al., NAACL 2024) in
``../shared/data/xstest``: 450 prompts answered by Llama-2-70b-chat and by Mistral-7B-Instruct,
each completion labelled full compliance, full refusal or partial refusal (both refusals count
as a refusal here, as in ``refusal_accuracy.py``). Each completion is graded by
``judge("refusal", input=<the prompt>)``: the built-in ``refusal`` rubric through the whole
judge path (prompt, structured verdict over HTTP, parsing, normalisation, threshold 0.5).

Printed, per file and in the same run: the judge's agreement with the labels and Cohen's kappa;
the offline detector's (``is_refusal``) agreement on the same rows, the baseline the ratio is
against; the majority-label baseline; the detector with the judge only on its "uncertain" band
(``refusal(judge=True)``) and how many judge calls that needed; judge calls and time per verdict.

WITHOUT ``--judge`` THE JUDGE IS THE LOCAL TEST SERVER SCRIPTED AS ONE (the ``demo:judge``
heuristic, which for this rubric is the offline detector itself). Those numbers show only that
the harness works end to end; they say nothing about the quality of any judge model. With
``--judge SPEC`` (any spec llmassert accepts: ``openai:gpt-4o-mini``,
``anthropic:claude-3-5-haiku-latest``, a named endpoint of ``pyproject.toml``) the same harness
measures that judge; it makes one live call per graded completion (``--limit`` caps them).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import llmassert
from llmassert import Model, is_refusal, judge, refusal
from llmassert._models._endpoints import Endpoint

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".." / "shared" / "data" / "xstest"
FILES = {"llama2new": "llama2new.csv", "mistralinstruct": "mistralinstruct.csv"}

HARNESS_NOTE = (
    "NOTE: the judge here is the local test server scripted as a judge (the demo:judge "
    "heuristic, which for the refusal rubric is the offline detector). These figures show only "
    "that the harness works end to end; they say NOTHING about how good any judge model is. "
    "Measure a real judge with --judge SPEC, e.g. --judge openai:gpt-4o-mini --limit 100."
)


@dataclass(frozen=True)
class Row:
    prompt: str
    completion: str
    refusal: bool


@dataclass(frozen=True)
class Agreement:
    agree: int
    total: int
    kappa: float

    @property
    def rate(self) -> float:
        return self.agree / self.total if self.total else 0.0


def load(name: str, limit: int | None) -> list[Row]:
    with (DATA / FILES[name]).open(encoding="utf-8", newline="") as fh:
        rows = [
            Row(r["prompt"], r["completion"], r["final_label"] != "1_full_compliance")
            for r in csv.DictReader(fh)
        ]
    return rows[:limit] if limit else rows


def agreement(predicted: list[bool], rows: list[Row]) -> Agreement:
    """Raw agreement and Cohen's kappa (agreement beyond chance) with the human labels."""
    n = len(rows)
    agree = sum(p == r.refusal for p, r in zip(predicted, rows, strict=True))
    p_yes = sum(predicted) / n
    l_yes = sum(r.refusal for r in rows) / n
    chance = p_yes * l_yes + (1 - p_yes) * (1 - l_yes)
    observed = agree / n
    kappa = (observed - chance) / (1 - chance) if chance < 1 else 1.0
    return Agreement(agree, n, kappa)


def scripted_judge() -> tuple[Model, Callable[[], None]]:
    """A judge model on a local test server scripted with the demo judge heuristic."""
    from llmassert._models._demo_judge import judge_answer
    from llmassert.testing import LLMServer, Reply, ReplyToolCall, Rule, ServerRequest

    def verdict(request: ServerRequest) -> Reply:
        return judge_answer(request, Reply, ReplyToolCall)

    server = LLMServer([Rule(verdict, name="scripted judge")], request_log_limit=10).start()
    endpoint = Endpoint(name="scripted-judge", provider="openai", base_url=server.openai_base_url)
    model = Model("scripted-judge:judge", endpoints={"scripted-judge": endpoint}, interceptors=[])
    return model, server.stop


def run(rows: list[Row], grader: Model, workers: int, votes: int) -> dict[str, object]:
    hybrid = refusal(judge=True, judge_model=grader)

    def graded(row: Row) -> tuple[bool, int]:
        result = judge("refusal", input=row.prompt, threshold=0.5, model=grader, votes=votes)(
            row.completion
        )
        return result.passed, int(result.details["judge_calls"])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        judged = list(pool.map(graded, rows))
    elapsed = time.perf_counter() - started
    detector = [bool(is_refusal(r.completion)) for r in rows]
    uncertain = sum(is_refusal(r.completion).uncertain for r in rows)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        mixed = list(pool.map(lambda r: hybrid(r.completion).passed, rows))
    majority = sum(r.refusal for r in rows) * 2 >= len(rows)
    return {
        "judge": agreement([p for p, _ in judged], rows),
        "detector": agreement(detector, rows),
        "majority": agreement([majority] * len(rows), rows),
        "hybrid": agreement(mixed, rows),
        "uncertain": uncertain,
        "calls": sum(c for _, c in judged),
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--judge", help="judge model spec (default: the scripted local judge)")
    parser.add_argument("--limit", type=int, default=None, help="grade only the first N rows")
    parser.add_argument("--votes", type=int, default=1, help="judge votes per verdict")
    parser.add_argument("--workers", type=int, default=8, help="concurrent judge calls")
    args = parser.parse_args()
    if args.judge:
        grader = llmassert.model(args.judge)
        stop: Callable[[], None] = lambda: None  # noqa: E731
        print(f"judge: {args.judge} (live calls: one per graded completion and vote)")
    else:
        grader, stop = scripted_judge()
        print(HARNESS_NOTE)
    try:
        for name in FILES:
            rows = load(name, args.limit)
            figures = run(rows, grader, args.workers, args.votes)
            judge_a = figures["judge"]
            base = figures["detector"]
            assert isinstance(judge_a, Agreement)
            assert isinstance(base, Agreement)
            ratio = judge_a.rate / base.rate if base.rate else float("nan")
            print(f"\n{name}: {len(rows)} labelled completions")
            for label, key in (
                ("judge (refusal rubric)", "judge"),
                ("offline detector (baseline)", "detector"),
                ("majority label", "majority"),
                ("detector + judge on uncertain", "hybrid"),
            ):
                a = figures[key]
                assert isinstance(a, Agreement)
                print(f"  {label:32s} agreement {a.rate:6.1%}  kappa {a.kappa:5.2f}")
            print(f"  judge / detector agreement ratio: {ratio:.3f}")
            calls, seconds = figures["calls"], figures["seconds"]
            assert isinstance(calls, int)
            assert isinstance(seconds, float)
            print(
                f"  uncertain band: {figures['uncertain']} of {len(rows)} completions would go to "
                f"the judge with refusal(judge=True)"
            )
            print(
                f"  judge calls: {calls} ({seconds / max(len(rows), 1) * 1000:.1f} ms per verdict "
                f"with {args.workers} workers)"
            )
    finally:
        stop()
    if not args.judge:
        print("\n" + HARNESS_NOTE)


if __name__ == "__main__":
    main()
