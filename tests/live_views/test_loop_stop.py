"""The live views' loop stops when cancelled, even if a tick's store client absorbed the cancellation and
raised its own error or returned as if it had finished (workers/stopping.py)."""

from __future__ import annotations

import asyncio

import pytest

from workers.live import LiveWorker


@pytest.mark.parametrize("how", ["return", "error"])
async def test_the_loop_stops_when_a_tick_absorbs_its_cancellation(worker: LiveWorker, how: str) -> None:
    ticks = 0
    in_tick = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        ticks += 1
        in_tick.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if how == "error":
                raise ConnectionError("connection closed by the client") from None

    task = asyncio.create_task(worker._loop("test", tick, lambda: 0.05))
    try:
        await asyncio.wait_for(in_tick.wait(), 5)
        task.cancel()
        await asyncio.wait([task], timeout=5)
        assert task.done() and task.cancelled()
        assert ticks == 1
    finally:
        task.cancel()
        await asyncio.wait([task], timeout=5)
