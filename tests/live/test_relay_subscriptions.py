"""The relay's upstream subscriptions follow what the hub holds, also for channels acquired or released
while the relay's own (re)subscription is on its way to Redis (a fresh api process takes connections as
soon as it listens, so its first subscribers can arrive then)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from app.live import store as live
from app.runtime import Runtime
from realtime.history import RedisHistory
from realtime.protocol import publication_fragment
from realtime.relay import BusRelay


async def noop(_: str) -> None:
    return None


@pytest.fixture
async def relay_and_history(runtime: Runtime) -> AsyncIterator[tuple[BusRelay, RedisHistory, list[str]]]:
    history = RedisHistory(runtime.redis, size=10, ttl_seconds=60)
    delivered: list[str] = []
    relay = BusRelay(runtime.redis, history)
    relay.bind(lambda channel, offset, epoch, frame: delivered.append(frame), noop, lambda _: None)
    yield relay, history, delivered
    await relay.stop()


async def test_a_channel_acquired_while_the_relay_subscribes_is_delivered(
    relay_and_history: tuple[BusRelay, RedisHistory, list[str]],
) -> None:
    relay, history, delivered = relay_and_history
    channel = f"test:{uuid.uuid4().hex}"
    await relay.start()
    # The relay's task runs first: its subscription is on its way, without this channel, when acquire runs.
    acquired = asyncio.create_task(relay.acquire(channel))
    await asyncio.sleep(0)
    assert not relay.connected.is_set()
    # acquire returns once Redis confirms; without confirmation it gives up after 5 s.
    await asyncio.wait_for(acquired, 3)
    await history.publish(channel, publication_fragment("test.late", {"n": 1}))
    async with asyncio.timeout(5):
        while not delivered:
            await asyncio.sleep(0.01)
    assert '"test.late"' in delivered[0]


async def test_a_channel_released_while_the_relay_subscribes_is_not_kept(
    runtime: Runtime, relay_and_history: tuple[BusRelay, RedisHistory, list[str]]
) -> None:
    relay, _, _ = relay_and_history
    channel = f"test:{uuid.uuid4().hex}"
    held = asyncio.create_task(relay.acquire(channel))
    await asyncio.sleep(0)  # held before the relay starts: part of its first subscription
    await relay.start()
    await asyncio.sleep(0)  # the subscription is on its way
    await relay.release(channel)
    await asyncio.wait_for(relay.connected.wait(), 5)
    held.cancel()
    deadline = time.monotonic() + 5
    while (await live.listened(runtime.redis, [channel]))[channel]:
        assert time.monotonic() < deadline, "the released channel is still subscribed 5 s later"
        await asyncio.sleep(0.02)
