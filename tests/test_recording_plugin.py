"""Record & replay in pytest runs (pytester): the proxy marker/fixture, summary line, CI default,
misses, xdist, the usage manifest, prune, and no secret left anywhere."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Imported once here rather than by every in-process inner run (pytester restores sys.modules
# after each run, so a package first imported inside one is imported again by the next: ~1 s).
import anthropic  # noqa: F401
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest

# The model layer caches its SDK clients in a module dict: imported here, so that pytester's
# sys.modules restore does not drop the cache (and its open sockets) after each inner run.
import llmassert._models._clients  # noqa: F401
from llmassert._cli import main
from llmassert.testing import LLMServer

PLANTED = "sk-test-PLANTED-b41d7c9e02fa6835"

APP_TESTS = """
import asyncio
import anthropic
import openai
import pytest


def ask(prompt):
    with openai.OpenAI(max_retries=0) as client:
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}]
        )
    return reply.choices[0].message.content


@pytest.mark.llm_proxy
def test_openai_app():
    assert ask("hello app") == "hello app"
    assert ask("hello app") == "hello app"


@pytest.mark.llm_proxy
def test_anthropic_stream_app():
    with anthropic.Anthropic(max_retries=0) as client, client.messages.stream(
        model="claude-3-5-haiku-latest", max_tokens=20,
        messages=[{"role": "user", "content": "stream this"}],
    ) as stream:
        assert "".join(stream.text_stream) == "stream this"


def test_async_app_with_fixture(llm_proxy):
    async def go():
        async with openai.AsyncOpenAI(max_retries=0) as client:
            reply = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "async app"}]
            )
            return reply.choices[0].message.content
    assert asyncio.run(go()) == "async app"
    with openai.OpenAI(api_key="x") as client:
        assert llm_proxy.openai_base_url in str(client.base_url)
"""


#: Subprocess runs skip plugins they do not need (hypothesis alone costs ~1 s per process).
_LEAN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


def _ini(pytester: pytest.Pytester, server: LLMServer | None, extra: str = "") -> None:
    openai_up = server.openai_base_url if server else "http://127.0.0.1:9/v1"
    anthropic_up = server.anthropic_base_url if server else "http://127.0.0.1:9"
    pytester.makeini(
        "[pytest]\n"
        f"llm_proxy_openai_upstream = {openai_up}\n"
        f"llm_proxy_anthropic_upstream = {anthropic_up}\n" + extra
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CI", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
    monkeypatch.setenv("ANTHROPIC_API_KEY", PLANTED)
    return monkeypatch


def test_record_then_replay_in_ci_with_the_server_stopped(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_app=APP_TESTS)
    with LLMServer() as server:
        _ini(pytester, server)
        result = pytester.runpytest("-p", "no:cacheprovider")
        result.assert_outcomes(passed=3)
        result.stdout.fnmatch_lines(
            ["llmassert recordings: 0 replayed, 4 recorded, 0 live, 0 missing (record mode once*"]
        )
        assert server.request_count == 4
    store = pytester.path / "llm_recordings"
    assert len(list(store.rglob("*-[0-9]*.json"))) == 4
    # CI: default mode none; no real key needed (placeholders), the server is gone.
    clean_env.setenv("CI", "true")
    clean_env.delenv("OPENAI_API_KEY")
    clean_env.delenv("ANTHROPIC_API_KEY")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "llmassert recordings: 4 replayed, 0 recorded, 0 live, 0 missing "
            "(record mode none, default (CI is set); store llm_recordings)"
        ]
    )
    assert "OPENAI_API_KEY" not in os.environ  # the fixture restored the environment


def test_miss_in_none_mode_fails_the_test_naming_request_and_command(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    _ini(pytester, server)
    pytester.makepyfile(
        test_miss="""
        import openai, pytest

        @pytest.mark.llm_proxy
        def test_swallowed():
            try:
                with openai.OpenAI(max_retries=0) as client:
                    client.chat.completions.create(
                        model="gpt-4o-mini",
                        messages=[{"role": "user", "content": "Which river is longest?"}],
                    )
            except openai.APIError:
                pass  # an application that hides errors still gets a failing test
        """
    )
    result = pytester.runpytest("--llm-record=none", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*no recording for this request (record mode 'none'): model gpt-4o-mini "
            "(openai /v1/chat/completions), prompt 'Which river is longest?', "
            "test test_miss.py::test_swallowed",
            "*record it with: pytest --llm-record=once test_miss.py::test_swallowed",
            "llmassert recordings: 0 replayed, 0 recorded, 0 live, 1 missing*",
        ]
    )
    assert server.request_count == 0


def test_summary_can_be_turned_off(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    _ini(pytester, server)
    pytester.makepyfile(test_app=APP_TESTS)
    result = pytester.runpytest("--no-llm-summary", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert "llmassert recordings:" not in result.stdout.str()


def test_xdist_workers_record_then_replay(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    tests = [APP_TESTS.split("@pytest.mark.llm_proxy")[0].replace("import anthropic\n", "")]
    for i in range(8):
        tests.append(
            f"""
