from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Scenarios here make many requests as one user; the per-user limit is tested in tests/http."""
    return {"rate_limit_default": "10000/minute"}
