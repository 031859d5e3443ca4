"""A hub built with its own key prefix (HubConfig.keys) keeps every Redis key and shard channel under it,
so two hubs can share one Redis without hearing each other; the default prefix stays `lf`."""

from __future__ import annotations

import asyncio
import uuid

from app.runtime import Runtime
from realtime.config import HubConfig
from realtime.keys import KeyLayout
from realtime.protocol import publication_fragment
from realtime.redis_backends import redis_backends
from realtime.relay import channels_with_listeners


async def test_every_key_of_a_hub_follows_its_prefix(runtime: Runtime) -> None:
    assert HubConfig().keys.prefix == "lf" and HubConfig().online_key == "lf:{online}"
    prefix = f"t{uuid.uuid4().hex[:8]}"
    config = HubConfig(keys=KeyLayout(prefix=prefix))
    assert config.online_key == f"{prefix}:{{online}}"
    backends = redis_backends(runtime.redis, config)
    delivered: list[tuple[str, int | None]] = []
    lost: list[str] = []

    async def control(message: str) -> None:
        pass

    backends.relay.bind(
        lambda channel, offset, epoch, frame: delivered.append((channel, offset)), control, lost.append
    )
    await backends.relay.start()
    channel = f"test:{uuid.uuid4().hex}"
    try:
        await backends.relay.acquire(channel)
        assert await backends.relay.has_listeners([channel]) == {channel: True}
        # Hubs on the default prefix do not see this one's channel.
        assert await channels_with_listeners(runtime.redis, [channel]) == {channel: False}

        position = await backends.history.publish(channel, publication_fragment("e", 1))
        async with asyncio.timeout(5):
            while not delivered:
                await asyncio.sleep(0.01)
        assert delivered == [(channel, position.offset)] and lost == []
        assert (
            await runtime.redis.exists(f"{prefix}:hist:{{{channel}}}:m", f"{prefix}:hist:{{{channel}}}:s")
            == 2
        )
        assert await runtime.redis.exists(f"lf:hist:{{{channel}}}:m") == 0

        assert backends.online is not None
        await backends.online.add("1")
        assert await runtime.redis.keys(f"{prefix}:{{online}}:*")
        await backends.online.forget()
    finally:
        await backends.relay.stop()