@pytest.mark.llm_proxy
def test_many_{i}():
    assert ask("shared question") == "shared question"
    assert ask("own question {i}") == "own question {i}"
"""
        )
    pytester.makepyfile(test_app="\n".join(tests))
    with LLMServer() as server:
        _ini(pytester, server)
        result = pytester.runpytest_subprocess("-n", "2", *_LEAN)
        result.assert_outcomes(passed=8)
        result.stdout.fnmatch_lines(
            ["llmassert recordings: * 0 live, 0 missing (record mode once*"]
        )
        line = next(x for x in result.stdout.lines if x.startswith("llmassert recordings:"))
        replayed, recorded = int(line.split()[2]), int(line.split()[4])
        # 16 calls; "shared question" may be recorded by both workers, never goes missing
        assert replayed + recorded == 16
        assert recorded >= 9
    entries = list((pytester.path / "llm_recordings").rglob("*-[0-9]*.json"))
    assert len(entries) == 9
    for path in entries:
        json.loads(path.read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess("-n", "2", "--llm-record=none", *_LEAN)
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        ["llmassert recordings: 16 replayed, 0 recorded, 0 live, 0 missing*"]
    )
    manifest = json.loads(
        (pytester.path / "llm_recordings" / ".last-complete-run.json").read_text(encoding="utf-8")
    )
    assert len(manifest["used"]) == 9


def test_complete_runs_write_the_manifest_and_prune_uses_it(
    pytester: pytest.Pytester,
    clean_env: pytest.MonkeyPatch,
    server: LLMServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ini(pytester, server)
    pytester.makepyfile(test_app=APP_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    store = pytester.path / "llm_recordings"
    manifest = store / ".last-complete-run.json"
    first = json.loads(manifest.read_text(encoding="utf-8"))
    assert len(first["used"]) == 4
    # An entry no test uses any more, older than the complete run
    stale = store / "openai" / "gpt-4o-mini" / ("ab" * 12 + "-0.json")
    stale.write_text((next(store.rglob("*-0.json"))).read_text(encoding="utf-8"))
    os.utime(stale, (1, 1))
    (store / "openai" / ".x.json.123.tmp").write_text("{half")
    # Partial runs do not replace it
    partial_runs = (
        ["-k", "openai"],
        ["-m", "not slow"],
        ["--deselect", "test_app.py::test_openai_app"],
        ["test_app.py::test_openai_app"],
        ["-x"],
        ["--co"],
    )
    for args in partial_runs:
        pytester.runpytest("-p", "no:cacheprovider", *args)
        assert json.loads(manifest.read_text(encoding="utf-8")) == first, args
    assert main(["recordings", "--dir", str(store), "prune", "--dry-run"]) == 0
    assert stale.exists()
    assert main(["recordings", "--dir", str(store), "prune"]) == 0
    out = capsys.readouterr().out
    assert "deleted openai/gpt-4o-mini/" + "ab" * 12 + "-0.json" in out
    assert "deleted 1 unused recording(s) and 1 leftover temporary file(s); 4 kept" in out
    assert not stale.exists()
    assert len(list(store.rglob("*-[0-9]*.json"))) == 4
    # A failing run is not complete either
    pytester.makepyfile(test_fail="def test_fail(): assert False")
    pytester.runpytest("-p", "no:cacheprovider")
    assert json.loads(manifest.read_text(encoding="utf-8")) == first


def test_planted_key_leaves_no_trace(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    _ini(pytester, server)
    pytester.makepyfile(
        test_secret=f'''
        import openai, pytest

        @pytest.mark.llm_proxy
        def test_echo(tmp_path):
            with openai.OpenAI(max_retries=0) as client:
                text = client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{{"role": "user", "content": "my key is {PLANTED} ok"}}],
                ).choices[0].message.content
            assert text.startswith("my key is ")
            (tmp_path / "out.txt").write_text(text.replace("{PLANTED}", "x"))

        def test_in_process(llm):
            text = llm.complete("in-process {PLANTED} echo").text
            assert text.startswith("in-process ")
        '''
    )
    clean_env.setenv("OPENAI_BASE_URL", server.openai_base_url)
    # The temporary directories the run uses: pytest's basetemp (tmp_path) and the system's.
    basetemp = pytester.path.parent / "planted-basetemp"
    system_tmp = pytester.path.parent / "planted-systmp"
    system_tmp.mkdir()
    clean_env.setenv("TMPDIR", str(system_tmp))
    clean_env.setattr(tempfile, "tempdir", str(system_tmp))
    result = pytester.runpytest(
        "--junitxml=report.xml",
        f"--basetemp={basetemp}",
        "-rA",
        "--llm-model=openai:gpt-4o-mini",
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["llmassert recordings: redacted * secret(s) before writing: *"])
    assert PLANTED not in result.stdout.str() + result.stderr.str()
    assert (pytester.path / "llm_recordings").is_dir()
    assert (pytester.path / ".pytest_cache").is_dir()
    assert (basetemp / "test_echo0" / "out.txt").is_file()
    checked = 0
    for root in (pytester.path, basetemp, system_tmp):
        for path in root.rglob("*"):
            if path.is_file() and path.suffix != ".py":
                checked += 1
                assert PLANTED.encode() not in path.read_bytes(), path
    assert checked >= 5
    # replays still match: the key is computed from the request as sent
    clean_env.setenv("CI", "1")
    pytester.runpytest("--llm-model=openai:gpt-4o-mini").assert_outcomes(passed=2)


def test_cli_list_and_show(
    pytester: pytest.Pytester,
    clean_env: pytest.MonkeyPatch,
    server: LLMServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ini(pytester, server, "llm_recordings_dir = recs\n")
    pytester.makepyfile(test_app=APP_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    capsys.readouterr()
    clean_env.chdir(pytester.path)
    assert main(["recordings", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{pytester.path / 'recs'}: 4 recording(s)" in out
    assert "'hello app'  <- test_app.py::test_openai_app" in out
    assert "/v1/messages stream  'stream this'" in out
    stream_key = next(
        p.name.split("-")[0] for p in (pytester.path / "recs" / "anthropic").rglob("*.json")
    )
    assert main(["recordings", "show", stream_key]) == 0
    assert "response: stream this <stream of 8 events>" in capsys.readouterr().out
    assert main(["recordings", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["entries"]
    key = next(r["key"] for r in rows if r["prompt"] == "async app")
    assert main(["recordings", "show", key[:8]]) == 0
    shown = capsys.readouterr().out
    assert "recorded_by: test_app.py::test_async_app_with_fixture" in shown
    assert "response: async app" in shown
    # corrupt file: list flags it, show explains it
    path = next(p for p in (pytester.path / "recs").rglob(f"{key}-0.json"))
    path.write_text('{"llmassert_recording": 1, "req')
    assert main(["recordings", "list"]) == 1
    assert f"CORRUPT: recording {path} is not valid JSON" in capsys.readouterr().out
    assert main(["recordings", "show", key]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "delete the file and record it again" in err
    assert main(["recordings", "show", "ffffffff"]) == 2
    assert "no recording matches 'ffffffff'" in capsys.readouterr().err


def test_prune_without_a_complete_run_explains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recordings", "--dir", str(tmp_path), "prune"]) == 2
    assert "Run the whole suite once" in capsys.readouterr().err


def test_corrupt_recording_fails_the_test_with_a_clear_message(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    _ini(pytester, server)
    pytester.makepyfile(test_app=APP_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    victim = next((pytester.path / "llm_recordings" / "anthropic").rglob("*-0.json"))
    victim.write_text(victim.read_text()[:100])  # truncated
    result = pytester.runpytest("-p", "no:cacheprovider", "--llm-record=none")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([f"*recording {victim} is not valid JSON*delete the file*"])


LLM_TESTS = """
import asyncio


