"""Group commit: heartbeats of one tick are accepted by one script call, and the per-user budget and
`seq` dedupe stay exact when one user's heartbeats arrive at once over many connections to two api
instances; past its bound, or while the workers are too far behind, an api sheds heartbeats before any
store work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.runtime import Runtime, StoreUrls
from app.telemetry import parts as telemetry_parts
from app.telemetry import stream as telemetry_stream
from app.telemetry.stream import STREAM, Entry, parse_entries
from tests.conftest import make_settings
from tests.helpers import Api
from tests.telemetry.helpers import backlog, classroom

pytestmark = pytest.mark.timeout(90)

_SETTINGS = {"rate_limit_default": "1000000/minute"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(_SETTINGS)


@pytest.fixture
async def second(telemetry_urls: StoreUrls) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """Another api instance on the same stores."""
    app = create_app(make_settings(**_SETTINGS), telemetry_urls)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, app.state.runtime


async def _entries(runtime: Runtime) -> list[Entry]:
    raw: Any = await runtime.redis.xrange(STREAM)
    return parse_entries(0, raw)


async def test_budget_is_exact_for_one_user_heartbeating_at_once_through_two_instances(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, second: tuple[httpx.AsyncClient, Runtime]
) -> None:
    other, other_runtime = second
    room = await classroom(api, learners=1, courses=2, lessons=1)
    learner = room.learners[0]
    (course_a, lessons_a), (course_b, lessons_b) = room.courses.items()
    batches_before = (
        telemetry_parts.stream(runtime).batcher.batches,
        telemetry_parts.stream(other_runtime).batcher.batches,
    )

    def send(http: httpx.AsyncClient, course: int, lesson: str) -> Any:
        return http.post(
            f"/api/courses/{course}/telemetry",
            headers=learner.headers,
            json={"lesson_id": lesson, "seconds_spent": 60},
        )

    started = time.monotonic()
    replies = await asyncio.gather(
        *[
            send(http, course, lesson)
            for _ in range(40)
            for http in (client, other)
            for course, lesson in ((course_a, lessons_a[0]), (course_b, lessons_b[0]))
        ]
    )
    elapsed = time.monotonic() - started
    assert all(reply.status_code == 202 for reply in replies), [r.text for r in replies[:3]]
    credited = sum(int(reply.json()["credited_seconds"]) for reply in replies)
    first = runtime.settings.telemetry_first_heartbeat_max_seconds
    tolerance = runtime.settings.telemetry_tolerance_seconds
    # Across both courses and both instances, the wall clock is the limit: the first heartbeat's
    # allowance plus the tolerance, plus the seconds that passed while sending.
    assert first <= credited <= first + tolerance + elapsed + 1, (credited, elapsed)
    entries = await _entries(runtime)
    assert sum(entry.seconds for entry in entries) == credited
    assert len(entries) == sum(1 for reply in replies if reply.json()["credited_seconds"] > 0)
    # Grouped: fewer script calls than heartbeats on each instance.
    made = (
        telemetry_parts.stream(runtime).batcher.batches - batches_before[0],
        telemetry_parts.stream(other_runtime).batcher.batches - batches_before[1],
    )
    assert 0 < made[0] < 80 and 0 < made[1] < 80, made


async def test_seq_dedupe_is_exact_for_one_user_through_two_instances(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, second: tuple[httpx.AsyncClient, Runtime]
) -> None:
    other, _ = second
    room = await classroom(api, learners=1, courses=1, lessons=1)
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    # Every seq sent three times, from both instances, all at once (as reconnecting sockets resend).
    sent = [(seq, http) for seq in range(1, 61) for http in (client, other, client)]
    replies = await asyncio.gather(
        *[
            http.post(
                f"/api/courses/{course_id}/telemetry",
                headers=learner.headers,
                json={"lesson_id": lessons[0], "seconds_spent": 1, "seq": seq},
            )
            for seq, http in sent
        ]
    )
    assert all(reply.status_code == 202 for reply in replies), [
        r.text for r in replies if r.status_code != 202
    ][:2]
    fresh = [seq for (seq, _), reply in zip(sent, replies, strict=True) if not reply.json()["duplicate"]]
    assert len(fresh) == len(set(fresh))  # no seq accepted twice
    assert fresh == sorted(fresh)  # accepted in increasing order, whatever the instance
    credited = sum(int(reply.json()["credited_seconds"]) for reply in replies)
    entries = await _entries(runtime)
    assert sum(entry.seconds for entry in entries) == credited
    assert all(reply.json()["credited_seconds"] == 0 for reply in replies if reply.json()["duplicate"])
    # A later seq still counts once.
    again = await other.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[0], "seconds_spent": 1, "seq": 1000},
    )
    assert again.json()["duplicate"] is False


async def test_past_its_bound_the_api_sheds_before_any_store_work(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    room = await classroom(api, learners=1, courses=1, lessons=1)
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    batcher = telemetry_parts.stream(runtime).batcher
    bound = batcher.bound()
    batcher.in_flight = bound  # every place taken, as under a flood
    try:
        length_before = await runtime.redis.xlen(STREAM)
        batches_before = batcher.batches
        refused = await client.post(
            f"/api/courses/{course_id}/telemetry",
            headers=learner.headers,
            json={"lesson_id": lessons[0], "seconds_spent": 5, "seq": 1},
        )
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "overloaded"
        assert batcher.batches == batches_before and await runtime.redis.xlen(STREAM) == length_before
    finally:
        batcher.in_flight = 0
    accepted = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[0], "seconds_spent": 5, "seq": 1},
    )
    assert accepted.status_code == 202 and accepted.json()["duplicate"] is False  # the retry counts


async def test_while_the_workers_are_behind_the_api_refuses_until_they_catch_up(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No worker folds here, so the stream only grows: past `max_backlog` heartbeats not yet folded, the
    next heartbeats are refused before any store work, and nothing accepted is lost."""
    monkeypatch.setattr(telemetry_stream, "BACKLOG_HOLD_SECONDS", 0.3)
    room = await classroom(api, learners=1, courses=1, lessons=1)
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    stream = telemetry_parts.stream(runtime)
    stream.max_backlog = await backlog(runtime.redis) + 1

    def send(seq: int) -> Any:
        return client.post(
            f"/api/courses/{course_id}/telemetry",
            headers=learner.headers,
            json={"lesson_id": lessons[0], "seconds_spent": 5, "seq": seq},
        )

    assert (await send(1)).status_code == 202  # the backlog is now exactly max_backlog
    assert (await send(2)).status_code == 202  # accepted; its call saw one more than max_backlog
    length = await runtime.redis.xlen(STREAM)
    batches = stream.batcher.batches
    refused = await send(3)
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "overloaded"
    assert stream.batcher.batches == batches and await runtime.redis.xlen(STREAM) == length
    ours = [entry for entry in await _entries(runtime) if entry.user_id == learner.id]
    assert [entry.seconds for entry in ours] == [5, 5]  # both accepted heartbeats are in the stream

    assert await backlog(runtime.redis) == stream.max_backlog + 1
    stream.max_backlog += 10  # the workers caught up
    assert (await send(3)).status_code == 503  # still held: the hold is not cut short
    await asyncio.sleep(0.35)
    again = await send(3)
    assert again.status_code == 202 and again.json()["duplicate"] is False  # the retry counts
