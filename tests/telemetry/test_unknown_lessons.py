"""Heartbeats naming lessons that do not exist stay cheap: a miss refetches the course's lessons (the
lesson may be new) at most once a second per course, instead of on every heartbeat."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from app.telemetry import targets
from tests.helpers import Api
from tests.telemetry.test_heartbeats import course_with_learner


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_default": "100000/minute"}


async def test_made_up_lesson_ids_do_not_reach_the_document_store_each_time(
    client: httpx.AsyncClient, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher, learner, course_id, lessons = await course_with_learner(api, client)
    reads: list[float] = []
    real = targets.lessons.for_course

    async def counted(documents: Any, course: int) -> Any:
        reads.append(time.monotonic())
        return await real(documents, course)

    monkeypatch.setattr(targets.lessons, "for_course", counted)

    async def heartbeat(lesson_id: str, seq: int) -> httpx.Response:
        return await client.post(
            f"/api/courses/{course_id}/telemetry",
            headers=learner.headers,
            json={"lesson_id": lesson_id, "seconds_spent": 1, "seq": seq},
        )

    assert (await heartbeat(lessons[0], 1)).status_code == 202
    started = time.monotonic()
    for n in range(60):
        response = await heartbeat(uuid.uuid4().hex, 100 + n)
        assert response.status_code == 404 and response.json()["error"]["code"] == "lesson_not_found"
    elapsed = time.monotonic() - started
    # One read for the known lesson, then at most one per second of made-up ids.
    assert len(reads) <= 2 + int(elapsed), (len(reads), elapsed)

    # A lesson added meanwhile is found once the second has passed.
    made = await client.post(
        f"/api/courses/{course_id}/lessons",
        headers=teacher.headers,
        json={"title": "New", "type": "text", "content": "x"},
    )
    await asyncio.sleep(1.1)
    assert (await heartbeat(made.json()["id"], 500)).status_code == 202
