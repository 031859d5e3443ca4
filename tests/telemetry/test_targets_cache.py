"""The enrollment cache of heartbeats does not stampede: the misses of 20 ms make one statement
(one entry per key), statements are bounded per process, and expiries are spread out."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.courses import store as courses_store
from app.errors import Forbidden
from app.runtime import Runtime
from app.security.principal import Principal
from app.telemetry import targets
from app.telemetry.targets import HeartbeatTargets
from tests.helpers import Api
from tests.telemetry.helpers import classroom, make_course

pytestmark = pytest.mark.timeout(60)


async def test_concurrent_misses_share_one_look_up_and_look_ups_are_bounded(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = await classroom(api, learners=12, courses=2, lessons=1)
    (first_course, first_lessons), (second_course, _) = room.courses.items()
    cache = HeartbeatTargets(runtime.db, runtime.documents, max_lookups=2)
    running = peak = 0
    asked: list[list[tuple[int, int]]] = []
    real = courses_store.courses_and_enrollments

    async def slow(db: Any, pairs: Any) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        asked.append(list(pairs))
        await asyncio.sleep(0.05)
        try:
            return await real(db, pairs)
        finally:
            running -= 1

    monkeypatch.setattr(courses_store, "courses_and_enrollments", slow)
    principals = [_principal(learner) for learner in room.learners]
    # 12 learners × 10 concurrent heartbeats each, all missing at once: one statement for all of them.
    found = await asyncio.gather(
        *[
            cache.check(principal, first_course, first_lessons[0])
            for principal in principals
            for _ in range(10)
        ]
    )
    assert asked == [[(principal.user_id, first_course) for principal in principals]]
    assert all(isinstance(enrollment, int) for enrollment in found)
    assert cache.lookups == 1 + 1  # one enrollment statement, one for the course's lessons
    # Misses in later ticks, while statements run, wait for a free place: never more than the bound. Half
    # ask about a course they are enrolled in, half about one nobody is.
    nobody_in, _ = await make_course(client, room.teacher, 1)
    asked.clear()

    async def later(index: int, principal: Principal) -> int | None:
        await asyncio.sleep(0.01 * index)
        try:
            return await cache.enrollment(principal, second_course if index % 2 else nobody_in)
        except Forbidden:
            return None

    answers = await asyncio.gather(*[later(i, p) for i, p in enumerate(principals)])
    assert peak <= 2 and 1 < len(asked) < len(principals)  # several misses per statement
    assert [answer is not None for answer in answers] == [i % 2 == 1 for i in range(len(principals))]
    # A course that does not exist counts nothing either.
    with pytest.raises(Forbidden):
        await cache.enrollment(principals[0], 10**9)


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


async def test_misses_spread_over_a_few_ticks_share_one_statement(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Learners heartbeating every 15 s miss one at a time, a few ms apart: within the linger they still
    make one statement, not one each."""
    room = await classroom(api, learners=5, courses=1, lessons=1)
    ((course_id, _),) = room.courses.items()
    cache = HeartbeatTargets(runtime.db, runtime.documents)
    asked: list[int] = []
    real = courses_store.courses_and_enrollments

    async def counted(db: Any, pairs: Any) -> Any:
        asked.append(len(pairs))
        return await real(db, pairs)

    monkeypatch.setattr(courses_store, "courses_and_enrollments", counted)

    async def spaced(index: int, principal: Principal) -> int:
        await asyncio.sleep(0.002 * index)
        return await cache.enrollment(principal, course_id)

    found = await asyncio.gather(*[spaced(i, _principal(learner)) for i, learner in enumerate(room.learners)])
    assert all(isinstance(enrollment, int) for enrollment in found)
    assert asked == [5]
