"""``llmassert serve`` in a subprocess: the two URL lines, real SDK calls, clean signal exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from llmassert.testing._server import is_loopback


def _serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "llmassert", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _urls(process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None
    lines = [process.stdout.readline().strip() for _ in range(2)]
    assert [line.split("=", 1)[0] for line in lines] == ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - prompt_regex: capital of France\n    reply: Paris\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def served(rules_file: Path) -> Iterator[subprocess.Popen[str]]:
    process = _serve("--rules", str(rules_file))
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_prints_urls_answers_sdks_and_exits_0_on_signal(
    served: subprocess.Popen[str], sig: signal.Signals
) -> None:
    urls = _urls(served)
    assert urls["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
    assert urls["OPENAI_BASE_URL"].endswith("/v1")
    assert urls["ANTHROPIC_BASE_URL"] == urls["OPENAI_BASE_URL"][: -len("/v1")]
    client = openai.OpenAI(base_url=urls["OPENAI_BASE_URL"], api_key="k", max_retries=0)
    completion = client.chat.completions.create(
        model="any", messages=[{"role": "user", "content": "What is the capital of France?"}]
    )
    assert completion.choices[0].message.content == "Paris"
    message = anthropic.Anthropic(
        base_url=urls["ANTHROPIC_BASE_URL"], api_key="k", max_retries=0
    ).messages.create(
        model="claude-any",
        max_tokens=16,
        messages=[{"role": "user", "content": "echo this"}],
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "echo this"
    served.send_signal(sig)
    _, stderr = served.communicate(timeout=15)
    assert served.returncode == 0
    assert "1 rule(s) from" in stderr
    assert "POST /v1/chat/completions model=any prompt='What is the capital of France?'" in stderr
    assert "POST /v1/messages model=claude-any prompt='echo this'" in stderr
    assert "Traceback" not in stderr


def test_serve_on_a_fixed_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _serve("--port", str(port), "--quiet")
    try:
        base_url = _urls(process)["OPENAI_BASE_URL"]
        assert base_url == f"http://127.0.0.1:{port}/v1"
        client = openai.OpenAI(base_url=base_url, api_key="k", max_retries=0)
        assert client.completions.create(model="m", prompt="quiet").choices[0].text == "quiet"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "POST" not in stderr


def test_serve_warns_loudly_on_a_public_interface() -> None:
    process = _serve("--host", "0.0.0.0")
    try:
        base_url = _urls(process)["OPENAI_BASE_URL"]
        assert base_url.startswith("http://127.0.0.1:")  # where a local client connects
        client = openai.OpenAI(base_url=base_url, api_key="k", max_retries=0)
        assert (
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            .choices[0]
            .message.content
            == "hi"
        )
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "WARNING: binding the llmassert test server to 0.0.0.0" in stderr


def test_serve_with_a_bad_rules_file_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - promt: x\n", encoding="utf-8")
    process = _serve("--rules", str(bad))
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert stdout == ""
    assert "llmassert serve: error: rules file" in stderr
    assert "bad.yaml: rule 0: unknown field(s) promt" in stderr
    assert "Traceback" not in stderr


def test_serve_imports_rule_callables_from_next_to_the_rules_file(tmp_path: Path) -> None:
    (tmp_path / "cli_hooks.py").write_text(
        "def loud(request):\n    return request.prompt.upper()\n", encoding="utf-8"
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - reply_from: cli_hooks:loud\n", encoding="utf-8")
    process = _serve("--rules", str(rules), "--quiet")  # cwd: the project, not tmp_path
    try:
        base_url = _urls(process)["OPENAI_BASE_URL"]
        client = openai.OpenAI(base_url=base_url, api_key="k", max_retries=0)
        assert client.completions.create(model="m", prompt="hey").choices[0].text == "HEY"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("::", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
