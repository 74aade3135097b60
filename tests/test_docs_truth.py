"""The docs say only what is true today: every mention of a feature that is not built yet is
marked as planned, and the documented ways of installing llmassert into a project work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Features whose names are decided but which are not built yet.
PLANNED: dict[str, re.Pattern[str]] = {}
#: Words that mark a block as describing a planned (or reserved, refused) feature.
MARKED = re.compile(r"planned|not available yet|not built yet|usage error", re.IGNORECASE)
_ITEM = re.compile(r"^\s*(?:[-*] |\d+\. |\|)")


def blocks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of every paragraph, list item and table row outside code fences."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    fenced = False

    def close() -> None:
        if current:
            out.append((start, " ".join(current)))
            current.clear()

    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            close()
            fenced = not fenced
            continue
        if fenced:
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            close()
            continue
        if _ITEM.match(line):
            close()
        if not current:
            start = number
        current.append(line.strip())
    close()
    return out


def test_blocks_split_paragraphs_items_and_rows() -> None:
    text = "a\nb\n\n- one\n  more\n- two\n| r1 |\n| r2 |\n```\ncase file\n```\n## case files"
    assert blocks(text) == [
        (1, "a b"),
        (4, "- one more"),
        (6, "- two"),
        (7, "| r1 |"),
        (8, "| r2 |"),
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_planned_features_are_marked_as_planned(page: Path) -> None:
    unmarked = [
        f"{page.name}:{line}: {feature}: {block[:120]}"
        for line, block in blocks(page.read_text(encoding="utf-8"))
        for feature, pattern in PLANNED.items()
        if pattern.search(block) and not MARKED.search(block)
    ]
    assert not unmarked, "mentions of unbuilt features not marked as planned:\n" + "\n".join(
        unmarked
    )


def test_readme_and_getting_started_say_how_to_install_without_a_package_index() -> None:
    for page in (ROOT / "README.md", ROOT / "docs" / "getting-started.md"):
        text = page.read_text(encoding="utf-8")
        assert "pip install -e /path/to/llmassert" in text, page.name
        assert "git+https://" in text, page.name
        assert "pip wheel --no-deps -w dist /path/to/llmassert" in text, page.name
        assert "pip install dist/llmassert-*.whl" in text, page.name


def test_a_built_wheel_installs_the_plugin_and_the_cli(tmp_path: Path) -> None:
    """The documented wheel route: build, install (here into a target folder that shadows the
    development checkout), and the installed copy is what pytest and the CLI load."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("llmassert-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), wheel],
        check=True,
        capture_output=True,
    )
    assert (target / "llmassert" / "py.typed").is_file()
    for asset in ("report.html", "report.css", "report.js"):  # the HTML report's package data
        assert (target / "llmassert" / "_reports" / "html" / asset).is_file(), asset
    assert (target / "llmassert" / "_reports" / "report.schema.json").is_file()  # package data
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    env.pop("PYTEST_ADDOPTS", None)
    where = subprocess.run(
        [sys.executable, "-c", "import llmassert; print(llmassert.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    assert Path(where.strip()).is_relative_to(target)
    version = subprocess.run(
        [sys.executable, "-m", "llmassert", "--version"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    assert version.strip().endswith(wheel.name.split("-")[1])
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nllm_models = ["demo:prompted"]\n', encoding="utf-8"
    )
    (project / "test_app.py").write_text(
        textwrap.dedent(
            """
            def test_capital(llm):
                assert "Paris" in llm.complete("What is the capital of France?").text
            """
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
