"""The enrollment cache of heartbeats does not stampede: concurrent misses of one key make one
look-up, look-ups are bounded per process, and expiries are spread out."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from app.security.principal import Principal
from app.telemetry import targets
from app.telemetry.targets import HeartbeatTargets
from tests.helpers import Api
from tests.telemetry.helpers import classroom

pytestmark = pytest.mark.timeout(60)


async def test_concurrent_misses_share_one_look_up_and_look_ups_are_bounded(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = await classroom(api, learners=12, courses=1, lessons=1)
    ((course_id, lessons),) = room.courses.items()
    cache = HeartbeatTargets(runtime.db, runtime.documents, max_lookups=3)
    running = peak = 0
    real = cache._enrollment

    async def slow(principal: Any, course: int) -> int | None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        try:
            return await real(principal, course)
        finally:
            running -= 1

    monkeypatch.setattr(cache, "_enrollment", slow)
    principals = [_principal(learner) for learner in room.learners]
    # 12 learners × 10 concurrent heartbeats each, all missing at once.
    found = await asyncio.gather(
        *[cache.check(principal, course_id, lessons[0]) for principal in principals for _ in range(10)]
    )
    assert all(isinstance(enrollment, int) for enrollment in found)
    assert cache.lookups == 12 + 1  # one per learner, one for the course's lessons
    assert peak <= 3


def test_expiries_are_spread() -> None:
    now = time.monotonic()
    expiries = {round(targets._expiry(now) - now, 3) for _ in range(200)}
    assert min(expiries) >= 24 and max(expiries) <= 36
    assert max(expiries) - min(expiries) > 6


def _principal(learner: Any) -> Principal:
    return Principal(
        user_id=learner.id,
        role="learner",
        email=learner.email,
        is_blocked=False,
        jti="test",
        session_id="test",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
