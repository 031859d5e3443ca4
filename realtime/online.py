"""Who is online: users holding at least one open hub connection, on any instance.

All keys share the hash tag of `key` (by default `lf:{online}`), so the union runs on one Redis Cluster
shard. Each hub instance keeps one Redis set of its connected user ids (`{key}:i:{instance}`), updated when a
user's first local connection authenticates and when their last one closes, and rewritten in full by the
hub's presence loop; the set expires `ttl` seconds after the last rewrite, so the users of an instance that
died disappear on their own. A registry sorted set (`{key}:instances`, scored by expiry) names the live
instances; `count_online` unions their sets server-side and returns the number of distinct users.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from realtime.redis_client import RedisClient

# KEYS: a scratch key, then the instances' sets (all share the hash tag of `key`).
_COUNT_UNION = """
local count = redis.call('SUNIONSTORE', KEYS[1], unpack(KEYS, 2))
redis.call('DEL', KEYS[1])
return count
"""


def _instances_key(key: str) -> str:
    return f"{key}:instances"


def _instance_key(key: str, instance: str) -> str:
    return f"{key}:i:{instance}"


class OnlineUsers:
    def __init__(
        self, redis: RedisClient, key: str, *, ttl_seconds: float, instance: str | None = None
    ) -> None:
        self._redis = redis
        self.key = key
        self.instance = instance or uuid.uuid4().hex[:12]
        self._mine = _instance_key(key, self.instance)
        self._ttl_ms = max(1000, int(ttl_seconds * 1000))

    async def add(self, user_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._mine, user_id)
            pipe.pexpire(self._mine, self._ttl_ms)
            pipe.zadd(_instances_key(self.key), {self.instance: time.time() + self._ttl_ms / 1000})
            await pipe.execute()

    async def remove(self, user_id: str) -> None:
        await self._redis.srem(self._mine, user_id)

    async def refresh(self, user_ids: Iterable[str]) -> None:
        """Replace this instance's set with the users connected to it now, and extend its life."""
        users = list(user_ids)
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._mine)
            if users:
                pipe.sadd(self._mine, *users)
                pipe.pexpire(self._mine, self._ttl_ms)
            pipe.zadd(_instances_key(self.key), {self.instance: now + self._ttl_ms / 1000})
            pipe.zremrangebyscore(_instances_key(self.key), "-inf", now)
            await pipe.execute()

    async def forget(self) -> None:
        """This instance stops: its users are no longer online through it."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._mine)
            pipe.zrem(_instances_key(self.key), self.instance)
            await pipe.execute()


async def count_online(redis: RedisClient, key: str) -> int:
    """Distinct users connected to any live instance."""
    instances = [str(name) for name in await redis.zrangebyscore(_instances_key(key), time.time(), "+inf")]
    if not instances:
        return 0
    scratch = f"{key}:count:{uuid.uuid4().hex[:12]}"
    keys = [scratch, *(_instance_key(key, name) for name in instances)]
    return int(await redis.register_script(_COUNT_UNION)(keys=keys))
