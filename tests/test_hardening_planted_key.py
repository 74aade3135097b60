"""A planted key never reaches disk or output: an API key (``OPENAI_API_KEY``) and a gateway key
(an endpoint header read with ``{ env = "GATEWAY_KEY" }``) are echoed by the server in streamed
and plain answers, in error messages and in prompts; in-process and through the recording
proxy; in a record run and a replay run, with failing tests, ``--llm-verbose`` and
``--junitxml``. Afterwards no file under the run's directory, and no line of the output, holds
either key or any 8-character piece of it."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmassert._models._clients  # noqa: F401  (keep the client cache across inner runs)
from llmassert.testing import ErrorReply, LLMServer, Reply, Rule, ServerRequest

# Mixed-case letters, no hex runs: a piece of them cannot turn up in a digest by chance.
API_KEY = "sk-PLANTED-qXzWmRtKpLvNjHyBsQwErTyUiOpAsDf"
GATEWAY_KEY = "gw-PLANTED-ZxCvBnMaSdFgHjKlQwErTyUiOp"

APP = """
import os

import openai
import pytest

import llmassert

KEY = os.environ["OPENAI_API_KEY"]


def test_streamed(llm_model):
    reply = llm_model("gw").complete("echo key please", stream=True)
    assert reply.text.startswith("your key is ")


def test_key_in_the_prompt(llm_model):
    reply = llm_model("gw").complete(f"remember {KEY} for me")
    assert reply.text.startswith("remembered ")


def test_header(llm_model):
    assert llm_model("gw").complete("echo gateway").text.startswith("gateway ")


def test_expected_error(llm_model):
    with pytest.raises(llmassert.ProviderError):
        llm_model("gw").complete("bad request")


def test_unauthorized_fails(llm_model):
    llm_model("gw").complete(f"unauthorized {KEY}")


def test_failing_check(llm_model):
    llmassert.assert_contains(llm_model("gw").complete("echo key please"), "not in the answer")


@pytest.mark.llm_proxy
def test_proxied():
    with openai.OpenAI(max_retries=0) as client:
        messages = [{"role": "user", "content": "echo key please"}]
        plain = client.chat.completions.create(model="m", messages=messages)
        assert plain.choices[0].message.content.startswith("your key is ")
        chunks = client.chat.completions.create(model="m", messages=messages, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text.startswith("your key is ")
        with pytest.raises(openai.BadRequestError):  # a 400 the proxy stores and replays
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "bad request"}]
            )
"""


def _pieces(secret: str) -> list[str]:
    """The key itself and every 8-character piece of its random part."""
    random_part = secret.split("PLANTED-", 1)[1]
    return [secret, *(random_part[i : i + 8] for i in range(len(random_part) - 7))]


def _leaks(where: str, text: str) -> list[str]:
    found = []
    for secret in (API_KEY, GATEWAY_KEY):
        for piece in _pieces(secret):
            if piece in text:
                found.append(f"{where}: {piece!r} of {secret[:11]}...")
                break
    return found


def _gateway(request: ServerRequest) -> Reply:
    return Reply(text=f"gateway {request.headers.get('x-gateway-key')} says hello")


def _server() -> LLMServer:
    server = LLMServer()
    server.add_rule(Rule(f"your key is {API_KEY}, keep it safe", prompt_regex="^echo key"))
    server.add_rule(Rule(f"remembered {API_KEY}", prompt_regex="^remember "))
    server.add_rule(Rule(_gateway, prompt_regex="^echo gateway"))
    server.add_rule(
        Rule(ErrorReply(400, message=f"bad request for {API_KEY}"), prompt_regex="^bad request")
    )
    server.add_rule(
        Rule(
            ErrorReply(401, message=f"Incorrect API key provided: {API_KEY}"),
            prompt_regex="^unauthorized",
        )
    )
    return server


def test_a_planted_key_is_nowhere_on_disk_or_in_the_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CI", "OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("GATEWAY_KEY", GATEWAY_KEY)
    pytester.makepyfile(test_app=APP)
    outputs: list[tuple[str, str]] = []
    with _server() as server:
        pytester.makepyprojecttoml(
            f"""
            [tool.pytest.ini_options]
            llm_proxy_openai_upstream = "{server.openai_base_url}"

            [tool.llmassert.endpoints.gw]
            base_url = "{server.openai_base_url}"
            api_key_env = "OPENAI_API_KEY"
            model = "m"
            headers = {{ "x-gateway-key" = {{ env = "GATEWAY_KEY" }} }}
            """
        )
        recorded = pytester.runpytest(
            "--llm-record=once", "--llm-verbose", "--junitxml=record.xml", "-p", "no:cacheprovider"
        )
        outputs.append(("record run", recorded.stdout.str() + recorded.stderr.str()))
        # the two failing tests fail; every other path (stream, prompt, header, the stored 400,
        # the proxy) passes and is stored
        recorded.assert_outcomes(passed=5, failed=2)
        recorded.stdout.fnmatch_lines(["llmassert recordings: 0 replayed, 8 recorded, 1 live*"])
        assert server.request_count >= 8
    # the server is gone: everything stored replays; the 401 was not stored and misses
    replayed = pytester.runpytest(
        "--llm-record=none", "--llm-verbose", "--junitxml=replay.xml", "-p", "no:cacheprovider"
    )
    outputs.append(("replay run", replayed.stdout.str() + replayed.stderr.str()))
    replayed.assert_outcomes(passed=5, failed=2)
    replayed.stdout.fnmatch_lines(["*RecordingMissingError: no recording for this request*"])
    replayed.stdout.fnmatch_lines(["llmassert recordings: 8 replayed, 0 recorded, 0 live, 1 miss*"])

    leaks = [leak for where, text in outputs for leak in _leaks(where, text)]
    files = [p for p in pytester.path.rglob("*") if p.is_file()]
    assert any(p.name == "record.xml" for p in files)
    assert any(p.suffix == ".json" and "llm_recordings" in p.parts for p in files)
    for path in files:
        leaks += _leaks(str(path.relative_to(pytester.path)), _text(path))
    assert not leaks, "\n".join(leaks)


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")
