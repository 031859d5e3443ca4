"""`learnflow worker` processes dying mid-batch, standing by and taking a partition over (an acknowledged
heartbeat is never lost and never counted twice, even if a worker dies mid-batch). The workers here run
with a one-second lease (TELEMETRY_CLAIM_IDLE_SECONDS=1): a successor takes over a second after its
predecessor died.

Every test ends with the three stores holding exactly what was put into the stream: the sum of the
`course_telemetry` buckets, the `progress` totals (and their lesson times) and the PostgreSQL daily
rollups all equal the accepted seconds, and the heartbeat counts equal the number of entries.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.runtime import Runtime, StoreUrls
from app.stores.mongo import COURSE_TELEMETRY, PROGRESS, progress_id
from app.telemetry import keys
from app.telemetry.fold import enrolled_entries, fold_into_documents
from app.telemetry.stream import GROUP, STREAM, Entry
from tests.helpers import Api
from tests.telemetry.helpers import (
    Workers,
    Written,
    assert_exact,
    classroom,
    consumers,
    group_state,
    run_until_drained,
    send_heartbeats,
    totals,
    wait_until_drained,
    write_entries,
)
from workers.telemetry import TelemetryWorker

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def workers(telemetry_urls: StoreUrls, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(telemetry_urls, tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


async def test_killed_between_write_and_ack_then_restarted(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, workers: Workers
) -> None:
    room = await classroom(api, learners=20, courses=2, lessons=3)
    written = Written()
    await send_heartbeats(client, room, written)
    await write_entries(runtime.redis, room, 3000, written, seed=1)
    assert written.entries == 3040 and await runtime.redis.xlen(STREAM) == written.entries

    # Two workers in a row die right after writing a batch to MongoDB and PostgreSQL, before XACK:
    # the second one takes over the first one's entries (or reads new ones) and dies the same way.
    for round_ in range(2):
        doomed = workers.start(LEARNFLOW_FAILPOINT="after-write", TELEMETRY_BATCH_SIZE="200")
        assert await doomed.exited(timeout=30) == 137, doomed.log_path.read_text()
        partial = await totals(runtime)
        _, pending, _ = await group_state(runtime.redis)
        assert pending > 0  # delivered, written, never acknowledged
        assert 0 < partial.bucket_seconds < written.seconds
        assert 0 < partial.rollup_seconds < written.seconds
        assert await runtime.redis.xlen(STREAM) == written.entries  # nothing was acknowledged
        if round_ == 0:
            dead = await consumers(runtime.redis)
            assert list(dead.values()) == [200]

    survivor = workers.start(TELEMETRY_BATCH_SIZE="200")
    await survivor.started()
    await wait_until_drained(runtime.redis, timeout=60)
    stopped = await survivor.stop()
    assert stopped["claimed"] >= 200  # the dead workers' pending entries were taken over
    assert stopped["folded"] == written.entries  # the dead acknowledged nothing: the survivor did it all
    assert_exact(await totals(runtime), written)
    assert all(pending == 0 for pending in (await consumers(runtime.redis)).values())


@pytest.mark.parametrize(
    ("failpoint", "documents_written"),
    [
        # A worker dying while it holds a coalescing window leaves its entries pending (acknowledged only
        # after the flush that contains them), and whoever takes them over counts them once.
        ("in-window", False),
        # A worker dying after its documents are written and before the SQL rollup of the same flush:
        # the documents hold the flush, PostgreSQL none of it; whoever takes the entries over completes
        # the rollup and leaves the documents as they are.
        ("between-writes", True),
    ],
)
async def test_killed_before_a_flush_is_complete(
    api: Api,
    client: httpx.AsyncClient,
    runtime: Runtime,
    workers: Workers,
    failpoint: str,
    documents_written: bool,
) -> None:
    room = await classroom(api, learners=10, courses=2, lessons=2)
    written = Written()
    await send_heartbeats(client, room, written)
    await write_entries(runtime.redis, room, 1000, written, seed=11)
    doomed = workers.start(LEARNFLOW_FAILPOINT=failpoint, TELEMETRY_BATCH_SIZE="300")
    assert await doomed.exited(timeout=30) == 137, doomed.log_path.read_text()
    partial = await totals(runtime)
    assert partial.bucket_seconds == partial.progress_seconds
    assert (partial.bucket_seconds > 0) is documents_written
    assert partial.rollup_seconds == 0
    assert list((await consumers(runtime.redis)).values()) == [300]  # read, held, never acknowledged
    survivor = workers.start(TELEMETRY_BATCH_SIZE="300")
    await survivor.started()
    await wait_until_drained(runtime.redis, timeout=60)
    stopped = await survivor.stop()
    assert stopped["claimed"] == 300 and stopped["folded"] == written.entries
    assert_exact(await totals(runtime), written)


async def test_one_worker_folds_a_partition_and_a_standby_takes_over_when_it_stops(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, workers: Workers
) -> None:
    room = await classroom(api, learners=10, courses=2, lessons=2)
    quiet = {"TELEMETRY_BATCH_SIZE": "25", "TELEMETRY_CLAIM_IDLE_SECONDS": "60"}
    first = workers.start(**quiet)
    first_name = await first.started()
    written = Written()
    await send_heartbeats(client, room, written)
    await wait_until_drained(runtime.redis, timeout=30)
    second = workers.start(**quiet)
    second_name = await second.started()
    for wave in range(10):
        await write_entries(runtime.redis, room, 100, written, seed=100 + wave)
        await asyncio.sleep(0.05)
    await wait_until_drained(runtime.redis, timeout=60)
    assert await runtime.redis.get(keys.owner(0)) == first_name
    assert set(await consumers(runtime.redis)) == {first_name, second_name}  # the standby is listed too
    one = await first.stop()  # hands the partition over at once, not after its 60 s lease
    assert one["folded"] == written.entries and one["claimed"] == 0
    for wave in range(5):
        await write_entries(runtime.redis, room, 100, written, seed=200 + wave)
    await wait_until_drained(runtime.redis, timeout=30)
    assert await runtime.redis.get(keys.owner(0)) == second_name
    two = await second.stop()
    assert two["folded"] == 500 and two["claimed"] == 0
    assert_exact(await totals(runtime), written)


async def test_pending_entries_of_a_dead_owner_are_claimed_by_its_successor(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, workers: Workers
) -> None:
    room = await classroom(api, learners=5, courses=1, lessons=2)
    live = workers.start()
    name = await live.started()
    written = Written()
    await send_heartbeats(client, room, written)
    await wait_until_drained(runtime.redis, timeout=30)
    await live.stop()
    # An owner reads entries and vanishes before writing anything; its lease lapses a second later.
    await runtime.redis.set(keys.owner(0), "ghost", px=1000)
    async with runtime.redis.pipeline(transaction=True) as pipe:
        batch = Written()
        rng = random.Random(7)
        now_ms = int(time.time() * 1000)
        ((course_id, lessons),) = room.courses.items()
        for _ in range(50):
            learner = rng.choice(room.learners)
            seconds = rng.randint(1, 60)
            pipe.xadd(
                STREAM, {"u": learner.id, "c": course_id, "l": rng.choice(lessons), "s": seconds, "t": now_ms}
            )
            batch.add(learner.id, course_id, seconds)
        pipe.xreadgroup(GROUP, "ghost", {STREAM: ">"}, count=50)
        replies = await pipe.execute()
    assert len(replies[-1][0][1]) == 50
    assert (await consumers(runtime.redis))["ghost"] == 50
    successor = workers.start()
    successor_name = await successor.started()
    await wait_until_drained(runtime.redis, timeout=30)
    assert (await consumers(runtime.redis)) == {name: 0, "ghost": 0, successor_name: 0}
    stopped = await successor.stop()
    assert stopped["claimed"] == 50 and stopped["folded"] == 50
    written.entries += batch.entries
    written.seconds += batch.seconds
    for key, seconds in batch.by_progress.items():
        written.by_progress[key] = written.by_progress.get(key, 0) + seconds
    assert_exact(await totals(runtime), written)


async def test_workers_killed_at_random_moments(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, workers: Workers
) -> None:
    """SIGKILL at arbitrary points (inside a Mongo bulk write, between collections, inside the PostgreSQL
    transaction, between the writes and XACK), several times, while entries keep arriving."""
    room = await classroom(api, learners=10, courses=2, lessons=2)
    written = Written()
    await send_heartbeats(client, room, written)
    rng = random.Random(42)
    for round_ in range(4):
        await write_entries(runtime.redis, room, 500, written, seed=200 + round_)
        victim = workers.start(TELEMETRY_BATCH_SIZE="50")
        await victim.started()
        await asyncio.sleep(rng.uniform(0.05, 0.6))
        victim.kill()
    survivor = workers.start(TELEMETRY_BATCH_SIZE="50")
    await survivor.started()
    await wait_until_drained(runtime.redis, timeout=60)
    await survivor.stop()
    assert_exact(await totals(runtime), written)


async def test_crash_with_a_backlog_on_one_busy_document(
    api: Api, client: httpx.AsyncClient, runtime: Runtime, workers: Workers
) -> None:
    """One learner heartbeating every second on one lesson: a backlog of 1500 entries all for the same
    progress document and hourly bucket. A worker dies after writing the first batch; its successor
    takes the partition over once the lease lapses, folds the dead one's pending entries first (already
    in the documents: the marks say so) and only then reads the newer ones."""
    room = await classroom(api, learners=1, courses=1, lessons=1)
    learner = room.learners[0]
    ((course_id, lessons),) = room.courses.items()
    written = Written()
    hour_start = int(time.time() // 3600 * 3600 * 1000)
    async with runtime.redis.pipeline(transaction=False) as pipe:
        for n in range(1500):
            pipe.xadd(STREAM, {"u": learner.id, "c": course_id, "l": lessons[0], "s": 1, "t": hour_start + n})
            written.add(learner.id, course_id, 1)
        await pipe.execute()
    doomed = workers.start(LEARNFLOW_FAILPOINT="after-write", TELEMETRY_BATCH_SIZE="500")
    assert await doomed.exited(timeout=30) == 137
    written_first = await totals(runtime)
    assert written_first.bucket_seconds == 500  # in the documents, never acknowledged
    survivor = workers.start(TELEMETRY_BATCH_SIZE="500", TELEMETRY_CLAIM_IDLE_SECONDS="4")
    await survivor.started()
    await wait_until_drained(runtime.redis, timeout=60)
    stopped = await survivor.stop()
    assert stopped["claimed"] == 500 and stopped["folded"] == 1500
    assert_exact(await totals(runtime), written)
    newest = (await runtime.redis.xinfo_groups(STREAM))[0]["last-delivered-id"]
    bucket = await runtime.documents.db[COURSE_TELEMETRY].find_one({})
    progress = await runtime.documents.get(PROGRESS, progress_id(learner.id, course_id))
    assert bucket is not None and progress is not None
    for doc in (bucket, progress):
        assert doc[keys.fold_mark(0)] == keys.entry_order(newest)[1] and doc["applied"] == []


class FailsOnce(TelemetryWorker):
    """Writes its first batch to MongoDB, then fails as if PostgreSQL went away before the rollup."""

    failures = 0

    async def process(self, ids: list[str], entries: list[Entry], *, redelivered: bool) -> None:
        if not self.failures:
            self.failures += 1
            kept = await enrolled_entries(self.runtime.db, entries)
            await fold_into_documents(self.runtime.documents, kept, redelivered=redelivered)
            raise RuntimeError("store error in the middle of a batch")
        await super().process(ids, entries, redelivered=redelivered)


async def test_a_failed_batch_is_retried_by_its_own_consumer(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A batch that fails stays pending on the live consumer that read it; it is retried right away, not
    only once it has been idle long enough for some consumer to claim it."""
    room = await classroom(api, learners=5, courses=1, lessons=2)
    written = Written()
    await send_heartbeats(client, room, written)
    await write_entries(runtime.redis, room, 300, written, seed=9)
    worker = FailsOnce(runtime, consumer="flaky")
    worker.batch_size = 100
    worker.claim_idle_ms = 600_000
    await run_until_drained(worker, runtime.redis, timeout=15)
    assert worker.failures == 1 and worker.claimed == 0 and worker.folded == written.entries
    assert_exact(await totals(runtime), written)


