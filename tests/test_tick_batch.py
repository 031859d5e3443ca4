"""Group commit (app/tick_batch.py): one flush per event-loop tick, each submitter gets its own answer,
a failed flush fails each of its submitters, and a batch never exceeds `max_batch`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.tick_batch import TickBatcher


async def test_submissions_of_one_tick_share_one_flush_and_get_their_own_answers() -> None:
    flushed: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int]:
        flushed.append(list(items))
        return [item * 10 for item in items]

    batcher: TickBatcher[int, int] = TickBatcher(flush)
    assert await asyncio.gather(*(batcher.submit(n) for n in range(5))) == [0, 10, 20, 30, 40]
    assert await batcher.submit(7) == 70
    assert flushed == [[0, 1, 2, 3, 4], [7]] and batcher.batches == 2


async def test_a_failed_flush_fails_every_submitter_of_its_batch_and_the_next_batch_is_fresh() -> None:
    calls = 0

    async def flush(items: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("store went away")
        return [item.upper() for item in items]

    batcher: TickBatcher[str, str] = TickBatcher(flush)
    results = await asyncio.gather(batcher.submit("a"), batcher.submit("b"), return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await batcher.submit("c") == "C"


async def test_a_tick_larger_than_max_batch_goes_out_in_several_flushes() -> None:
    sizes: list[int] = []

    async def flush(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        return list(items)

    batcher: TickBatcher[int, int] = TickBatcher(flush, max_batch=4)
    assert await asyncio.gather(*(batcher.submit(n) for n in range(10))) == list(range(10))
    assert sorted(sizes) == [2, 4, 4]


async def test_a_flush_that_answers_the_wrong_number_of_items_fails_loudly() -> None:
    async def flush(items: Sequence[int]) -> list[int]:
        return [1]

    batcher: TickBatcher[int, int] = TickBatcher(flush)
    with pytest.raises(ValueError):
        await asyncio.gather(batcher.submit(1), batcher.submit(2))
