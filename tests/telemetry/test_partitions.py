"""The heartbeat stream split into partitions (app/telemetry/keys.py): each learner's heartbeats go to one
partition, whose keys share one Redis Cluster slot; every partition is consumed and folded exactly once,
and entries of different partitions never pass for one another, even with equal stream ids."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import redis.exceptions
from redis.crc import key_slot

from app.runtime import Runtime
from app.stores.mongo import PROGRESS, progress_id
from app.telemetry import keys
from app.telemetry import parts as telemetry_parts
from app.telemetry.activity import COURSES
from app.telemetry.fold import FoldMemory, fold_into_documents, fold_into_rollups
from app.telemetry.stream import Entry
from tests.helpers import Api
from tests.telemetry.helpers import Written, assert_exact, classroom, drain, send_heartbeats, totals

PARTITIONS = 3


def test_every_key_of_a_partition_is_in_the_slot_of_its_stream() -> None:
    slots = set()
    for partition in range(8):
        slot = key_slot(keys.stream(partition).encode())
        slots.add(slot)
        for key in (
            keys.budget(partition, 7),
            keys.last_seq(partition, 7, 42),
            keys.idempotency(partition, 7, "a-key"),
        ):
            assert key_slot(key.encode()) == slot, key
    assert len(slots) == 8  # the partitions spread over the slots
    assert keys.stream(0) == "lf:telemetry"  # the single stream's name is kept


def test_applied_ids_name_their_partition_and_order_within_it() -> None:
    assert keys.applied_id(0, "1700-3") == "1700-3"
    assert keys.applied_id(2, "1700-3") == "2/1700-3"
    assert keys.applied_order("1700-3") == (0, 1700, 3)
    assert keys.applied_order("2/1700-3") == (2, 1700, 3)
    assert keys.applied_order("2/1700-3") < keys.applied_order("2/1701-0")  # type: ignore[operator]
    assert keys.applied_order("not an id") is None
    assert keys.applied_order("2/1700-3.5") == (2, 1700, 3)  # a later heartbeat of the same entry
    assert keys.applied_id(2, "1700-3", 5) == "2/1700-3.5" and keys.applied_id(0, "1700-3", 0) == "1700-3"
    assert keys.stream_id_of("2/1700-3.5") == keys.stream_id_of("1700-3") == "1700-3"
    assert keys.partition_of(7, 3) == 1 and keys.partition_of(7, 1) == 0


def test_an_entry_order_is_one_number_per_entry_ordered_as_its_stream_id() -> None:
    assert keys.entry_order("2/1700-3.5") == keys.entry_order("2/1700-3") == (2, 1_700_000_003)
    ids = ["1700-0", "1700-9", "1700-10", "1701-0", "1733412345678-999999", "1733412345679-0"]
    orders = [keys.entry_order(entry_id)[1] for entry_id in ids]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    with pytest.raises(ValueError):
        keys.entry_order("1700-1000000")  # a sequence number one integer cannot hold
    with pytest.raises(ValueError):
        keys.entry_order("not an id")
    assert keys.fold_mark(0) == "folded_p0" and keys.fold_mark(12) == "folded_p12"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"telemetry_partitions": PARTITIONS}


async def test_partitioned_ingest_is_folded_exactly_once(
    client: httpx.AsyncClient, api: Api, runtime: Runtime
) -> None:
    room = await classroom(api, learners=9, courses=2)
    written = Written()
    await send_heartbeats(client, room, written)
    lengths = [int(await runtime.redis.xlen(keys.stream(k))) for k in range(PARTITIONS)]
    assert sum(lengths) == written.entries > 0
    by_partition = {keys.partition_of(learner.id, PARTITIONS) for learner in room.learners}
    assert [k for k in range(PARTITIONS) if lengths[k]] == sorted(by_partition)
    # A heartbeat sent again with its seq is a duplicate in its partition too.
    course_id, lessons = next(iter(room.courses.items()))
    again = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=room.learners[0].headers,
        json={"lesson_id": lessons[0], "seconds_spent": 12, "seq": 0},
    )
    assert again.status_code == 202 and again.json()["duplicate"] is True
    # The live activity is noted for every accepted heartbeat, in its own slot.
    assert {int(c) for c in await runtime.redis.zrange(COURSES, 0, -1)} == set(room.courses)

    await drain(runtime, PARTITIONS)
    assert_exact(await totals(runtime), written)


def entry(partition: int, stream_id: str, user_id: int, course_id: int, lesson_id: str) -> Entry:
    at_ms = int(stream_id.partition("-")[0])
    return Entry(keys.applied_id(partition, stream_id), user_id, course_id, lesson_id, 1, at_ms)


async def test_equal_stream_ids_of_two_partitions_are_two_entries(api: Api, runtime: Runtime) -> None:
    room = await classroom(api, learners=1, courses=1)
    user_id = room.learners[0].id
    course_id, lessons = next(iter(room.courses.items()))
    now_ms = int(time.time() * 1000)
    first = [entry(0, f"{now_ms + n}-0", user_id, course_id, lessons[0]) for n in range(40)]
    second = [entry(2, f"{now_ms + n}-0", user_id, course_id, lessons[0]) for n in range(40)]
    memory = FoldMemory()
    for batch in (first, second):
        await fold_into_documents(runtime.documents, batch, redelivered=False, memory=memory)
        await fold_into_rollups(runtime.db, batch)
        await fold_into_documents(runtime.documents, batch, redelivered=True, memory=memory)  # no change
        await fold_into_rollups(runtime.db, batch)
    found = await totals(runtime)
    assert found.progress_seconds == found.rollup_seconds == found.bucket_seconds == 80

    # Each partition has its own mark on the document: the newest entry of each folded into it.
    doc = await runtime.documents.get(PROGRESS, progress_id(user_id, course_id))
    assert doc is not None
    newest = keys.entry_order(f"{now_ms + 39}-0")[1]
    assert doc[keys.fold_mark(0)] == doc[keys.fold_mark(2)] == newest
    assert doc["applied"] == []


async def test_a_heartbeat_stays_accepted_when_its_live_activity_cannot_be_noted(
    client: httpx.AsyncClient, api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = await classroom(api, learners=1, courses=1)
    learner = room.learners[0]
    course_id, lessons = next(iter(room.courses.items()))

    async def unreachable(**_: Any) -> Any:
        raise redis.exceptions.ConnectionError("the {act} shard is away")

    monkeypatch.setattr(telemetry_parts.stream(runtime), "_note_activity", unreachable)
    response = await client.post(
        f"/api/courses/{course_id}/telemetry",
        headers=learner.headers,
        json={"lesson_id": lessons[0], "seconds_spent": 5, "seq": 1},
    )
    assert response.status_code == 202 and response.json()["credited_seconds"] == 5
    partition = keys.partition_of(learner.id, PARTITIONS)
    assert await runtime.redis.xlen(keys.stream(partition)) == 1
    assert await runtime.redis.zrange(COURSES, 0, -1) == []  # the live views only lag
