"""`course:{id}:activity`: the learners active in a course now (lesson, seconds this session), with joins and
leaves, for the course owner and admins only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.live import store as live_store
from app.runtime import Runtime
from app.telemetry import activity
from tests.helpers import Api
from tests.live.conftest import WsClient
from tests.live_views.helpers import frames, heartbeat, make_course, published, subscribe
from workers.live import LiveWorker

Connect = Callable[..., Awaitable[WsClient]]


async def tick(worker: LiveWorker) -> int:
    await asyncio.sleep(0.06)  # past the (shortened) per-course lock of the previous tick
    return await worker.activity_tick()


async def test_activity_shows_the_learner_lesson_and_session_then_the_leave(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_url: str,
    ws_connect: Connect,
    worker: LiveWorker,
    tuning: live_store.LiveTuning,
    activity_tuning: activity.ActivityTuning,
) -> None:
    activity_tuning.activity_idle_seconds = 2.5
    tuning.activity_refresh_seconds = 60.0
    course = await make_course(api, client, lessons=2, learners=2)
    learner, idle = course.learners
    channel = f"course:{course.id}:activity"
    ws = await ws_connect(ws_url, course.owner.access_token)
    assert (await subscribe(ws, channel))["ok"]

    first = await heartbeat(client, learner, course.id, course.lessons[0], 10, seq=1)
    assert await tick(worker) == 1
    [push] = await frames(ws, channel)
    assert push["event"] == "activity"
    data = push["data"]
    assert data["course_id"] == course.id and data["active_count"] == 1 and data["leaves"] == []
    [entry] = data["active"]
    assert entry["user_id"] == learner.id and entry["name"] == "Test User"
    assert entry["lesson_id"] == course.lessons[0] and entry["lesson_title"] == "Lesson 1"
    assert entry["session_seconds"] == first["credited_seconds"] > 0
    assert entry["session_started"].endswith("Z") and entry["last_seen"].endswith("Z")
    assert data["joins"] == [entry]

    # Nothing changed: nothing is sent (until the refresh interval).
    assert await tick(worker) == 0

    # The same session moves to the next lesson: no join, the seconds add up.
    second = await heartbeat(client, learner, course.id, course.lessons[1], 5, seq=2)
    assert await tick(worker) == 1
    [push] = await frames(ws, channel)
    [entry] = push["data"]["active"]
    assert entry["lesson_id"] == course.lessons[1] and entry["lesson_title"] == "Lesson 2"
    assert entry["session_seconds"] == first["credited_seconds"] + second["credited_seconds"]
    assert push["data"]["joins"] == [] and push["data"]["leaves"] == []

    # No heartbeat for longer than the timeout: a leave, and nobody active.
    await asyncio.sleep(activity_tuning.activity_idle_seconds + 0.3)
    assert await tick(worker) == 1
    [push] = await frames(ws, channel)
    assert push["data"]["active"] == [] and push["data"]["joins"] == []
    [left] = push["data"]["leaves"]
    assert left["user_id"] == learner.id and left["lesson_id"] == course.lessons[1]
    assert await tick(worker) == 0  # the course is quiet now

    # Back again: a new session, counted from zero.
    third = await heartbeat(client, learner, course.id, course.lessons[0], 5, seq=3)
    assert await tick(worker) == 1
    [push] = await frames(ws, channel)
    [entry] = push["data"]["active"]
    assert push["data"]["joins"] == [entry]
    assert entry["session_seconds"] == third["credited_seconds"]
    assert idle.id not in {item["user_id"] for item in push["data"]["active"]}


async def test_a_duplicate_heartbeat_changes_nothing_and_watched_courses_are_refreshed(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_url: str,
    ws_connect: Connect,
    worker: LiveWorker,
    tuning: live_store.LiveTuning,
) -> None:
    tuning.activity_refresh_seconds = 0.3
    course = await make_course(api, client, lessons=1, learners=1)
    channel = f"course:{course.id}:activity"
    ws = await ws_connect(ws_url, course.owner.access_token)
    assert (await subscribe(ws, channel))["ok"]
    first = await heartbeat(client, course.learners[0], course.id, course.lessons[0], 10, seq=7)
    again = await heartbeat(client, course.learners[0], course.id, course.lessons[0], 10, seq=7)
    assert again["duplicate"] is True
    assert await tick(worker) == 1
    [push] = await frames(ws, channel)
    assert push["data"]["active"][0]["session_seconds"] == first["credited_seconds"]
    # A subscriber that joins later gets the picture within the refresh interval, unchanged.
    await asyncio.sleep(0.3)
    assert await tick(worker) == 1
    [refresh] = await frames(ws, channel)
    assert refresh["data"]["active"] == push["data"]["active"] and refresh["data"]["joins"] == []


async def test_nothing_is_pushed_while_nobody_watches(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, worker: LiveWorker
) -> None:
    course = await make_course(api, client, lessons=1, learners=1)
    await heartbeat(client, course.learners[0], course.id, course.lessons[0], 10, seq=1)
    assert await tick(worker) == 0
    assert await published(runtime, f"course:{course.id}:activity") == []
    assert await live_store.active_courses(runtime.redis) == [course.id]


async def test_the_worker_locks_make_one_push_per_tick_across_workers(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, worker: LiveWorker
) -> None:
    course = await make_course(api, client, lessons=1, learners=1)
    channel = f"course:{course.id}:activity"
    await heartbeat(client, course.learners[0], course.id, course.lessons[0], 10, seq=1)
    assert runtime.hub is not None
    await runtime.hub.relay.acquire(channel)
    try:
        other = LiveWorker(runtime)
        results = await asyncio.gather(worker.activity_tick(), other.activity_tick())
    finally:
        await runtime.hub.relay.release(channel)
    assert sorted(results) == [0, 1]
    assert len(await published(runtime, channel)) == 1


@pytest.mark.parametrize(
    ("who", "activity", "analytics"),
    [
        ("enrolled", False, False),
        ("other_learner", False, False),
        ("owner", True, False),
        ("other_instructor", False, False),
        ("admin", True, True),
    ],
)
async def test_who_may_watch_activity_and_analytics(
    api: Api,
    client: httpx.AsyncClient,
    ws_url: str,
    ws_connect: Connect,
    who: str,
    activity: bool,
    analytics: bool,
) -> None:
    course = await make_course(api, client, lessons=1, learners=1)
    accounts: dict[str, Any] = {
        "enrolled": course.learners[0],
        "other_learner": await api.account("learner"),
        "owner": course.owner,
        "other_instructor": await api.account("instructor"),
        "admin": await api.account("admin"),
    }
    ws = await ws_connect(ws_url, accounts[who].access_token)
    for channel, allowed in ((f"course:{course.id}:activity", activity), ("admin:analytics", analytics)):
        answer = await subscribe(ws, channel)
        assert answer["ok"] is allowed, answer
        if not allowed:
            assert answer["error"]["code"] == "forbidden"
