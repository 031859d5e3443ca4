"""The heartbeats one acceptance call credits become one stream entry, one field each, and the partition's
backlog counter follows what is appended and what workers delete (app/telemetry/stream.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from app.runtime import Runtime
from app.stores.models import Telemetry, TelemetryApplied
from app.telemetry import keys
from app.telemetry import parts as telemetry_parts
from app.telemetry.fold import fold_into_rollups
from app.telemetry.stream import PACKED, STREAM, StreamConsumer, parse_entries
from tests.helpers import Api
from tests.telemetry.helpers import backlog, classroom, read_new

pytestmark = pytest.mark.timeout(60)


async def test_one_call_is_one_entry_and_each_heartbeat_has_its_own_id(runtime: Runtime) -> None:
    stream = telemetry_parts.stream(runtime)
    users = [901, 902, 903, 901]  # the last is 901's `seq` again: a duplicate, not appended
    accepted = await asyncio.gather(
        *(
            stream.accept(
                user_id=user, course_id=3, lesson_id="L|1", seconds=5, seq=1, enrollment_id=user + 1
            )
            for user in users
        )
    )

    raw: Any = await runtime.redis.xrange(STREAM)
    assert len(raw) == 1  # submitted in one tick: one call, one entry
    stream_id, fields = raw[0]
    assert list(fields) == [PACKED, "1", "2"]
    ids = [stream_id, f"{stream_id}.1", f"{stream_id}.2"]
    assert [acceptance.entry_id for acceptance in accepted] == [*ids, None]
    assert accepted[3].duplicate and accepted[3].credited_seconds == 0
    entries = parse_entries(0, raw)
    assert [(entry.entry_id, entry.user_id, entry.enrollment_id, entry.lesson_id) for entry in entries] == [
        (entry_id, user, user + 1, "L|1") for entry_id, user in zip(ids, users, strict=False)
    ]
    assert {keys.stream_id_of(entry_id) for entry_id in ids} == {stream_id}
    assert await backlog(runtime.redis) == 3


async def test_the_backlog_counts_heartbeats_until_a_worker_deletes_their_entry(runtime: Runtime) -> None:
    stream = telemetry_parts.stream(runtime)
    consumer = StreamConsumer(runtime.redis, "reader")  # type: ignore[arg-type]
    await consumer.ensure_group()
    await asyncio.gather(
        *(
            stream.accept(user_id=user, course_id=3, lesson_id="L1", seconds=5, seq=1, enrollment_id=1)
            for user in (1, 2)
        )
    )
    await stream.accept(user_id=3, course_id=3, lesson_id="L1", seconds=5, seq=1, enrollment_id=1)
    assert await backlog(runtime.redis) == 3

    first_ids, first = await read_new(consumer, 1)
    assert len(first_ids) == 1 and len(first) == 2
    await consumer.ack(first_ids, first)
    assert await backlog(runtime.redis) == 1
    # Acknowledged again (a claim's second owner, a resent call): deleted once, counted off once.
    await consumer.ack(first_ids, first)
    assert await backlog(runtime.redis) == 1

    rest_ids, rest = await read_new(consumer, 10)
    await consumer.ack(rest_ids, rest)
    assert await backlog(runtime.redis) == 0 and await runtime.redis.xlen(STREAM) == 0


async def test_a_count_that_drifted_is_set_right_once_the_stream_is_empty(runtime: Runtime) -> None:
    stream = telemetry_parts.stream(runtime)
    await runtime.redis.set(keys.backlog(0), 5000)  # e.g. entries deleted by hand, never counted off
    await stream.accept(user_id=7, course_id=3, lesson_id="L1", seconds=5, seq=1, enrollment_id=1)
    assert await backlog(runtime.redis) == 1  # the stream held nothing but this call's entry

    await stream.accept(user_id=8, course_id=3, lesson_id="L1", seconds=5, seq=1, enrollment_id=1)
    assert await backlog(runtime.redis) == 2  # added to what is there


async def test_the_rollup_guards_each_entry_once_for_all_its_heartbeats(api: Api, runtime: Runtime) -> None:
    """PostgreSQL keeps one guard row per stream entry (read and rolled up whole), not one per heartbeat;
    the entry folded again adds nothing."""
    room = await classroom(api, learners=3, courses=1, lessons=1)
    ((course_id, lessons),) = room.courses.items()
    stream = telemetry_parts.stream(runtime)
    await asyncio.gather(
        *(
            stream.accept(
                user_id=learner.id,
                course_id=course_id,
                lesson_id=lessons[0],
                seconds=4,
                seq=1,
                enrollment_id=1,
            )
            for learner in room.learners
        )
    )
    raw: Any = await runtime.redis.xrange(STREAM)
    entries = parse_entries(0, raw)
    assert len(raw) == 1 and len(entries) == 3

    await fold_into_rollups(runtime.db, entries)
    await fold_into_rollups(runtime.db, entries)  # delivered again after a crash before the ack

    async with runtime.db.read() as tx:
        guards = (await tx.execute(select(TelemetryApplied.entry_id))).scalars().all()
        rolled = (await tx.execute(select(func.sum(Telemetry.seconds), func.sum(Telemetry.heartbeats)))).one()
    assert guards == [raw[0][0]]
    assert tuple(rolled) == (12, 3)


async def test_heartbeats_with_and_without_seq_in_one_call_each_meet_their_own_guard(
    runtime: Runtime,
) -> None:
    """A heartbeat with `seq` sends its last-seq key, one without sends its idempotency key: in one call,
    each is checked against its own, whatever the mix."""
    stream = telemetry_parts.stream(runtime)
    sent = [(11, 1, ""), (12, None, "k1"), (13, 1, ""), (12, None, "k1"), (11, 1, ""), (12, None, "k2")]
    accepted = await asyncio.gather(
        *(
            stream.accept(
                user_id=user,
                course_id=3,
                lesson_id=f"L{user}",
                seconds=5,
                seq=seq,
                enrollment_id=1,
                idempotency_key=key or None,
            )
            for user, seq, key in sent
        )
    )

    assert [acceptance.duplicate for acceptance in accepted] == [False, False, False, True, True, False]
    raw: Any = await runtime.redis.xrange(STREAM)
    assert len(raw) == 1
    assert [(entry.user_id, entry.lesson_id) for entry in parse_entries(0, raw)] == [
        (11, "L11"),
        (12, "L12"),
        (13, "L13"),
        (12, "L12"),  # another key: another heartbeat, within 12's wall-clock budget
    ]
