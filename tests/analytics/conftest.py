"""Analytics tests make many calls per test, so the per-user limit is raised here (it is tested elsewhere)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_default": "100000/minute"}
