"""The Redis clients the hub works with: one server (Redis/Valkey ≥ 7) or a Redis Cluster, one code path.

Sharded pub/sub (SSUBSCRIBE/SPUBLISH) exists on both; in a cluster a shard channel lives on the shard
owning its slot, so "who listens" (PUBSUB SHARDNUMSUB) is asked of that shard.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

RedisClient = Redis | RedisCluster


async def shard_subscribers(redis: RedisClient, shard_channels: Sequence[str]) -> dict[str, int]:
    """The number of subscribers of each shard channel."""
    counts: dict[str, int] = {}
    batches: list[tuple[list[str], ClusterNode | None]]
    if isinstance(redis, RedisCluster):
        by_node: dict[str, list[str]] = defaultdict(list)
        nodes = {}
        for channel in shard_channels:
            node = redis.get_node_from_key(channel)
            if node is None:
                raise LookupError(f"no cluster node serves {channel!r}")
            by_node[node.name].append(channel)
            nodes[node.name] = node
        batches = [(channels, nodes[name]) for name, channels in by_node.items()]
    else:
        batches = [(list(shard_channels), None)]
    for channels, node in batches:
        for start in range(0, len(channels), 200):
            chunk = channels[start : start + 200]
            if node is None:
                answer = await redis.pubsub_shardnumsub(*chunk)
            else:
                answer = await redis.pubsub_shardnumsub(*chunk, target_nodes=node)
            for name, count in answer:
                counts[name.decode() if isinstance(name, bytes) else str(name)] = int(count)
    return counts
