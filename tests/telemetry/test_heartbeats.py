from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.runtime import Runtime
from app.stores.mongo import COURSE_TELEMETRY, PROGRESS, progress_id
from app.telemetry.stream import STREAM
from tests.builders import enroll, published_course
from tests.helpers import Api
from tests.telemetry.helpers import read_new
from workers.telemetry import TelemetryWorker


async def course_with_learner(api: Api, client: httpx.AsyncClient) -> tuple[Any, Any, int, list[str]]:
    teacher = await api.account("instructor")
    learner = await api.account("learner")
    course_id, lessons = await published_course(client, teacher, lessons=2, title="T")
    await enroll(client, learner, course_id)
    return teacher, learner, course_id, lessons


async def test_inflation_is_credited_wall_clock_time_only(
    client: httpx.AsyncClient, api: Api, runtime: Runtime
) -> None:
    _, learner, course_id, lessons = await course_with_learner(api, client)
    credited = 0
    started = asyncio.get_running_loop().time()
    for seq in range(6):
        response = await client.post(
            f"/api/courses/{course_id}/telemetry",
            headers=learner.headers,
            json={"lesson_id": lessons[0], "seconds_spent": 60, "seq": seq},
        )
        assert response.status_code == 202, response.text
        credited += response.json()["credited_seconds"]
        await asyncio.sleep(1)
    elapsed = asyncio.get_running_loop().time() - started
    first_allowance = runtime.settings.telemetry_first_heartbeat_max_seconds
    tolerance = runtime.settings.telemetry_tolerance_seconds
    assert credited <= elapsed + first_allowance + tolerance
    assert credited >= first_allowance  # the honest part is still counted


async def test_duplicates_by_seq_are_ignored_and_refusals(client: httpx.AsyncClient, api: Api) -> None:
    teacher, learner, course_id, lessons = await course_with_learner(api, client)
    body = {"lesson_id": lessons[0], "seconds_spent": 10, "seq": 7}
    first = await client.post(f"/api/courses/{course_id}/telemetry", headers=learner.headers, json=body)
    again = await client.post(f"/api/courses/{course_id}/telemetry", headers=learner.headers, json=body)
    assert first.json()["duplicate"] is False and again.json() == {
        "status": "success",
        "accepted": True,
        "duplicate": True,
        "credited_seconds": 0,
    }
    stranger = await api.account("learner")
    refused = await client.post(f"/api/courses/{course_id}/telemetry", headers=stranger.headers, json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_enrolled"
    other = (
        await client.post(
            "/api/courses", headers=teacher.headers, json={"title": "O", "category": "C", "level": "Beginner"}
        )
    ).json()
    foreign = await client.post(
        f"/api/courses/{other['id']}/lessons",
        headers=teacher.headers,
        json={"title": "F", "type": "text", "content": "x"},
    )
    wrong = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": foreign.json()["id"], "seconds_spent": 5},
    )
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "lesson_not_found"
    for bad in (
        {"lesson_id": lessons[0], "seconds_spent": 0},
        {"lesson_id": lessons[0], "seconds_spent": 61},
    ):
        invalid = await client.post(f"/api/courses/{course_id}/telemetry", headers=learner.headers, json=bad)
        assert invalid.status_code == 422
        assert invalid.json()["error"]["details"][0]["field"] == "seconds_spent"


async def test_worker_folds_accepted_seconds_exactly_once(
    client: httpx.AsyncClient, api: Api, runtime: Runtime
) -> None:
    _, learner, course_id, lessons = await course_with_learner(api, client)
    accepted = 0
    for seq, lesson in enumerate([lessons[0], lessons[1], lessons[0]]):
        response = await client.post(
            f"/api/courses/{course_id}/telemetry",
            headers=learner.headers,
            json={"lesson_id": lesson, "seconds_spent": 5, "seq": seq},
        )
        accepted += response.json()["credited_seconds"]
    assert accepted == 15
    worker = TelemetryWorker(runtime, consumer="test-worker")
    await worker.consumer.ensure_group()
    ids, entries = await read_new(worker.consumer, 100)
    assert len(entries) == 3
    await worker.process(ids, entries, redelivered=False)
    # The same entries again, as after a crash before the acknowledgement: nothing changes.
    await worker.process(ids, entries, redelivered=True)
    progress = await runtime.documents.get(PROGRESS, progress_id(learner.id, course_id))
    assert progress is not None
    assert progress["total_seconds_spent"] == 15
    assert progress["lesson_times"] == {lessons[0]: 10, lessons[1]: 5}
    assert progress["last_accessed"].endswith("Z")
    buckets = await runtime.documents.find(COURSE_TELEMETRY, {"course_id": course_id})
    assert sum(b["seconds"] for b in buckets) == 15 and sum(b["heartbeats"] for b in buckets) == 3
    rest = await client.get(f"/api/courses/{course_id}/progress", headers=learner.headers)
    assert rest.json()["total_seconds_spent"] == 15
    assert await runtime.redis.xlen(STREAM) == 0
