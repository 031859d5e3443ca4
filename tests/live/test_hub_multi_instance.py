from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.builders import enroll, published_course
from tests.helpers import Api
from tests.live.conftest import Instance


async def make_course(api: Api, client: httpx.AsyncClient) -> tuple[Any, Any, int, list[str]]:
    teacher = await api.account("instructor")
    learner = await api.account("learner")
    course_id, lessons = await published_course(client, teacher, lessons=3, title="Live")
    await enroll(client, learner, course_id)
    return teacher, learner, course_id, lessons


async def test_publication_on_instance_a_reaches_a_client_on_instance_b_in_order(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Any
) -> None:
    first, second = instances
    teacher, learner, course_id, lessons = await make_course(api, client)
    watcher = await ws_connect(second.ws, learner.access_token)
    answer = await watcher.request(op="subscribe", channel=f"user:{learner.id}")
    assert answer["ok"] and answer["offset"] >= 0
    async with httpx.AsyncClient(base_url=first.http) as remote:
        for lesson_id in lessons:
            done = await remote.post(
                f"/api/courses/{course_id}/progress", headers=learner.headers, json={"lesson_id": lesson_id}
            )
            assert done.status_code == 200
    received = []
    while len(received) < 4:
        message = await watcher.recv()
        if message.get("channel") == f"user:{learner.id}":
            received.append(message)
    offsets = [m["offset"] for m in received]
    assert offsets == sorted(offsets) and len(set(offsets)) == 4
    assert [m["event"] for m in received] == ["progress.updated"] * 3 + ["course.completed"]
    assert [m["data"]["progress"] for m in received[:3]] == [33.33, 66.67, 100.0]


async def test_presence_is_seen_from_both_instances(
    instances: tuple[Instance, Instance], api: Api, client: httpx.AsyncClient, ws_connect: Any
) -> None:
    first, second = instances
    teacher, learner, course_id, _ = await make_course(api, client)
    channel = f"course:{course_id}:discussion"
    on_a = await ws_connect(first.ws, teacher.access_token)
    assert (await on_a.request(op="subscribe", channel=channel))["ok"]
    on_b = await ws_connect(second.ws, learner.access_token)
    assert (await on_b.request(op="subscribe", channel=channel))["ok"]
    joined = await on_a.until(
        lambda m: m.get("event") == "presence" and any(j["user_id"] == learner.id for j in m["joins"])
    )
    assert joined["channel"] == channel and joined["leaves"] == []
    for watcher in (on_a, on_b):
        members = (await watcher.request(op="presence", channel=channel))["members"]
        assert {m["user_id"] for m in members} == {teacher.id, learner.id}
    await on_b.connection.close()
    left = await on_a.until(lambda m: m.get("event") == "presence" and m["leaves"])
    assert left["leaves"][0]["user_id"] == learner.id
    await asyncio.sleep(0)