def test_capital(llm):
    first = llm.complete("What is the capital of France?")
    again = llm.complete("What is the capital of France?")
    streamed = llm.complete("Stream the capital of Spain", stream=True)
    answer = asyncio.run(llm.acomplete("Async capital of Peru?"))
    texts = [first.text, again.text, streamed.text, answer.text]
    print("TEXTS=" + "|".join(texts))
    print(f"REPLAYED={[r.replayed for r in (first, again, streamed, answer)]}")
    print(f"LATENCY={first.latency_s}")


def test_the_proxy_starts_only_when_asked_for(request):
    from llmassert._plugins.recording import get_recording_state

    assert get_recording_state(request.config).proxy is None
"""

_MODEL = ("--llm-model=openai:gpt-4o-mini", "-p", "no:cacheprovider")


def test_llm_fixture_records_then_replays_in_process(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    counter = iter(range(1000))
    pytester.makepyfile(test_llm=LLM_TESTS)
    with LLMServer() as server:
        server.add_rule(lambda request: f"{request.prompt} #{next(counter)}")
        clean_env.setenv("OPENAI_BASE_URL", server.openai_base_url)
        recorded = pytester.runpytest("-s", *_MODEL)
        recorded.assert_outcomes(passed=2)
        assert server.request_count == 4
    recorded.stdout.fnmatch_lines(
        [
            "*TEXTS=What is the capital of France? #0|What is the capital of France? #1|"
            "Stream the capital of Spain #2|Async capital of Peru? #3",
            "REPLAYED=[[]False, False, False, False[]]",
            "llmassert recordings: 0 replayed, 4 recorded, 0 live, 0 missing*",
        ]
    )
    latency = next(x for x in recorded.stdout.lines if x.startswith("LATENCY="))
    # server stopped, no key: replayed in-process from the store
    clean_env.delenv("OPENAI_API_KEY")
    clean_env.setenv("CI", "true")
    replayed = pytester.runpytest("-s", *_MODEL)
    replayed.assert_outcomes(passed=2)
    replayed.stdout.fnmatch_lines(
        [
            "*TEXTS=What is the capital of France? #0|What is the capital of France? #1|"
            "Stream the capital of Spain #2|Async capital of Peru? #3",
            "REPLAYED=[[]True, True, True, True[]]",
            latency,  # the original call's latency, reported with replayed=True
            "llmassert recordings: 4 replayed, 0 recorded, 0 live, 0 missing*",
        ]
    )
    # a new prompt in CI: the test fails naming the request and the command
    pytester.makepyfile(
        test_llm='def test_new(llm):\n    llm.complete("Brand new question about rivers")\n'
    )
    missing = pytester.runpytest(*_MODEL)
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(
        [
            "*RecordingMissingError: no recording for this request (record mode 'none'): "
            "model gpt-4o-mini (openai /v1/chat/completions), prompt 'Brand new question about "
            "rivers', test test_llm.py::test_new[[]openai:gpt-4o-mini[]]",
            "*record it with: pytest --llm-record=once "
            "'test_llm.py::test_new[[]openai:gpt-4o-mini[]]'",
            "*expected file: llm_recordings/openai/gpt-4o-mini/*-0.json (key *)",
        ]
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("pyproject.toml", '[tool.pytest.ini_options]\nllm_recordings_dir = "rec/x"\n', "rec/x"),
        ("pyproject.toml", "[project]\nname = 'x'\n", None),  # not a pytest config: look above
        ("pytest.ini", "[pytest]\n", "llm_recordings"),
        ("pytest.toml", '[pytest]\nllm_recordings_dir = "r"\n', "r"),
        ("tox.ini", "[pytest]\nllm_recordings_dir = t\n", "t"),
        ("setup.cfg", "[tool:pytest]\nllm_recordings_dir = s\n", "s"),
    ],
)
def test_cli_finds_the_store_like_pytest_finds_its_config(
    tmp_path: Path, name: str, content: str, expected: str | None
) -> None:
    from llmassert._recording._cli import find_recordings_dir

    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / name).write_text(content)
    (tmp_path / "pytest.ini").write_text("[pytest]\nllm_recordings_dir = outer\n")
    found = find_recordings_dir(project / "sub")
    assert found == (project / expected if expected else tmp_path / "outer")


BOTH_TESTS = """
import openai


