"""The report's masker: secret-named environment variables are masked in every entry, and the
environment is read again only when it changed (not for pytest's per-phase variable)."""

from __future__ import annotations

import pytest

from llmassert._reports import _collect


def test_a_secret_set_mid_session_is_masked_and_the_phase_variable_does_not_reread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-secret-value-0001")
    assert _collect.masker()("key acme-secret-value-0001 here") == "key *** here"
    cached = _collect._cached_env_secrets

    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/x.py::test_other (call)")
    assert _collect.masker()("acme-secret-value-0001") == "***"
    assert _collect._cached_env_secrets is cached  # the same environment but for the phase

    monkeypatch.setenv("OTHER_TOKEN", "other-secret-value-0002")
    assert _collect.masker()("other-secret-value-0002 / acme-secret-value-0001") == "*** / ***"
    assert _collect._cached_env_secrets is not cached

    monkeypatch.delenv("OTHER_TOKEN")
    assert _collect.masker()("other-secret-value-0002") == "other-secret-value-0002"
