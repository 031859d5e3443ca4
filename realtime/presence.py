"""Presence in Redis: who is subscribed to a channel, across instances.

Guarantees: an entry exists while its connection is subscribed and its instance keeps refreshing it;
entries of an instance that died expire `ttl` seconds after its last refresh, and the first live
instance serving the channel announces them as leaves.
"""

from __future__ import annotations

import json
import time
from typing import Any

from realtime.keys import DEFAULT_KEYS, KeyLayout
from realtime.redis_client import RedisClient


class RedisPresence:
    def __init__(self, redis: RedisClient, *, ttl_seconds: float, keys: KeyLayout = DEFAULT_KEYS) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl = ttl_seconds

    async def join(self, channel: str, client_id: str, info: dict[str, Any]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._keys.presence_entries(channel), client_id, json.dumps(info))
            pipe.zadd(self._keys.presence_expiry(channel), {client_id: time.time() + self.ttl})
            pipe.expire(self._keys.presence_entries(channel), int(self.ttl * 10))
            pipe.expire(self._keys.presence_expiry(channel), int(self.ttl * 10))
            await pipe.execute()

    async def leave(self, channel: str, client_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._keys.presence_entries(channel), client_id)
            pipe.zrem(self._keys.presence_expiry(channel), client_id)
            await pipe.execute()

    async def refresh(self, entries: dict[str, list[str]]) -> None:
        """Extend this instance's entries: {channel: [client ids]}."""
        if not entries:
            return
        expiry = time.time() + self.ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, client_ids in entries.items():
                pipe.zadd(self._keys.presence_expiry(channel), dict.fromkeys(client_ids, expiry), xx=True)
                pipe.expire(self._keys.presence_entries(channel), int(self.ttl * 10))
                pipe.expire(self._keys.presence_expiry(channel), int(self.ttl * 10))
            await pipe.execute()

    async def expire(self, channel: str) -> list[dict[str, Any]]:
        """Remove entries whose instance stopped refreshing them; returns them (to announce as leaves)."""
        key = self._keys.presence_expiry(channel)
        stale = [str(member) for member in await self._redis.zrangebyscore(key, "-inf", time.time())]
        if not stale:
            return []
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self._keys.presence_entries(channel), stale)
            pipe.hdel(self._keys.presence_entries(channel), *stale)
            pipe.zrem(key, *stale)
            infos, _, removed = await pipe.execute()
        if not removed:
            return []
        return [json.loads(info) for info in infos if info]

    async def members(self, channel: str) -> list[dict[str, Any]]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._keys.presence_entries(channel))
            pipe.zrangebyscore(self._keys.presence_expiry(channel), time.time(), "+inf")
            entries, alive = await pipe.execute()
        live = set(alive)
        return [json.loads(info) for client_id, info in entries.items() if client_id in live]