def test_both(llm, llm_proxy):
    first = llm.complete("Own call through the proxy?").text
    again = llm.complete("Own call through the proxy?").text
    with openai.OpenAI(max_retries=0) as client:
        app = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "App call"}]
        ).choices[0].message.content
    print(f"TEXTS={first}|{again}|{app}")
"""


def test_llm_and_llm_proxy_in_one_test_record_each_call_once(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch
) -> None:
    counter = iter(range(1000))
    pytester.makepyfile(test_both=BOTH_TESTS)
    with LLMServer() as server:
        server.add_rule(lambda request: f"{request.prompt} #{next(counter)}")
        # The model's SDK client reads OPENAI_BASE_URL at call time: the proxy's, in this test.
        clean_env.setenv("OPENAI_BASE_URL", server.openai_base_url)
        _ini(pytester, server)
        recorded = pytester.runpytest("-s", *_MODEL)
        recorded.assert_outcomes(passed=1)
        assert server.request_count == 3  # each call reached the upstream once
    texts = "*TEXTS=Own call through the proxy? #0|Own call through the proxy? #1|App call #2"
    recorded.stdout.fnmatch_lines(
        [texts, "llmassert recordings: 0 replayed, 3 recorded, 0 live, 0 missing*"]
    )
    assert len(list((pytester.path / "llm_recordings").rglob("*-[0-9]*.json"))) == 3
    clean_env.setenv("CI", "true")
    clean_env.delenv("OPENAI_API_KEY")
    replayed = pytester.runpytest("-s", *_MODEL)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(
        [texts, "llmassert recordings: 3 replayed, 0 recorded, 0 live, 0 missing*"]
    )


def test_cli_refuses_files_that_are_not_recordings_and_missing_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "notes.json"
    other.write_text('{"not": "a recording"}')
    for args in (["show", str(other)], ["show", "--json", str(other)]):
        assert main(["recordings", "--dir", str(tmp_path), *args]) == 2
        err = capsys.readouterr().err
        assert f"{other} is not a recording (recording files are named KEY-N.json" in err
        assert "delete" not in err  # never advice to delete a file that is not ours
    absent = tmp_path / "absent"
    assert main(["recordings", "--dir", str(absent), "list"]) == 0
    assert "0 recording(s) (the directory does not exist yet)" in capsys.readouterr().out
    assert main(["recordings", "--dir", str(absent), "prune"]) == 2
    assert f"recordings directory {absent} does not exist" in capsys.readouterr().err
    assert not absent.exists()
    assert main(["recordings", "--dir", str(tmp_path)]) == 2
    assert "usage: llmassert recordings {list,show,prune}" in capsys.readouterr().err
    (tmp_path / ".last-complete-run.json").write_text("{half")
    assert main(["recordings", "--dir", str(tmp_path), "prune"]) == 2
    err = capsys.readouterr().err
    assert "usage manifest" in err
    assert "Fix: delete it and run the whole test suite once" in err
    assert "Traceback" not in err


def test_ini_llm_proxy_routes_every_test_through_the_proxy(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    _ini(pytester, server, "llm_proxy = true\n")
    pytester.makepyfile(
        test_plain="""
        import os
        from test_app import ask

        def test_unmarked():
            assert os.environ["OPENAI_BASE_URL"].endswith("/openai/v1")
            assert ask("no marker needed") == "no marker needed"
        """,
        test_app=APP_TESTS.split("@pytest.mark.llm_proxy")[0],
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "test_plain.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["llmassert recordings: 0 replayed, 1 recorded, 0 live*"])
    assert server.request_count == 1
    (entry,) = (pytester.path / "llm_recordings").rglob("*-0.json")
    assert json.loads(entry.read_text())["recorded_by"] == "test_plain.py::test_unmarked"


@pytest.mark.parametrize(
    ("ci", "args", "ini", "expected"),
    [
        ("true", [], "", "record mode none, default (CI is set)"),
        ("0", [], "", "record mode once, default"),
        ("", [], "", "record mode once, default"),
        ("true", ["--llm-record=once"], "", "record mode once, --llm-record"),
        ("true", [], "llm_record = all\n", "record mode all, llm_record (ini)"),
        ("", ["--llm-record=off"], "llm_record = all\n", "record mode off, --llm-record"),
    ],
)
def test_ci_defaults_to_none_and_explicit_settings_win(
    pytester: pytest.Pytester,
    clean_env: pytest.MonkeyPatch,
    server: LLMServer,
    ci: str,
    args: list[str],
    ini: str,
    expected: str,
) -> None:
    _ini(pytester, server, ini)
    if ci:
        clean_env.setenv("CI", ci)
    pytester.makepyfile(
        test_app=APP_TESTS.split("@pytest.mark.llm_proxy")[0] + "\n\n"
        "def test_one(llm_proxy):\n    ask('which mode')\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.stdout.fnmatch_lines([f"llmassert recordings: * ({expected}; store llm_recordings)"])
    assert server.request_count == (0 if "mode none" in expected else 1)


def test_models_a_test_builds_itself_obey_the_record_mode(
    pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: LLMServer
) -> None:
    """`llmassert.model(...)` inside a test (not through a fixture) records, replays and, in
    mode none, cannot go live."""
    server.add_rule("Rome is the capital.")
    pytester.makepyprojecttoml(
        f"""
        [tool.llmassert.endpoints.local]
        provider = "openai"
        base_url = "{server.openai_base_url}"
        model = "local-model"
        """
    )
    pytester.makepyfile(
        test_own="""
        import llmassert

        def test_own_model():
            reply = llmassert.model("local").complete("Capital of Italy?")
            assert reply.text == "Rome is the capital."
        """
    )
    result = pytester.runpytest("--llm-record=once", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["llmassert recordings: 0 replayed, 1 recorded, 0 live, 0 missing*"]
    )
    assert server.request_count == 1
    clean_env.setenv("CI", "true")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["llmassert recordings: 1 replayed, 0 recorded, 0 live, 0 missing*"]
    )
    assert server.request_count == 1
    # A request nobody recorded: mode none fails it and the server never sees it.
    pytester.makepyfile(
        test_own="""
        import llmassert

        def test_own_model():
            llmassert.model("local").complete("Capital of Spain?")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no recording for this request (record mode 'none')*"])
    assert server.request_count == 1
