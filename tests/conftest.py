from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _quiet_inner_pytest(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner pytest runs (pytester) load every installed plugin; pin pytest-asyncio's loop scope
    so its deprecation warning does not show up in their output."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # it clears PYTEST_ADDOPTS when it starts
        monkeypatch.setenv("PYTEST_ADDOPTS", "-o asyncio_default_fixture_loop_scope=function")
