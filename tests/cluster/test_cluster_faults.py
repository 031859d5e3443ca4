"""A master of the Redis Cluster killed and restarted under live subscribers: the relay re-subscribes on the
shard that came back and fills its gap from history, so subscribers miss nothing (or are told
`recovered: false`), and a client that reconnects with `since` recovers what it missed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.runtime import Runtime
from harness.redis_cluster import RedisCluster
from realtime.keys import DEFAULT_KEYS
from realtime.redis_client import shard_subscribers
from tests.helpers import Api
from tests.live.conftest import Instance, instances, ws_connect
from tests.live.test_recovery import Connect, collect, publish, watch

__all__ = ["instances", "ws_connect"]


def owner_index(cluster: RedisCluster, channel: str) -> int:
    port = cluster.client().get_node_from_key(DEFAULT_KEYS.shard_channel(channel)).port
    return [node.port for node in cluster.nodes].index(port)


async def publish_when_back(runtime: Runtime, channel: str, *numbers: int) -> list[int]:
    """Publish as the app does once the shard answers again (a publish during the outage fails)."""
    async with asyncio.timeout(30):
        while True:
            try:
                return await publish(runtime, channel, *numbers)
            except Exception:  # noqa: BLE001 - the cluster is still settling
                await asyncio.sleep(0.2)


async def test_a_killed_and_restarted_master_loses_no_publication(
    instances: tuple[Instance, Instance],
    redis_cluster: RedisCluster,
    api: Api,
    runtime: Runtime,
    ws_connect: Connect,
) -> None:
    first, second = instances
    learner = await api.account("learner")
    channel = f"user:{learner.id}"
    live, _ = await watch(second, ws_connect, learner)
    leaving, _ = await watch(first, ws_connect, learner)
    await publish(runtime, channel, 1, 2)
    before = await collect(live, channel, 2)
    seen = await collect(leaving, channel, 2)
    await leaving.connection.close()

    index = owner_index(redis_cluster, channel)
    redis_cluster.kill(index)
    with pytest.raises(Exception):  # noqa: B017 - whichever error the client raises, nothing is published
        await publish(runtime, channel, 99)
    redis_cluster.restart(index)
    await publish_when_back(runtime, channel, 3, 4)

    # The live subscriber gets everything after the restart, once, in order, or is told to refetch.
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(15):
        while len([f for f in frames if "offset" in f]) < 2:
            frame = await live.recv(15)
            if frame.get("channel") != channel:
                continue
            frames.append(frame)
            if frame.get("event") == "resubscribe":
                assert frame["recovered"] is False
                break
    offsets = [f["offset"] for f in frames if "offset" in f]
    if not any(f.get("event") == "resubscribe" for f in frames):
        assert offsets == [before[-1]["offset"] + 1, before[-1]["offset"] + 2]
        assert [f["data"]["n"] for f in frames] == [3, 4]

    # A client that was away during the outage resubscribes with its position on the other instance.
    back, answer = await watch(
        first, ws_connect, learner, since={"offset": seen[-1]["offset"], "epoch": seen[-1]["epoch"]}
    )
    if answer["recovered"]:
        missed = await collect(back, channel, 2)
        assert [f["data"]["n"] for f in missed] == [3, 4]
    else:
        assert answer["offset"] == seen[-1]["offset"] + 2


async def test_listeners_are_counted_on_the_shard_that_owns_each_channel(
    instances: tuple[Instance, Instance],
    redis_cluster: RedisCluster,
    api: Api,
    runtime: Runtime,
    ws_connect: Connect,
) -> None:
    learners = [await api.account("learner") for _ in range(9)]
    for learner in learners[:4]:
        await watch(instances[0], ws_connect, learner)
    channels = [DEFAULT_KEYS.shard_channel(f"user:{learner.id}") for learner in learners]
    assert len({owner_index(redis_cluster, f"user:{learner.id}") for learner in learners}) > 1
    counts = await shard_subscribers(runtime.redis, channels)
    assert counts == {channel: 1 if n < 4 else 0 for n, channel in enumerate(channels)}
