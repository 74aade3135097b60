"""Every example in examples/ runs as part of the test suite, exactly as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_examples_pass_offline_against_the_demo_endpoint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("PYTEST_ADDOPTS", None)
    # A key in the environment must never switch the target: plant fake ones.
    env["OPENAI_API_KEY"] = "sk-planted-never-used"
    env["ANTHROPIC_API_KEY"] = "sk-ant-planted-never-used"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-o",
            f"llm_recordings_dir={tmp_path / 'recordings'}",
        ],
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    summary = re.search(r"(\d+) passed", output)
    assert summary is not None, output
    assert int(summary.group(1)) >= 10, output
    assert "failed" not in output.splitlines()[-1], output
    # the run ends with the llmassert section: both demo models, side by side
    assert "= llmassert =" in output, output
    section = output[output.index("= llmassert =") :]
    assert "demo:prompted" in section, section
    assert "demo:finetuned" in section, section
    assert "demo:prompted vs demo:finetuned: " in section, section  # the comparison's verdict
