"""``llmassert dataset check`` speed and memory on 10,000 and 100,000 chat records.

Each size is exported with the template, then checked by the real command in a fresh process
(target for 100,000 records: < 10 s on this machine, peak RSS flat: about the same at 10k and 100k).
Prints records/s and the checking process's peak RSS.

    .venv/bin/python benchmarks/dataset_check.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmassert import PromptTemplate, export_dataset

TEMPLATE = """system: "You are Acme's support bot."
user: "Question: {{ input }}\\n\\n###\\n\\n"
assistant: " {{ output }}"
"""

CHILD = """
import resource, sys
from llmassert._cli import main
code = main(["dataset", "check", sys.argv[1], "--template", sys.argv[2]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, code)
"""


def run(size: int, workdir: Path) -> None:
    template_file = workdir / "t.yaml"
    template_file.write_text(TEMPLATE, encoding="utf-8")
    template = PromptTemplate.from_dict(
        {
            "system": "You are Acme's support bot.",
            "user": "Question: {{ input }}\n\n###\n\n",
            "assistant": " {{ output }}",
        }
    )
    data = workdir / f"train-{size}.jsonl"
    examples = (
        {"input": f"Where is order {i}? It was due on day {i % 28}.", "output": f"Order {i} ships."}
        for i in range(size)
    )
    export_dataset(examples, template, data)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), str(template_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    rss_kb, code = proc.stdout.split()[-2:]
    print(
        f"{size:>7} records: {wall:6.2f} s, {size / wall:9.0f} records/s, "
        f"peak RSS {int(rss_kb) / 1024:6.1f} MB, exit {code}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            run(size, Path(tmp))


if __name__ == "__main__":
    main()
