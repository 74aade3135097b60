from __future__ import annotations

# Import the HTTP stack before any in-process pytester run: pytester restores sys.modules after
# an inner session, so a first import inside one would leave two copies of httpcore2 behind and
# the SDKs would stop mapping its exceptions (raw httpcore2.ReadTimeout instead of
# APITimeoutError) in later tests of the same worker.
import anthropic  # noqa: F401
import httpcore2  # noqa: F401
import httpx2  # noqa: F401
import hypothesis  # noqa: F401  (and keep inner runs from re-importing it: ~1 s each)
import openai  # noqa: F401
import pytest

# Settings the product reads from the environment. The suite runs the same on a developer's
# machine and in CI (which sets CI=true): each test starts without them, and a test that needs
# one sets it itself.
_AMBIENT = (
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
)


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _quiet_inner_pytest(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner pytest runs (pytester) load every installed plugin; pin pytest-asyncio's loop scope
    so its deprecation warning does not show up in their output, and block the pytest plugin of
    langsmith (installed with the optional ``clients`` extra, LangChain): it imports httpx2 in
    every run, which replay-only runs assert they never do."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # it clears PYTEST_ADDOPTS when it starts
        monkeypatch.setenv(
            "PYTEST_ADDOPTS",
            "-o asyncio_default_fixture_loop_scope=function -p no:langsmith_plugin",
        )
