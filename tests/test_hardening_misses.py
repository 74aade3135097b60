"""Why a request does not replay (the closest stored request and a short diff), and whose
recordings identical requests in different tests replay (occurrence 0 shared, repeats per test,
old stores still replaying for the test that recorded them)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

import llmassert._models._clients  # noqa: F401  (keep the client cache across inner runs)
from llmassert._recording._key import key_for
from llmassert._recording._nearest import MAX_FIELDS
from llmassert._recording._recorder import Recorder
from llmassert._recording._store import RecordingStore, is_entry_name
from llmassert.testing import LLMServer, Reply

_LEAN = ("-p", "no:cacheprovider")


def _pyproject(pytester: pytest.Pytester, server: LLMServer) -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        asyncio_default_fixture_loop_scope = "function"

        [tool.llmassert.endpoints.local]
        base_url = "{server.openai_base_url}"
        model = "m"
        """
    )


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json") if is_entry_name(p.name))


def _chat(prompt: str, **params: object) -> dict[str, object]:
    return {"model": "m", "messages": [{"role": "user", "content": prompt}], **params}


def _record(store: RecordingStore, body: dict[str, object], test: str) -> None:
    recorder = Recorder(store, "once")
    decision = recorder.decide(key_for("openai", "/v1/chat/completions", body), test)
    assert decision.action == "live"
    reply = {"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    recorder.live_done(decision, status=200, headers={}, body={"choices": [reply]})


def _miss(store: RecordingStore, body: dict[str, object], test: str) -> str:
    decision = Recorder(store, "none").decide(key_for("openai", "/v1/chat/completions", body), test)
    assert decision.action == "missing"
    return str(Recorder(store, "none").missing(decision))


# ------------------------------------------------------------------ 10: what a miss shows


def test_a_miss_names_the_closest_stored_request_of_the_test_and_what_changed(
    pytester: pytest.Pytester, llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    llm_server.add_rule(Reply(text="Lima"))
    _pyproject(pytester, llm_server)
    test = """
        def test_capital(llm):
            llm.complete("What is the capital of Peru?", temperature=0.2)
        """
    pytester.makepyfile(test_geo=test)
    pytester.runpytest("--llm-model=local", "--llm-record=once", *_LEAN).assert_outcomes(passed=1)
    (stored,) = _entries(pytester.path / "llm_recordings")
    pytester.makepyfile(test_geo=test.replace("Peru", "Chile").replace("0.2", "0.7"))
    result = pytester.runpytest("--llm-model=local", "--llm-record=none", *_LEAN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*RecordingMissingError: no recording for this request*prompt 'What is the capital"
            " of Chile?'*",
            "*record it with: pytest --llm-record=once*",
            "*expected file: *",
            f"*closest stored request: llm_recordings/openai/m/{stored.name}; 2 fields changed"
            " (stored -> now):",
            '*  body.messages[[]0[]].content: "What is the capital of Peru?" -> "What is the'
            ' capital of Chile?"',
            "*  body.temperature: 0.2 -> 0.7",
        ]
    )


def test_the_closest_is_the_one_with_fewest_changes_then_the_smallest_text_difference(
    tmp_path: Path,
) -> None:
    store = RecordingStore(tmp_path)
    test = "tests/test_x.py::test_a"
    _record(store, _chat("Summarise the report in three bullet points", temperature=0.5), test)
    _record(store, _chat("Translate this into German", temperature=0.2), test)
    _record(store, _chat("Summarise the report in two bullet points", temperature=0.2), test)
    # another test's recording that differs in a single field is not this test's
    _record(store, _chat("Summarise the report in four bullet points", temperature=0.3), "other")
    message = _miss(
        store, _chat("Summarise the report in four bullet points", temperature=0.2), test
    )
    lines = message.splitlines()
    (head,) = [line for line in lines if "closest stored request" in line]
    assert "1 field changed" in head
    assert "recorded by" not in head  # the same test
    assert any('"Summarise the report in two bullet points"' in line for line in lines)
    assert not any("German" in line for line in lines)
    # no recording of this test: the closest of the same model, naming who recorded it
    other = _miss(store, _chat("Translate this into French", temperature=0.2), "tests/t.py::t")
    assert "recorded by tests/test_x.py::test_a; 1 field changed" in other
    assert '"Translate this into German" -> "Translate this into French"' in other


def test_the_diff_is_bounded_and_shows_where_a_long_prompt_changed(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    test = "tests/test_x.py::test_long"
    words = " ".join(f"word{i}" for i in range(400))
    many = {f"p{i}": i for i in range(12)}
    _record(store, _chat(words, **many), test)
    changed = words.replace("word250", "CHANGED")
    message = _miss(store, _chat(changed, **{k: v + 1 for k, v in many.items()}), test)
    diff = message.split("closest stored request:", 1)[1].splitlines()
    assert len(diff) == 1 + MAX_FIELDS + 1  # head, fields, "... and N more"
    assert diff[-1].strip() == f"... and {13 - MAX_FIELDS} more"
    assert all(len(line) <= 180 for line in diff)
    (prompt_line,) = [line for line in diff if "messages" in line]
    assert "word250" in prompt_line
    assert "CHANGED" in prompt_line


def test_a_repeat_beyond_the_recorded_ones_shows_no_diff(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    body = _chat("again")
    _record(store, body, "t")
    recorder = Recorder(store, "none")
    key = key_for("openai", "/v1/chat/completions", body)
    assert recorder.decide(key, "t").action == "replay"
    message = str(recorder.missing(recorder.decide(key, "t")))
    assert "identical request #2 in the test" in message
    assert "closest stored request" not in message


def test_a_secret_in_the_request_never_reaches_the_miss_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-miss-PLANTED-0f9e8d7c6b5a4321"
    monkeypatch.setenv("MISS_TEST_API_KEY", secret)
    store = RecordingStore(tmp_path)
    _record(store, _chat("my key is none"), "t")
    message = _miss(store, _chat(f"my key is {secret}"), "t")
    assert secret not in message
    assert "[redacted:MISS_TEST_API_KEY]" in message


# ------------------------------------------------------------ 11: identical requests, two tests

TWO_TESTS = """
import pytest

@pytest.mark.llm(repeat=5, pass_rate=0.2, concurrency=1)
def test_a(llm):
    print("A=" + llm.complete("Which answer is this?").text)

@pytest.mark.llm(repeat=5, pass_rate=0.2, concurrency=1)
def test_b(llm):
    print("B=" + llm.complete("Which answer is this?").text)
"""


def _answers(output: str, who: str) -> list[str]:
    return re.findall(rf"\b{who}=(answer \d+)", output)


def test_identical_requests_in_two_repeated_tests_share_only_the_first_answer(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    counter = itertools.count()
    pytester.makepyfile(test_two=TWO_TESTS)
    with LLMServer() as server:
        server.add_rule(lambda request: f"answer {next(counter)}")
        _pyproject(pytester, server)
        recorded = pytester.runpytest(
            "-s", "-p", "no:randomly", "--llm-model=local", "--llm-record=once", *_LEAN
        )
        recorded.assert_outcomes(passed=2)
        # A: 5 live calls; B: its first sample replays A's first answer, 4 of its own
        assert server.request_count == 9
    out = recorded.stdout.str()
    a, b = _answers(out, "A"), _answers(out, "B")
    assert a == [f"answer {i}" for i in range(5)]
    assert b == ["answer 0"] + [f"answer {i}" for i in range(5, 9)]
    recorded.stdout.fnmatch_lines(["llmassert recordings: 1 replayed, 9 recorded, 0 live*"])
    store = pytester.path / "llm_recordings"
    files = sorted(p.name for p in _entries(store))
    assert len(files) == 9
    assert sum(name.endswith("-0.json") for name in files) == 1
    by = {json.loads(p.read_text())["recorded_by"].split("#")[0] for p in _entries(store)}
    assert by == {"test_two.py::test_a[local]", "test_two.py::test_b[local]"}
    # the server is gone: each test replays its own samples, in order
    replayed = pytester.runpytest(
        "-s", "-p", "no:randomly", "--llm-model=local", "--llm-record=none", *_LEAN
    )
    replayed.assert_outcomes(passed=2)
    assert _answers(replayed.stdout.str(), "A") == a
    assert _answers(replayed.stdout.str(), "B") == b


def test_a_store_recorded_before_repeats_were_per_test_keeps_replaying_for_its_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    counter = itertools.count()
    pytester.makepyfile(
        test_two="""
import pytest

@pytest.mark.llm(repeat=3, pass_rate=0.2, concurrency=1)
def test_a(llm):
    print("A=" + llm.complete("Which answer is this?").text)
"""
    )
    with LLMServer() as server:
        server.add_rule(lambda request: f"answer {next(counter)}")
        _pyproject(pytester, server)
        pytester.runpytest("--llm-model=local", "--llm-record=once", *_LEAN).assert_outcomes(
            passed=1
        )
    store = pytester.path / "llm_recordings"
    # What an older llmassert wrote: repeats named KEY-N.json, shared by every test.
    for path in _entries(store):
        legacy = re.sub(r"^([0-9a-f]{24}-\d+)-[0-9a-f]{8}\.json$", r"\1.json", path.name)
        path.rename(path.with_name(legacy))
    assert sorted(p.name[-7:] for p in _entries(store)) == ["-0.json", "-1.json", "-2.json"]
    pytester.makepyfile(test_two=TWO_TESTS.replace("repeat=5", "repeat=3"))
    result = pytester.runpytest(
        "-s", "-p", "no:randomly", "--llm-model=local", "--llm-record=none", *_LEAN
    )
    # test_a still replays its old files; test_b, which used to replay them, is told why not
    result.assert_outcomes(passed=1, failed=1)
    assert _answers(result.stdout.str(), "A") == ["answer 0", "answer 1", "answer 2"]
    result.stdout.fnmatch_lines(
        [
            "*this is sample 2's identical request #1 (each sample's calls have their own*",
            "*the store holds this repeat as recorded by test_two.py::test_a[[]local[]], from "
            "before repeats were per test; it is that test's, so record this test's own:",
            "*record it with: pytest --llm-record=once 'test_two.py::test_b[[]local[]]'",
        ]
    )
