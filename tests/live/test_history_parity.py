"""The in-memory history answers exactly as the Redis one does (offsets, trimming, `since` in every case),
so a hub on either keeps the same promises to its clients."""

from __future__ import annotations

import uuid
from typing import Any

from app.runtime import Runtime
from realtime.backends import History
from realtime.history import RedisHistory
from realtime.memory import MemoryHistory, MemoryRelay
from realtime.protocol import publication_fragment


async def scenario(history: History) -> list[Any]:
    """Everything a client could observe, with the epoch replaced by whether it is the channel's."""
    channel = f"test:{uuid.uuid4().hex}"
    seen: list[Any] = []
    empty = await history.since(channel, 0, "")
    seen.append(("empty", empty.recovered, empty.position.offset, empty.position.epoch))
    positions = [await history.publish(channel, publication_fragment("e", {"n": n})) for n in range(5)]
    epoch = positions[0].epoch
    seen.append(("offsets", [p.offset for p in positions], {p.epoch for p in positions} == {epoch}))
    for offset, since_epoch in [
        (0, ""),
        (0, epoch),
        (1, epoch),
        (2, epoch),
        (4, epoch),
        (5, epoch),
        (6, epoch),
        (2, "other"),
        (0, "other"),
    ]:
        recovery = await history.since(channel, offset, since_epoch)
        frames = [
            (number, frame.replace(epoch, "E").replace(channel, "C")) for number, frame in recovery.frames
        ]
        seen.append((offset, since_epoch == epoch, recovery.recovered, recovery.position.offset, frames))
    return seen


async def test_memory_and_redis_history_agree(runtime: Runtime) -> None:
    on_redis = await scenario(RedisHistory(runtime.redis, size=3, ttl_seconds=60))
    in_memory = await scenario(MemoryHistory(MemoryRelay(), size=3, ttl_seconds=60))
    assert in_memory == on_redis
    # The scenario covers both outcomes.
    assert {entry[2] for entry in on_redis[2:]} == {True, False}
