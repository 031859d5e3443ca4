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


async def test_with_a_concurrency_of_one_what_arrives_during_a_flush_waits_for_the_next_one() -> None:
    """Group commit proper: one flush at a time, so the items of several ticks that arrive while it runs
    leave together in the next one; a failure does not stall the items queued behind it."""
    flushed: list[list[int]] = []
    release = asyncio.Event()
    running = 0
    most_running = 0

    async def flush(items: Sequence[int]) -> list[int]:
        nonlocal running, most_running
        running += 1
        most_running = max(most_running, running)
        flushed.append(list(items))
        if items[0] == 0:
            await release.wait()
        running -= 1
        if items[0] == 1:
            raise ConnectionError("store went away")
        return [item * 10 for item in items]

    batcher: TickBatcher[int, int] = TickBatcher(flush, concurrency=1)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(batcher.submit(n)) for n in (1, 2)]
    await asyncio.sleep(0)
    last = asyncio.ensure_future(batcher.submit(3))  # another tick, while the first flush still runs
    for _ in range(5):
        await asyncio.sleep(0)
    assert flushed == [[0]]
    release.set()
    assert await first == 0
    results = await asyncio.gather(*later, last, return_exceptions=True)
    assert flushed == [[0], [1, 2, 3]]
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await batcher.submit(4) == 40
    assert most_running == 1 and batcher.batches == 3


async def test_with_a_linger_submissions_of_several_ticks_share_one_flush() -> None:
    flushed: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int]:
        flushed.append(list(items))
        return list(items)

    batcher: TickBatcher[int, int] = TickBatcher(flush, linger=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = [asyncio.ensure_future(batcher.submit(0))]
    for n in range(1, 4):
        await asyncio.sleep(0.02)  # other ticks, well inside the linger
        waiting.append(asyncio.ensure_future(batcher.submit(n)))
    assert await asyncio.gather(*waiting) == [0, 1, 2, 3]
    waited = loop.time() - started
    assert flushed == [[0, 1, 2, 3]]
    assert 0.19 <= waited < 1.0  # the first item waited out the linger, not much more


async def test_with_a_linger_a_full_batch_leaves_at_once() -> None:
    async def flush(items: Sequence[int]) -> list[int]:
        return list(items)

    batcher: TickBatcher[int, int] = TickBatcher(flush, max_batch=3, linger=30.0)
    full = await asyncio.wait_for(asyncio.gather(*(batcher.submit(n) for n in range(3))), 5)
    assert full == [0, 1, 2] and batcher.batches == 1


async def test_with_a_linger_what_waited_for_a_running_flush_leaves_when_it_ends() -> None:
    """Items that waited for a free call longer than the linger are not held any further."""
    flushed: list[list[int]] = []
    release = asyncio.Event()

    async def flush(items: Sequence[int]) -> list[int]:
        flushed.append(list(items))
        if items[0] == 0:
            await release.wait()
        return list(items)

    batcher: TickBatcher[int, int] = TickBatcher(flush, concurrency=1, linger=0.05)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0.1)  # the first flush is running
    later = [asyncio.ensure_future(batcher.submit(n)) for n in (1, 2)]
    await asyncio.sleep(0.2)  # they wait for the only call, past their linger
    loop = asyncio.get_running_loop()
    released = loop.time()
    release.set()
    assert await asyncio.gather(first, *later) == [0, 1, 2]
    assert loop.time() - released < 0.04  # no second linger after the wait
    assert flushed == [[0], [1, 2]]


async def test_an_item_is_queued_when_submitted_not_when_its_answer_is_awaited() -> None:
    flushed: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int]:
        flushed.append(list(items))
        return [item + 1 for item in items]

    batcher: TickBatcher[int, int] = TickBatcher(flush)
    answer = batcher.submit(1)  # the caller awaits it later: the item is in this tick's batch already
    assert isinstance(answer, asyncio.Future)
    await asyncio.sleep(0.01)
    assert flushed == [[1]] and answer.done()
    assert await answer == 2
