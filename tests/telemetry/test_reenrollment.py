"""A learner who leaves a course and enrolls again starts from zero: a heartbeat of the earlier
enrollment that is delivered again (its worker died after writing it, before acknowledging) must not
count toward the new one, whose fresh progress document no longer lists the entry as applied."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from app.stores.mongo import PROGRESS, progress_id
from app.telemetry import keys
from app.telemetry.fold import enrolled_entries, fold_into_documents, fold_into_rollups
from app.telemetry.stream import StreamConsumer
from tests.helpers import Api
from tests.telemetry.helpers import Written, classroom, enroll, read_new, totals, wait_until_drained
from workers.telemetry import TelemetryWorker

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"telemetry_tolerance_seconds": 30}


async def test_an_old_entry_delivered_again_after_re_enrollment_is_not_counted(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    room = await classroom(api, learners=1, courses=1, lessons=1)
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    sent = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[0], "seconds_spent": 20, "seq": 1},
    )
    assert sent.status_code == 202, sent.text
    credited = int(sent.json()["credited_seconds"])
    assert credited > 0

    # A worker reads the entry and writes it to every store, then dies before XACK.
    doomed = StreamConsumer(runtime.redis, "doomed")
    await doomed.ensure_group()
    ids, entries = await read_new(doomed, 10)
    assert len(ids) == 1
    kept = await enrolled_entries(runtime.db, entries)
    await fold_into_documents(runtime.documents, kept, redelivered=False)
    await fold_into_rollups(runtime.db, kept)
    before = await runtime.documents.get(PROGRESS, progress_id(learner.id, course_id))
    assert before is not None and before["total_seconds_spent"] == credited

    left = await client.delete(f"/api/courses/{course_id}/unenroll", headers=learner.headers)
    assert left.status_code in (200, 204), left.text
    await enroll(client, learner, course_id)
    fresh = await runtime.documents.get(PROGRESS, progress_id(learner.id, course_id))
    assert fresh is not None and fresh["total_seconds_spent"] == 0 and fresh["applied"] == []

    # The dead one's lease lapses; a live worker takes the partition and its pending entry over.
    await runtime.redis.delete(keys.owner(0))
    successor = TelemetryWorker(runtime, consumer="successor")
    assert await successor.consumer.acquire() == 2
    ids, entries = await successor.consumer.claim(10)
    assert len(ids) == 1
    await successor.process(ids, entries, redelivered=True)
    await wait_until_drained(runtime.redis, timeout=5)

    progress = await runtime.documents.get(PROGRESS, progress_id(learner.id, course_id))
    assert progress is not None
    assert progress["total_seconds_spent"] == 0
    assert progress["lesson_times"] == {}
    # The other stores counted it once, under the first enrollment.
    found = await totals(runtime)
    assert found.bucket_seconds == credited and found.rollup_seconds == credited

    # Heartbeats of the new enrollment count as usual.
    written = Written()
    again = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[0], "seconds_spent": 5, "seq": 2},
    )
    assert again.status_code == 202, again.text
    written.add(learner.id, course_id, int(again.json()["credited_seconds"]))
    assert written.seconds > 0
    ids, entries = await read_new(successor.consumer, 10)
    await successor.process(ids, entries, redelivered=False)
    progress = await runtime.documents.get(PROGRESS, progress_id(learner.id, course_id))
    assert progress is not None and progress["total_seconds_spent"] == written.seconds
