"""The bound below which `applied` ids may be pruned (StreamConsumer.settled_before): never above an
entry that some consumer still holds, even one the consumer that first read it has acknowledged."""

from __future__ import annotations

import asyncio

from app.runtime import Runtime
from app.telemetry.stream import GROUP, STREAM, StreamConsumer


async def test_an_entry_claimed_by_one_consumer_and_acknowledged_by_another_stays_unsettled(
    runtime: Runtime,
) -> None:
    redis = runtime.redis
    first, second, third = (StreamConsumer(redis, name) for name in ("first", "second", "third"))  # type: ignore[arg-type]
    await first.ensure_group()
    entry = await redis.xadd(STREAM, {"u": 1, "c": 1, "l": "L1", "s": 1, "t": 0})
    later = await redis.xadd(STREAM, {"u": 1, "c": 1, "l": "L1", "s": 1, "t": 0})

    await first.hold_from()  # nothing pending and nothing delivered yet: it may get anything
    assert await third.settled_before() == "0-0"
    ids, held = await first.read_new(1, block_ms=100)
    assert ids == [entry]
    await first.hold_from(entry)  # what it holds now
    assert await third.settled_before() == entry  # pending: nothing at or after it is settled

    # `second` takes the entry over (as after `first` seemed stopped), then `first` acknowledges it
    # after all: it is no longer pending, but `second` has still to write it.
    await second.hold_from()
    claimed: list[str] = await redis.xclaim(STREAM, GROUP, "second", 0, [entry], justid=True)  # type: ignore[assignment]
    assert claimed == [entry]
    await third.hold_from()
    later_ids, later_held = await third.read_new(1, block_ms=100)
    assert later_ids == [later]
    await third.hold_from(later)
    await first.ack([entry], held)
    await first.hold_from(later)
    # Only `later` is pending now; the entry `second` still holds keeps the bound at it.
    assert await third.settled_before() == entry

    # Once `second` is done and declares what it holds now (nothing but what comes next), it settles.
    await second.hold_from(later)
    await first.hold_from(later)
    await third.hold_from(later)
    assert await third.settled_before() == later

    # With nothing pending, a consumer about to read declares the last entry delivered, not "0-0":
    # whatever it reads next comes after it, and the others may prune below it meanwhile.
    await third.ack([later], later_held)
    await first.hold_from()
    await second.hold_from(later)
    await third.hold_from(later)
    assert await third.settled_before() == later


async def test_a_declaration_lapses(runtime: Runtime) -> None:
    redis = runtime.redis
    stopped = StreamConsumer(redis, "stopped", floor_ttl_ms=1500)  # type: ignore[arg-type]
    live = StreamConsumer(redis, "live")  # type: ignore[arg-type]
    await live.ensure_group()
    await stopped.hold_from("5-0")
    await live.hold_from("9-0")
    assert await live.settled_before() == "5-0"
    await asyncio.sleep(1.6)
    assert await live.settled_before() == "9-0"  # the stopped consumer's declaration lapsed
    assert await redis.hkeys("lf:hb:{lf:telemetry}:floors") == ["live"]
