"""Streams and the store under real servers and clients: streamed recordings survive clients
that hang up early, keys split across SSE events never reach the store, and recordings get the
file mode the umask gives (they are meant to be committed and shared)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from llmassert import Endpoint, Model, RecordingInterceptor
from llmassert._recording._usage import RunUsage, write_manifest
from llmassert.testing import LLMServer


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


def _model(server: LLMServer, store: Path, *, wire: str = "openai", api: str = "chat") -> Model:
    base = server.anthropic_base_url if wire == "anthropic" else server.openai_base_url
    endpoint = Endpoint(name="srv", provider=wire, base_url=base, api=api)
    return Model(
        "srv:gpt-4o-mini",
        endpoints={"srv": endpoint},
        interceptors=[RecordingInterceptor(store, "once")],
        context="tests/test_x.py::test_y",
    )


# -- file mode ------------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test (restored afterwards)."""
    previous = os.umask(0o022)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    try:
        yield set_mask
    finally:
        os.umask(previous)


@pytest.mark.skipif(os.name != "posix", reason="file mode bits are POSIX")
@pytest.mark.parametrize(
    ("mask", "expected"),
    [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
    ids=["umask-022", "umask-027", "umask-002"],
)
def test_recordings_get_the_mode_the_umask_gives_a_new_file(
    server: LLMServer,
    tmp_path: Path,
    umask: Callable[[int], None],
    mask: int,
    expected: int,
) -> None:
    umask(mask)
    store = tmp_path / "rec"
    _model(server, store).complete("Say hello", stream=True)
    write_manifest(store, RunUsage(used=set(), skipped_tests=set(), tests=1))
    written = sorted(p for p in store.rglob("*") if p.is_file())
    names = {p.name for p in written}
    assert ".gitignore" in names
    assert ".last-complete-run.json" in names
    assert any(n.endswith("-0.json") for n in names)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert modes == dict.fromkeys(names, oct(expected))