class AbsorbsItsStop(TelemetryWorker):
    """A flush whose store call swallows the cancellation: it returns as if it had finished (Python
    3.11's `asyncio.wait_for` when the result arrives with the cancellation) or raises the client's own
    connection error instead."""

    def __init__(self, runtime: Runtime, how: str) -> None:
        super().__init__(runtime, consumer=f"absorbs-{how}")
        self.how = how
        self.flushes = 0
        self.in_flush = asyncio.Event()

    async def process(self, ids: list[str], entries: list[Entry], *, redelivered: bool) -> None:
        self.flushes += 1
        self.in_flush.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if self.how == "error":
                raise ConnectionError("connection closed by the client") from None


@pytest.mark.parametrize("how", ["return", "error"])
async def test_a_worker_stops_when_a_store_client_absorbs_its_cancellation(
    api: Api, runtime: Runtime, how: str
) -> None:
    room = await classroom(api, learners=1, courses=1, lessons=1)
    await write_entries(runtime.redis, room, 3, Written(), seed=3)
    worker = AbsorbsItsStop(runtime, how)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.in_flush.wait(), 10)
        task.cancel()
        await asyncio.wait([task], timeout=10)
        assert task.done() and task.cancelled()
        assert worker.flushes == 1  # not retried after the stop
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=10)
