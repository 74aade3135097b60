"""Record & replay core: request keys, the store, secret redaction, the in-process interceptor."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from llmassert import CorruptRecordingError, RecordingMissingError
from llmassert._models._wire import WireRequest, WireResponse
from llmassert._recording._interceptor import RecordingInterceptor
from llmassert._recording._key import describe_prompt, key_for, key_for_wire
from llmassert._recording._recorder import Recorder
from llmassert._recording._secrets import SecretScanner, filter_headers
from llmassert._recording._store import RecordingStore

BODY = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "What is the capital of France? Answer briefly."}],
    "temperature": 0.5,
}


def _wire(body: dict[str, object] | None = None, context: str | None = "t::a") -> WireRequest:
    return WireRequest(
        provider="openai",
        spec="openai:gpt-4o-mini",
        path="/v1/chat/completions",
        body=body or BODY,
        context=context,
    )


class FakeSend:
    """A stand-in for the live call: counts calls and answers with a numbered reply."""

    def __init__(self, status: int = 200) -> None:
        self.calls = 0
        self.status = status

    def __call__(self, request: WireRequest) -> WireResponse:
        self.calls += 1
        return WireResponse(
            status=self.status,
            body={"choices": [{"message": {"content": f"reply {self.calls}"}}]},
            headers={"x-request-id": f"req-{self.calls}", "set-cookie": "s=1", "x-api-key": "k"},
            latency_s=0.25,
        )


def _interceptor(tmp_path: Path, mode: str) -> RecordingInterceptor:
    return RecordingInterceptor(Recorder(RecordingStore(tmp_path / "rec"), mode))


def _text(response: WireResponse) -> str:
    return str(response.body["choices"][0]["message"]["content"])


# -- keys -------------------------------------------------------------------------------------


def test_key_ignores_key_order_and_integral_floats() -> None:
    a = key_for("openai", "/v1/chat/completions", {"model": "m", "temperature": 1, "n": 1})
    b = key_for("openai", "v1/chat/completions/", {"n": 1.0, "temperature": 1.0, "model": "m"})
    assert a.digest == b.digest
    assert len(a.digest) == 24


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.7},
        {"stream": True},
        {"model": "gpt-4o"},
        {"messages": [{"role": "user", "content": "What is the capital of Spain?"}]},
        {"max_tokens": 5},
    ],
)
def test_key_changes_with_every_generation_parameter(change: dict[str, object]) -> None:
    base = key_for("openai", "/v1/chat/completions", BODY)
    assert key_for("openai", "/v1/chat/completions", {**BODY, **change}).digest != base.digest


def test_key_ignores_auth_and_telemetry_headers_but_not_beta_headers() -> None:
    plain = key_for("anthropic", "/v1/messages", BODY)
    noisy = key_for(
        "anthropic",
        "/v1/messages",
        BODY,
        headers={"x-api-key": "secret", "X-Stainless-Retry-Count": "2", "authorization": "B x"},
    )
    beta = key_for("anthropic", "/v1/messages", BODY, headers={"anthropic-beta": "tools-2024"})
    assert noisy.digest == plain.digest
    assert "x-api-key" not in json.dumps(noisy.canonical)
    assert beta.digest != plain.digest


def test_key_for_wire_matches_key_for() -> None:
    assert key_for_wire(_wire()).digest == key_for("openai", "/v1/chat/completions", BODY).digest


def test_describe_prompt_takes_first_words_of_last_user_message() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": [{"type": "text", "text": " ".join(["word"] * 30)}]},
        ]
    }
    assert describe_prompt(body) == " ".join(["word"] * 12) + " ..."
    assert describe_prompt({"input": "Hello there"}) == "Hello there"
    assert describe_prompt({"prompt": "Once upon"}) == "Once upon"


# -- secrets ----------------------------------------------------------------------------------


def test_headers_are_kept_by_allow_list() -> None:
    kept = filter_headers(
        {
            "Authorization": "Bearer sk-x",
            "x-api-key": "k",
            "Set-Cookie": "a=b",
            "openai-organization": "org-1",
            "openai-project": "proj_1",
            "X-Request-Id": "req_1",
            "x-ratelimit-remaining-requests": "9",
            "anthropic-ratelimit-tokens-limit": "10",
        }
    )
    assert kept == {
        "anthropic-ratelimit-tokens-limit": "10",
        "x-ratelimit-remaining-requests": "9",
        "x-request-id": "req_1",
    }


def test_scanner_redacts_env_secret_values_and_key_shapes() -> None:
    scanner = SecretScanner(env={"MY_SERVICE_TOKEN": "tok-0123456789abc", "HOME": "/home/x"})
    value = {
        "a": "token tok-0123456789abc here",
        "b": ["sk-proj-abcdefghijklmnopqrstuvwx", "AKIAABCDEFGHIJKLMNOP"],
        "c": "/home/x is not a secret",
    }
    redacted, found = scanner.redact(value, "here")
    text = json.dumps(redacted)
    assert "tok-0123456789abc" not in text
    assert "sk-proj-abcdef" not in text
    assert "AKIAABCDEFGHIJKLMNOP" not in text
    assert "[redacted:MY_SERVICE_TOKEN]" in text
    assert "/home/x is not a secret" in text
    assert {f.what for f in found} == {
        "MY_SERVICE_TOKEN",
        "api-key-shape sk-",
        "api-key-shape AWS",
    }


# -- store ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("", "is empty"),
        ('{"llmassert_recording": 1, "request": {', "is not valid JSON"),
        ("[1, 2]", "no 'llmassert_recording' format field"),
        ('{"llmassert_recording": 1, "request": {}, "response": {}}', "'response.status'"),
        ('{"llmassert_recording": 7, "request": {}, "response": {}}', "format 7"),
    ],
)
def test_corrupt_file_names_the_file_and_the_fix(tmp_path: Path, content: str, why: str) -> None:
    icpt = _interceptor(tmp_path, "once")
    icpt.call(_wire(), FakeSend())
    (path,) = icpt.recorder.store.entries()
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorruptRecordingError) as exc:
        _interceptor(tmp_path, "none").call(_wire(), FakeSend())
    message = str(exc.value)
    assert str(path) in message
    assert why in message
    assert "delete the file and record it again" in message
    assert "--llm-record=once" in message


def test_store_file_is_readable_json_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-PLANTED-0123456789abcdef")
    icpt = _interceptor(tmp_path, "once")
    body = {
        **BODY,
        "messages": [{"role": "user", "content": "key sk-test-PLANTED-0123456789abcdef"}],
    }
    icpt.call(_wire(body), FakeSend())
    (path,) = icpt.recorder.store.entries()
    assert path.parent.name == "gpt-4o-mini"
    assert path.parent.parent.name == "openai"
    raw = path.read_text(encoding="utf-8")
    doc = json.loads(raw)
    assert "PLANTED" not in raw
    assert doc["redactions"] == ["OPENAI_API_KEY"]
    assert doc["recorded_by"] == "t::a"
    assert doc["response"]["headers"] == {"x-request-id": "req-1"}
    assert icpt.recorder.stats.redactions
    assert (tmp_path / "rec" / ".gitignore").exists()
    # and it still replays: the key is computed from the request as sent
    replayed = _interceptor(tmp_path, "none").call(_wire(body), FakeSend())
    assert replayed.replayed


# -- interceptor: the record-mode table -------------------------------------------------------


def test_once_records_then_replays_without_calling(tmp_path: Path) -> None:
    send = FakeSend()
    first = _interceptor(tmp_path, "once").call(_wire(), send)
    assert (send.calls, first.replayed) == (1, False)
    again = _interceptor(tmp_path, "once").call(_wire(), send)
    assert send.calls == 1
    assert again.replayed
    assert _text(again) == _text(first) == "reply 1"
    assert again.latency_s == 0.25  # the original call's latency, flagged as replayed


def test_none_mode_never_calls_and_names_the_request(tmp_path: Path) -> None:
    send = FakeSend()
    icpt = _interceptor(tmp_path, "none")
    with pytest.raises(RecordingMissingError) as exc:
        icpt.call(_wire(context="tests/test_geo.py::test_capital[openai]"), send)
    assert send.calls == 0
    message = str(exc.value)
    assert "model gpt-4o-mini" in message
    assert "'What is the capital of France? Answer briefly.'" in message
    assert "tests/test_geo.py::test_capital[openai]" in message
    assert "pytest --llm-record=once 'tests/test_geo.py::test_capital[openai]'" in message
    assert icpt.recorder.stats.missing == 1


def test_all_mode_overwrites_and_off_mode_leaves_store_untouched(tmp_path: Path) -> None:
    _interceptor(tmp_path, "once").call(_wire(), FakeSend())
    send = FakeSend()
    send.calls = 10
    _interceptor(tmp_path, "all").call(_wire(), send)
    assert _text(_interceptor(tmp_path, "none").call(_wire(), FakeSend())) == "reply 11"
    (path,) = _interceptor(tmp_path, "off").recorder.store.entries()
    before = path.read_text(encoding="utf-8")
    off = _interceptor(tmp_path, "off")
    live = off.call(_wire({**BODY, "temperature": 0.9}), FakeSend())
    assert not live.replayed
    assert path.read_text(encoding="utf-8") == before
    assert len(list(off.recorder.store.entries())) == 1
    assert off.recorder.stats.live == 1


def test_repeated_identical_requests_get_distinct_recordings(tmp_path: Path) -> None:
    send = FakeSend()
    icpt = _interceptor(tmp_path, "once")
    texts = [_text(icpt.call(_wire(context="t::rep"), send)) for _ in range(3)]
    other_test = _text(icpt.call(_wire(context="t::other"), send))
    assert texts == ["reply 1", "reply 2", "reply 3"]
    assert other_test == "reply 1"  # another test shares occurrence 0
    assert len(list(icpt.recorder.store.entries())) == 3
    replay = _interceptor(tmp_path, "none")
    assert [_text(replay.call(_wire(context="t::rep"), send)) for _ in range(3)] == texts
    with pytest.raises(RecordingMissingError, match="identical request #4"):
        replay.call(_wire(context="t::rep"), send)


def test_samples_of_a_repeated_test_never_collapse(tmp_path: Path) -> None:
    send = FakeSend()
    icpt = _interceptor(tmp_path, "once")
    # samples are numbered from 1, as the marker and model.sample number them
    texts = [_text(icpt.call(_wire(context=f"t::rep#sample={i}"), send)) for i in (1, 2, 3)]
    assert texts == ["reply 1", "reply 2", "reply 3"]
    replay = _interceptor(tmp_path, "none")
    # each sample replays its own answer, in any order
    order = (3, 1, 2)
    replayed = [_text(replay.call(_wire(context=f"t::rep#sample={i}"), send)) for i in order]
    assert replayed == [texts[i - 1] for i in order]
    with pytest.raises(
        RecordingMissingError, match="record it with: pytest --llm-record=once t::rep\n"
    ):
        replay.call(_wire(context="t::rep#sample=4"), send)


@pytest.mark.parametrize("status", [401, 403, 429, 500, 503])
def test_transient_and_credential_failures_are_not_stored(tmp_path: Path, status: int) -> None:
    icpt = _interceptor(tmp_path, "once")
    assert icpt.call(_wire(), FakeSend(status=status)).status == status
    assert list(icpt.recorder.store.entries()) == []
    assert icpt.recorder.stats.live == 1


def test_a_retry_after_a_failed_call_takes_its_occurrence(tmp_path: Path) -> None:
    icpt = _interceptor(tmp_path, "once")
    icpt.call(_wire(), FakeSend(status=429))

    def broken(request: WireRequest) -> WireResponse:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        icpt.call(_wire(), broken)
    icpt.call(_wire(), FakeSend())  # the app's retry succeeds: stored as occurrence 0
    (entry,) = icpt.recorder.store.entries()
    assert entry.name.endswith("-0.json")
    assert _interceptor(tmp_path, "none").call(_wire(), FakeSend()).replayed


def test_deterministic_client_errors_are_stored(tmp_path: Path) -> None:
    _interceptor(tmp_path, "once").call(_wire(), FakeSend(status=400))
    assert _interceptor(tmp_path, "none").call(_wire(), FakeSend()).status == 400


def test_demo_models_bypass_the_store(tmp_path: Path) -> None:
    icpt = _interceptor(tmp_path, "none")
    send = FakeSend()
    demo = WireRequest("openai", "demo:prompted", "/v1/chat/completions", BODY)
    assert not icpt.call(demo, send).replayed
    assert send.calls == 1
    assert icpt.recorder.stats.total == 0


def test_async_path_records_and_replays(tmp_path: Path) -> None:
    send = FakeSend()

    async def asend(request: WireRequest) -> WireResponse:
        return send(request)

    async def run(mode: str) -> WireResponse:
        return await _interceptor(tmp_path, mode).acall(_wire(), asend)

    assert not asyncio.run(run("once")).replayed
    replayed = asyncio.run(run("none"))
    assert replayed.replayed
    assert send.calls == 1


def test_streamed_events_round_trip(tmp_path: Path) -> None:
    chunk = '{"choices": [{"index": 0, "delta": {"content": "x"}}]}'
    events = ({"event": None, "data": chunk}, {"event": None, "data": "[DONE]"})

    def send(request: WireRequest) -> WireResponse:
        return WireResponse(events=events, latency_s=0.1, ttft_s=0.05)

    body = {**BODY, "stream": True}
    _interceptor(tmp_path, "once").call(_wire(body), send)
    replayed = _interceptor(tmp_path, "none").call(_wire(body), send)
    assert replayed.events == events
    assert replayed.ttft_s == 0.05


def _writer_loop(root: str, count: int) -> None:  # pragma: no cover - runs in a subprocess
    icpt = RecordingInterceptor(Recorder(RecordingStore(root), "all"))
    big = "x" * 200_000
    i = 0
    while True:
        i += 1

        def send(request: WireRequest, i: int = i) -> WireResponse:
            return WireResponse(body={"text": big, "i": i, "choices": [{"message": {}}]})

        icpt.call(_wire({**BODY, "n": i % count}), send)
        icpt.recorder.forget_context("t::a")


def test_kill_9_while_recording_leaves_a_readable_store(tmp_path: Path) -> None:
    import multiprocessing
    import os
    import signal
    import time

    root = tmp_path / "rec"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer_loop, args=(str(root), 5)) for _ in range(2)]
    for proc in procs:
        proc.start()
    deadline = time.monotonic() + 20
    store = RecordingStore(root)
    while len(list(store.entries())) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    for proc in procs:
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
    entries = list(store.entries())
    assert len(entries) == 5
    for path in entries:
        recording = store.read(path)
        assert recording is not None
        assert len(recording.body["text"]) == 200_000


def test_concurrent_writers_of_the_same_entry_never_corrupt_it(tmp_path: Path) -> None:
    import threading

    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            icpt = _interceptor(tmp_path, "all")
            for _ in range(20):
                icpt.call(_wire(context=f"t::{n}"), FakeSend())
                icpt.recorder.forget_context(f"t::{n}")
                assert _interceptor(tmp_path, "none").call(_wire(), FakeSend()).replayed
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert RecordingStore(tmp_path / "rec").stray_temp_files() == []


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    icpt = _interceptor(tmp_path, "once")
    icpt.call(_wire(), FakeSend())
    (path,) = icpt.recorder.store.entries()
    before = path.read_text(encoding="utf-8")

    def ctrl_c(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        _interceptor(tmp_path, "all").call(_wire(), FakeSend())
    assert path.read_text(encoding="utf-8") == before
    assert icpt.recorder.store.stray_temp_files() == []


def test_prune_keeps_used_newer_and_skipped_tests_entries(tmp_path: Path) -> None:
    import os
    import time

    from llmassert._recording._usage import RunUsage, stale_entries

    icpt = _interceptor(tmp_path, "once")
    for n, test in enumerate(["t::used", "t::gone", "t::skipped", "t::later"]):
        icpt.call(_wire({**BODY, "n": n + 1}, context=test), FakeSend())
    store = icpt.recorder.store
    by_test = {store.read(p).recorded_by: p for p in store.entries()}  # type: ignore[union-attr]
    finished = time.time()
    for path in by_test.values():
        os.utime(path, (finished - 60, finished - 60))
    os.utime(by_test["t::later"], (finished + 60, finished + 60))  # written after the run
    usage = RunUsage(
        used={store.relative(by_test["t::used"])},
        skipped_tests={"t::skipped"},
        finished_ts=finished,
    )
    assert stale_entries(store, usage) == [by_test["t::gone"]]
