"""The browser tests never pass silently: a missing tool skips them with the reason, or fails them in CI."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import missing_tools, require


def test_nothing_missing_lets_them_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEARNFLOW_REQUIRE_E2E", "1")
    require([])


def test_a_missing_tool_skips_with_the_reason_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEARNFLOW_REQUIRE_E2E", raising=False)
    with pytest.raises(pytest.skip.Exception, match="/usr/bin/chromium is missing"):
        require(["/usr/bin/chromium is missing"])


def test_a_missing_tool_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEARNFLOW_REQUIRE_E2E", "1")
    with pytest.raises(pytest.fail.Exception, match="frontend/dist is not built.*LEARNFLOW_REQUIRE_E2E=1"):
        require(["frontend/dist is not built"])


def test_node_missing_from_path_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert any("`node` is not on PATH" in item for item in missing_tools())
