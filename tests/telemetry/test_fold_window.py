"""Coalescing over time (workers/telemetry.py): a worker holds what it reads for the fold window and
folds it in one flush, acknowledging nothing before; a learner's heartbeats spread over the window
become one flush, and the totals are exact."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from app.telemetry.stream import STREAM, Entry
from tests.helpers import Api
from tests.telemetry.helpers import (
    Written,
    assert_exact,
    classroom,
    group_state,
    totals,
    wait_until_drained,
    write_entries,
)
from workers import telemetry as telemetry_worker
from workers.telemetry import TelemetryWorker

pytestmark = pytest.mark.timeout(60)

WINDOW_SECONDS = 4.0


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"telemetry_fold_window_seconds": WINDOW_SECONDS, "telemetry_claim_idle_seconds": 30}


class Recording(TelemetryWorker):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, consumer="recording")
        self.flushes: list[tuple[float, int]] = []

    async def process(self, ids: list[str], entries: list[Entry], *, redelivered: bool) -> None:
        self.flushes.append((time.monotonic(), len(ids)))
        await super().process(ids, entries, redelivered=redelivered)


async def test_heartbeats_within_the_window_are_folded_in_one_flush(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    room = await classroom(api, learners=2, courses=1, lessons=2)
    ((course_id, lessons),) = room.courses.items()
    worker = Recording(runtime)
    assert worker.window_seconds == WINDOW_SECONDS
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.3)  # the group exists and the worker waits for entries
        written = Written()
        first_sent = time.monotonic()
        for round_ in range(3):
            for learner in room.learners:
                fields = {
                    "u": learner.id,
                    "c": course_id,
                    "l": lessons[round_ % 2],
                    "s": 5,
                    "t": int(time.time() * 1000),
                }
                await runtime.redis.xadd(STREAM, fields)  # type: ignore[arg-type]
                written.add(learner.id, course_id, 5)
            await asyncio.sleep(0.4)
        held = await group_state(runtime.redis)
        while held != (6, 6, 0) and time.monotonic() - first_sent < WINDOW_SECONDS - 1:
            await asyncio.sleep(0.05)  # the worker reads what has arrived every half second
            held = await group_state(runtime.redis)
        checked_within_window = time.monotonic() - first_sent < WINDOW_SECONDS
        assert checked_within_window, "the box was too slow to look inside the window"
        assert held == (6, 6, 0)  # all read, none acknowledged
        assert worker.flushes == []
        nothing = await totals(runtime)
        assert nothing.bucket_seconds == nothing.progress_seconds == nothing.rollup_seconds == 0

        await wait_until_drained(runtime.redis, timeout=20)
        assert [count for _, count in worker.flushes] == [6]
        assert worker.flushes[0][0] - first_sent >= WINDOW_SECONDS * 0.9
        assert_exact(await totals(runtime), written)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_backlog_is_read_at_once_into_full_flushes(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that finds more waiting than one read returns (it fell behind) reads again at once rather
    than at the next poll, so its flush is full and each document write carries the more heartbeats the
    further behind it is. With polls 3 s apart inside a 4 s window, waiting for them would end the window
    with three reads (150 entries), not a full flush of 200."""
    monkeypatch.setattr(telemetry_worker, "_WINDOW_POLL_SECONDS", 3.0)
    room = await classroom(api, learners=4, courses=2, lessons=2)
    written = Written()
    await write_entries(runtime.redis, room, 230, written, seed=5)
    worker = Recording(runtime)
    worker.batch_size = 200
    worker.consumer.read_chunk = 50
    task = asyncio.create_task(worker.run())
    try:
        await wait_until_drained(runtime.redis, timeout=30)
        assert [count for _, count in worker.flushes] == [200, 30]
        assert_exact(await totals(runtime), written)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
