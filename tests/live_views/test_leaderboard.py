"""`course:{id}:leaderboard`: the ranked top N after progress or time changes, from the REST endpoint's
ranking code, coalesced to at most one push per second per course."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from app.live import store as live_store
from app.runtime import Runtime
from tests.helpers import Api
from tests.live.conftest import WsClient
from tests.live_views.helpers import complete, enroll, frames, heartbeat, make_course, published, subscribe
from tests.telemetry.helpers import read_new
from workers.live import LiveWorker
from workers.telemetry import TelemetryWorker

Connect = Callable[..., Awaitable[WsClient]]


async def rest_board(client: httpx.AsyncClient, course: Any, runtime: Runtime) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/courses/{course.id}/leaderboard",
        headers=course.owner.headers,
        params={"limit": runtime.settings.leaderboard_top_n},
    )
    assert response.status_code == 200, response.text
    board: list[dict[str, Any]] = response.json()
    return board


async def test_many_changes_within_a_second_make_one_push_equal_to_the_rest_leaderboard(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_url: str,
    ws_connect: Connect,
    worker: LiveWorker,
) -> None:
    course = await make_course(api, client, lessons=3, learners=3)
    channel = f"course:{course.id}:leaderboard"
    ws = await ws_connect(ws_url, course.owner.access_token)
    assert (await subscribe(ws, channel))["ok"]

    # A burst of changes: several learners, several lessons, one undone again.
    first, second, third = course.learners
    await complete(client, first, course.id, course.lessons[0])
    await complete(client, first, course.id, course.lessons[1])
    await complete(client, second, course.id, course.lessons[0])
    await complete(client, third, course.id, course.lessons[2])
    await complete(client, third, course.id, course.lessons[2], done=False)
    await complete(client, first, course.id, course.lessons[2])  # completes the course

    pushes = 0
    for _ in range(5):  # however often the loop ticks within the second, one push
        pushes += await worker.leaderboards_tick()
    assert pushes == 1
    received = await frames(ws, channel)
    assert len(received) == 1 and len(await published(runtime, channel)) == 1
    push = received[0]
    assert push["event"] == "leaderboard"
    assert push["data"]["course_id"] == course.id
    board = await rest_board(client, course, runtime)
    assert push["data"]["entries"] == board
    assert [entry["user_id"] for entry in board[:2]] == [first.id, second.id]
    assert board[0]["progress_percentage"] == 100 and board[0]["rank"] == 1

    # A change inside the same second waits for the lock; the next push carries the latest state.
    await complete(client, second, course.id, course.lessons[1])
    assert await live_store.dirty_leaderboards(runtime.redis) == [course.id]
    await asyncio.sleep(live_store.TUNING.leaderboard_lock_ms / 1000 + 0.1)
    assert await worker.leaderboards_tick() == 1
    later = await frames(ws, channel)
    assert len(later) == 1
    assert later[0]["data"]["entries"] == await rest_board(client, course, runtime)
    assert later[0]["offset"] == push["offset"] + 1


async def test_time_folded_by_the_telemetry_worker_reaches_the_leaderboard(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_url: str,
    ws_connect: Connect,
    worker: LiveWorker,
) -> None:
    course = await make_course(api, client, lessons=2, learners=2)
    channel = f"course:{course.id}:leaderboard"
    ws = await ws_connect(ws_url, course.learners[0].access_token)  # public leaderboard: learners too
    assert (await subscribe(ws, channel))["ok"]
    await worker.leaderboards_tick()  # the enrollments
    await frames(ws, channel)
    await asyncio.sleep(live_store.TUNING.leaderboard_lock_ms / 1000 + 0.1)

    credited = await heartbeat(client, course.learners[1], course.id, course.lessons[0], 10, seq=1)
    assert credited["credited_seconds"] > 0
    folding = TelemetryWorker(runtime, consumer="live-views-test", on_folded=worker.on_folded)
    await folding.consumer.ensure_group()
    ids, entries = await read_new(folding.consumer, 100)
    await folding.process(ids, entries, redelivered=False)

    assert await worker.leaderboards_tick() == 1
    received = await frames(ws, channel)
    assert len(received) == 1
    entries_pushed = received[0]["data"]["entries"]
    assert entries_pushed == await rest_board(client, course, runtime)
    seconds = {entry["user_id"]: entry["total_seconds_spent"] for entry in entries_pushed}
    assert seconds[course.learners[1].id] == credited["credited_seconds"]


async def test_a_course_nobody_watches_is_pushed_once_someone_subscribes(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_url: str,
    ws_connect: Connect,
    worker: LiveWorker,
) -> None:
    course = await make_course(api, client, lessons=2, learners=1)
    channel = f"course:{course.id}:leaderboard"
    await complete(client, course.learners[0], course.id, course.lessons[0])
    assert await worker.leaderboards_tick() == 0
    assert await published(runtime, channel) == []
    assert await live_store.dirty_leaderboards(runtime.redis) == [course.id]  # kept for later

    ws = await ws_connect(ws_url, course.owner.access_token)
    assert (await subscribe(ws, channel))["ok"]
    assert await worker.leaderboards_tick() == 1
    received = await frames(ws, channel)
    assert [push["data"]["entries"] for push in received] == [await rest_board(client, course, runtime)]
    assert await live_store.dirty_leaderboards(runtime.redis) == []


async def test_a_change_that_leaves_the_ranking_as_it_was_is_not_pushed_again(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    ws_url: str,
    ws_connect: Connect,
    worker: LiveWorker,
) -> None:
    course = await make_course(api, client, lessons=2, learners=1)
    channel = f"course:{course.id}:leaderboard"
    ws = await ws_connect(ws_url, course.owner.access_token)
    assert (await subscribe(ws, channel))["ok"]
    await complete(client, course.learners[0], course.id, course.lessons[0])
    assert await worker.leaderboards_tick() == 1
    await asyncio.sleep(live_store.TUNING.leaderboard_lock_ms / 1000 + 0.1)
    await complete(client, course.learners[0], course.id, course.lessons[0])  # already complete
    assert await worker.leaderboards_tick() == 0
    assert len(await frames(ws, channel)) == 1

    # Enrolling someone new changes it (and the newcomer ranks last, with 0 %).
    newcomer = await enroll(api, client, course.id)
    await asyncio.sleep(live_store.TUNING.leaderboard_lock_ms / 1000 + 0.1)
    assert await worker.leaderboards_tick() == 1
    entries = (await published(runtime, channel))[-1]["data"]["entries"]
    assert entries[-1]["user_id"] == newcomer.id and entries[-1]["progress_percentage"] == 0


async def test_the_push_is_capped_at_the_top_n(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, worker: LiveWorker
) -> None:
    course = await make_course(api, client, lessons=1, learners=runtime.settings.leaderboard_top_n + 2)
    channel = f"course:{course.id}:leaderboard"
    assert runtime.hub is not None
    await runtime.hub.relay.acquire(channel)  # a listener on this instance
    try:
        assert await worker.leaderboards_tick() == 1
    finally:
        await runtime.hub.relay.release(channel)
    entries = (await published(runtime, channel))[0]["data"]["entries"]
    assert len(entries) == runtime.settings.leaderboard_top_n
    assert entries == await rest_board(client, course, runtime)


async def test_the_running_workers_push_progress_and_folded_time_on_their_own(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, ws_url: str, ws_connect: Connect
) -> None:
    from workers.runner import start_workers

    course = await make_course(api, client, lessons=2, learners=2)
    channel = f"course:{course.id}:leaderboard"
    ws = await ws_connect(ws_url, course.owner.access_token)
    assert (await subscribe(ws, channel))["ok"]
    stop = await start_workers(runtime)
    try:
        await complete(client, course.learners[1], course.id, course.lessons[0])

        def leads(message: dict[str, Any]) -> bool:
            if message.get("channel") != channel or message.get("event") != "leaderboard":
                return False
            return bool(message["data"]["entries"][0]["user_id"] == course.learners[1].id)

        push = await ws.until(leads)
        assert push["data"]["entries"][0]["progress_percentage"] == 50
        credited = await heartbeat(client, course.learners[0], course.id, course.lessons[0], 10, seq=1)

        def has_time(message: dict[str, Any]) -> bool:
            if message.get("channel") != channel or message.get("event") != "leaderboard":
                return False
            seconds = {entry["user_id"]: entry["total_seconds_spent"] for entry in message["data"]["entries"]}
            return seconds.get(course.learners[0].id) == credited["credited_seconds"]

        await ws.until(has_time, timeout=10)
    finally:
        await stop()
    assert (await published(runtime, channel))[-1]["data"]["entries"] == await rest_board(
        client, course, runtime
    )
