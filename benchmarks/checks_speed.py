"""Cost of the checks against doing the same thing by hand, measured in the same run.

Run from the project root: ``.venv/bin/python benchmarks/checks_speed.py``. Each line prints
the time per call of the llmassert check and of a hand-written baseline, and their ratio.
"""

from __future__ import annotations

import json as std_json
import re
import timeit
from collections.abc import Callable

from llmassert import contains, json, matches_schema, pii, regex

SCHEMA = {
    "type": "object",
    "required": ["name", "age", "tags"],
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
DOC = std_json.dumps({"name": "Ada", "age": 36, "tags": ["math", "engines"] * 5})
TEXT = "The capital of France is Paris. " * 30


def per_call(fn: Callable[[], object]) -> float:
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=3, number=number)) / number


def row(label: str, ours: Callable[[], object], baseline: Callable[[], object]) -> None:
    a, b = per_call(ours), per_call(baseline)
    print(f"{label:<44}{a * 1e6:>10.1f} us{b * 1e6:>12.1f} us{a / b:>9.2f}x")


def main() -> None:
    import jsonschema

    print(f"{'check (baseline)':<44}{'llmassert':>13}{'baseline':>15}{'ratio':>10}")
    is_paris = contains("Paris")
    row("contains (str.find)", lambda: is_paris(TEXT), lambda: TEXT.find("Paris"))
    digits = regex(r"\d{4}")
    pattern = re.compile(r"\d{4}")
    row("regex (re.search)", lambda: digits(TEXT), lambda: pattern.search(TEXT))
    is_json = json()
    row("json (json.loads)", lambda: is_json(DOC), lambda: std_json.loads(DOC))
    valid = matches_schema(SCHEMA)
    row(
        "matches_schema (jsonschema.validate)",
        lambda: valid(DOC),
        lambda: jsonschema.validate(std_json.loads(DOC), SCHEMA),
    )
    no_pii = ~pii()
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    row("not_pii (one e-mail regex)", lambda: no_pii(TEXT), lambda: email.search(TEXT))


if __name__ == "__main__":
    main()
