"""The record run's summary counts every call that reached the network (retries and failed
calls included), names every call it could not store, and then fails the run: a green record
run means a replay (CI) has everything it needs."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path

# Imported once here rather than by every in-process inner run (see test_recording_plugin.py).
import openai  # noqa: F401
import pytest

import llmassert._models._clients  # noqa: F401
from llmassert.testing import ErrorReply, Fault, LLMServer, Rule


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CI", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-counts-0123456789abcdef")
    return monkeypatch


def _endpoint(pytester: pytest.Pytester, server: LLMServer, *, store: str = "") -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        llm_proxy_openai_upstream = "{server.openai_base_url}"
        {f'llm_recordings_dir = "{store}"' if store else ""}

        [tool.llmassert.endpoints.local]
        provider = "openai"
        base_url = "{server.openai_base_url}"
        model = "local-model"
        max_retries = 3
        retry_initial = 0.01
        retry_max_wait = 0.02
        """
    )


def test_retries_and_failed_live_calls_are_counted(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    server.add_rule(Rule("ok at last", prompt="flaky", fault=Fault(fail_times=2)))
    server.add_rule(Rule(ErrorReply(status=500), prompt="broken"))
    server.add_rule(Rule(ErrorReply(status=401), prompt="denied"))
    server.add_rule(Rule(ErrorReply(status=422), prompt="rejected", fault=Fault(fail_times=1)))
    _endpoint(pytester, server)
    pytester.makepyfile(
        test_calls="""
        import llmassert
        import pytest

        def test_flaky():
            assert llmassert.model("local").complete("flaky").text == "ok at last"

        def test_broken():
            with pytest.raises(llmassert.ServerError):
                llmassert.model("local").complete("broken")

        def test_denied():
            with pytest.raises(llmassert.AuthenticationError):
                llmassert.model("local").complete("denied")

        def test_rejected():  # a 500, retried, then a deterministic 422: recorded
            with pytest.raises(llmassert.ProviderError):
                llmassert.model("local").complete("rejected")
        """
    )
    result = pytester.runpytest("--llm-record=once", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    # flaky 1 + 2 retries, broken 1 + 3 retries, denied 1, rejected 1 + 1 retry
    assert server.request_count == 10
    result.stdout.fnmatch_lines(
        [
            "llmassert recordings: 0 replayed, 2 recorded, 2 live, 0 missing *",
            "llmassert recordings: 10 requests reached the network (4 calls + 6 retries); "
            "3 of the calls failed",
        ]
    )
    # Failures that say nothing about the model are legitimately not stored: the run is green.
    assert result.ret == pytest.ExitCode.OK
    assert "could not be stored" not in result.stdout.str()


APP = """
import openai
import pytest


def stream(prompt, stop_after=None):
    with openai.OpenAI(max_retries=0) as client:
        chunks = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}], stream=True
        )
        text = []
        for n, chunk in enumerate(chunks):
            if stop_after is not None and n >= stop_after:
                break
            text.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        chunks.close()
    return "".join(text)


def test_swallowed(llm_proxy):
    try:
        stream("break off")
    except openai.APIError:
        pass  # an application that copes with a broken stream


def test_hangs_up_early(llm_proxy):
    stream("a long enough answer to hang up on", stop_after=2)
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_stream_the_proxy_could_not_store_is_named_and_fails_the_run(
    pytester: pytest.Pytester,
    clean_env: pytest.MonkeyPatch,
    server: LLMServer,
    workers: list[str],
) -> None:
    server.add_rule(
        Rule(prompt="break off", fault=Fault(stream_error_after=2, reset_connection=True))
    )
    server.add_rule(Rule(fault=Fault(token_delay_s=0.02)))
    _endpoint(pytester, server)
    pytester.makepyfile(test_app=APP)
    result = pytester.runpytest("--llm-record=once", "-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "llmassert recordings: 1 call could not be stored, so a replay (CI) would miss "
            "it; the run fails:",
            "  not stored: model gpt-4o-mini (openai /v1/chat/completions, streamed), prompt "
            "'break off', test test_app.py::test_swallowed: the upstream's stream broke off "
            "after * events (*)",
            "llmassert recordings: 0 replayed, 1 recorded, 1 live, 0 missing *",
        ]
    )
    assert not (pytester.path / "llm_recordings" / ".last-complete-run.json").exists()
    # The stream whose client hung up was stored whole: it replays in CI.
    pytester.makepyfile(
        test_app=APP.split("def test_swallowed")[0]
        + "def test_hangs_up_early(llm_proxy):\n"
        + "    assert stream('a long enough answer to hang up on')"
        + " == 'a long enough answer to hang up on'\n"
    )
    clean_env.setenv("CI", "true")
    replay = pytester.runpytest("-p", "no:cacheprovider")
    replay.assert_outcomes(passed=1)
    replay.stdout.fnmatch_lines(
        ["llmassert recordings: 1 replayed, 0 recorded, 0 live, 0 missing *"]
    )


def test_a_recording_that_cannot_be_written_is_named_and_fails_the_run(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    (pytester.path / "blocker").write_text("a file where the store's directory should be\n")
    _endpoint(pytester, server, store="blocker/rec")
    pytester.makepyfile(
        test_write="""
        import llmassert

        def test_answer_still_arrives():
            assert llmassert.model("local").complete("write me").text == "write me"
        """
    )
    result = pytester.runpytest("--llm-record=once", "-p", "no:cacheprovider", "--no-llm-summary")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "llmassert recordings: 1 call could not be stored, so a replay (CI) would miss "
            "it; the run fails:",
            "  not stored: model local-model (openai /v1/chat/completions), prompt 'write me', "
            "test test_write.py::test_answer_still_arrives: could not write "
            "blocker/rec/openai/local-model/*-0.json (*)",
        ]
    )
    assert "0 replayed" not in result.stdout.str()  # --no-llm-summary: only what failed the run


def test_the_documented_count_lines_have_the_real_shape() -> None:
    """docs/recording.md shows the lines the tests above produce."""
    docs = (Path(__file__).parent.parent / "docs" / "recording.md").read_text(encoding="utf-8")
    lines = docs.splitlines()
    shapes = [
        "llmassert recordings: * request* reached the network (* call* + * retr*); "
        "* of the calls failed",
        "llmassert recordings: * call* failed at once without a request (the endpoint was "
        "unreachable; see the first failure)",
        "llmassert recordings: 1 call could not be stored, so a replay (CI) would miss it; "
        "the run fails:",
        "  not stored: model * (openai /v1/chat/completions, streamed), prompt '*', test *: "
        "the upstream's stream broke off after * events (*)",
    ]
    for shape in shapes:
        assert any(fnmatch.fnmatch(line, shape) for line in lines), shape
