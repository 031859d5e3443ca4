"""One consumer folds a partition at a time (StreamConsumer.acquire / read_new, workers/telemetry.py):
only the lease holder reads new entries, a consumer whose lease lapsed reads nothing more, and a new owner
folds every entry left pending before it reads a new one."""

from __future__ import annotations

import asyncio

import pytest

from app.runtime import Runtime
from app.telemetry import keys
from app.telemetry import parts as telemetry_parts
from app.telemetry.stream import Entry, StreamConsumer
from tests.telemetry.helpers import read_new, run_until_drained
from workers.telemetry import TelemetryWorker

pytestmark = pytest.mark.timeout(60)


async def accept(runtime: Runtime, users: range, seq: int) -> None:
    stream = telemetry_parts.stream(runtime)
    for user in users:
        await stream.accept(user_id=user, course_id=3, lesson_id="L1", seconds=1, seq=seq, enrollment_id=1)


async def test_only_the_lease_holder_reads_new_entries(runtime: Runtime) -> None:
    first, second = StreamConsumer(runtime.redis, "first"), StreamConsumer(runtime.redis, "second")
    await first.ensure_group()
    await accept(runtime, range(1, 3), seq=1)
    assert await first.acquire() == 2  # taken
    assert await first.acquire() == 1  # held, renewed
    assert await second.acquire() == 0
    assert await second.read_new(10) is None  # nothing read, nothing delivered to it
    ids, _ = await read_new(first, 10)
    assert len(ids) == 2

    await runtime.redis.delete(keys.owner(0))  # the lease lapses (the owner stalled)
    assert not await first.renew() and not await runtime.redis.exists(keys.owner(0))  # renewing never takes
    await accept(runtime, range(1, 3), seq=2)
    assert await first.read_new(10) is None  # a stalled owner reads nothing more once it lost the lease
    assert await second.acquire() == 2
    assert await first.acquire() == 0
    await second.resign()  # a stopping owner hands over at once
    assert await first.acquire() == 2
    assert await runtime.redis.pttl(keys.owner(0)) > 0  # a lease, not for ever


class Recording(TelemetryWorker):
    """Remembers what each flush held and whether it was pending before."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, consumer="successor")
        self.flushes: list[tuple[bool, list[str]]] = []

    async def process(self, ids: list[str], entries: list[Entry], *, redelivered: bool) -> None:
        self.flushes.append((redelivered, list(ids)))
        await super().process(ids, entries, redelivered=redelivered)


async def test_a_new_owner_folds_what_is_pending_before_anything_new(runtime: Runtime) -> None:
    dead = StreamConsumer(runtime.redis, "dead", lease_ms=300)
    await dead.ensure_group()
    await accept(runtime, range(1, 4), seq=1)
    assert await dead.acquire() == 2
    held, _ = await read_new(dead, 10)  # read, never folded: its owner died
    await accept(runtime, range(1, 4), seq=2)  # newer entries nobody has read yet
    await asyncio.sleep(0.4)  # its lease lapses

    worker = Recording(runtime)
    await run_until_drained(worker, runtime.redis, timeout=15)
    (redelivered, first_ids), *later = worker.flushes
    assert redelivered and first_ids == held  # the dead owner's entries, before any new one
    assert later and not any(again for again, _ in later)
    assert worker.claimed == 3 and worker.folded == 6
