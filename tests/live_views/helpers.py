"""Set-up through the public API, and readers for what the live channels carried."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.runtime import Runtime
from tests import builders
from tests.helpers import Account, Api
from tests.live.conftest import WsClient


@dataclass
class Course:
    id: int
    owner: Account
    lessons: list[str]
    learners: list[Account] = field(default_factory=list)


async def make_course(
    api: Api, client: httpx.AsyncClient, *, lessons: int = 3, learners: int = 2, title: str = "Live course"
) -> Course:
    owner = await api.account("instructor")
    course_id, lesson_ids = await builders.published_course(client, owner, lessons=lessons, title=title)
    course = Course(course_id, owner, lesson_ids)
    for _ in range(learners):
        course.learners.append(await enroll(api, client, course_id))
    return course


async def enroll(
    api: Api, client: httpx.AsyncClient, course_id: int, account: Account | None = None
) -> Account:
    learner = account or await api.account("learner")
    await builders.enroll(client, learner, course_id)
    return learner


async def complete(
    client: httpx.AsyncClient, learner: Account, course_id: int, lesson_id: str, done: bool = True
) -> None:
    response = await client.post(
        f"/api/courses/{course_id}/progress",
        headers=learner.headers,
        json={"lesson_id": lesson_id, "completed": done},
    )
    assert response.status_code == 200, response.text


async def heartbeat(
    client: httpx.AsyncClient, learner: Account, course_id: int, lesson_id: str, seconds: int, seq: int
) -> dict[str, Any]:
    response = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lesson_id, "seconds_spent": seconds, "seq": seq},
    )
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def published(runtime: Runtime, channel: str) -> list[dict[str, Any]]:
    """Every publication the channel's history holds, oldest first."""
    assert runtime.hub is not None
    position = await runtime.hub.history.position(channel)
    if position.offset == 0:
        return []
    recovery = await runtime.hub.history.since(channel, 0, position.epoch)
    assert recovery.recovered
    return [json.loads(frame) for _, frame in recovery.frames]


async def subscribe(ws: WsClient, channel: str) -> dict[str, Any]:
    return await ws.request(op="subscribe", channel=channel)


async def frames(ws: WsClient, channel: str, *, quiet: float = 0.3) -> list[dict[str, Any]]:
    """The publications received on `channel` until nothing arrives for `quiet` seconds."""
    received = []
    while True:
        try:
            message = await ws.recv(timeout=quiet)
        except TimeoutError:
            return received
        if message.get("channel") == channel and "offset" in message:
            received.append(message)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
