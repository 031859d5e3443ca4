"""Presence in Redis: who is subscribed to a channel, across instances.

Guarantees: an entry exists while its connection is subscribed and its instance keeps refreshing it;
entries of an instance that died expire `ttl` seconds after its last refresh, and the first live
instance serving the channel announces them as leaves.
"""

from __future__ import annotations

import json
import time
from typing import Any

from redis.asyncio import Redis

_ENTRIES = "lf:pres:{}:e"
_EXPIRY = "lf:pres:{}:x"


class RedisPresence:
    def __init__(self, redis: Redis, *, ttl_seconds: float) -> None:
        self._redis = redis
        self.ttl = ttl_seconds

    async def join(self, channel: str, client_id: str, info: dict[str, Any]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(_ENTRIES.format(channel), client_id, json.dumps(info))
            pipe.zadd(_EXPIRY.format(channel), {client_id: time.time() + self.ttl})
            pipe.expire(_ENTRIES.format(channel), int(self.ttl * 10))
            pipe.expire(_EXPIRY.format(channel), int(self.ttl * 10))
            await pipe.execute()

    async def leave(self, channel: str, client_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(_ENTRIES.format(channel), client_id)
            pipe.zrem(_EXPIRY.format(channel), client_id)
            await pipe.execute()

    async def refresh(self, entries: dict[str, list[str]]) -> None:
        """Extend this instance's entries: {channel: [client ids]}."""
        if not entries:
            return
        expiry = time.time() + self.ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, client_ids in entries.items():
                pipe.zadd(_EXPIRY.format(channel), dict.fromkeys(client_ids, expiry), xx=True)
                pipe.expire(_ENTRIES.format(channel), int(self.ttl * 10))
                pipe.expire(_EXPIRY.format(channel), int(self.ttl * 10))
            await pipe.execute()

    async def expire(self, channel: str) -> list[dict[str, Any]]:
        """Remove entries whose instance stopped refreshing them; returns them (to announce as leaves)."""
        key = _EXPIRY.format(channel)
        stale = [str(member) for member in await self._redis.zrangebyscore(key, "-inf", time.time())]
        if not stale:
            return []
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hmget(_ENTRIES.format(channel), stale)
            pipe.hdel(_ENTRIES.format(channel), *stale)
            pipe.zrem(key, *stale)
            infos, _, removed = await pipe.execute()
        if not removed:
            return []
        return [json.loads(info) for info in infos if info]

    async def members(self, channel: str) -> list[dict[str, Any]]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(_ENTRIES.format(channel))
            pipe.zrangebyscore(_EXPIRY.format(channel), time.time(), "+inf")
            entries, alive = await pipe.execute()
        live = set(alive)
        return [json.loads(info) for client_id, info in entries.items() if client_id in live]
