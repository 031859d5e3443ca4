"""Rate limits with the `limits` library on Redis storage (the same Valkey/Redis as everything else)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from limits import RateLimitItem, parse
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from app.errors import TooManyRequests
from app.stores.redis import parse_cluster_url, waiting_pool


@dataclass(frozen=True)
class LimitState:
    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


def _storage(redis_url: str, pool: object) -> RedisStorage:
    """One key per (limit, scope, key), so in a Redis Cluster each moving window stays on one shard."""
    cluster = parse_cluster_url(redis_url)
    if cluster is None:
        options: dict[str, Any] = {"connection_pool": pool}
        return RedisStorage(redis_url, implementation="redispy", key_prefix="lf:rl", **options)
    credentials = ""
    if cluster.username or cluster.password:
        credentials = f"{quote(cluster.username or '')}:{quote(cluster.password or '')}@"
    return RedisClusterStorage(
        f"async+redis+cluster://{credentials}{cluster.seeds}",
        implementation="redispy",
        key_prefix="lf:rl",
        **({"ssl": True} if cluster.tls else {}),
    )


class RateLimiter:
    def __init__(self, redis_url: str, *, enabled: bool = True) -> None:
        self.enabled = enabled
        # limits' own pool refuses a request past its size; ours waits (a tick of requests comes at once).
        self._pool = None if parse_cluster_url(redis_url) else waiting_pool(redis_url)
        self._storage = _storage(redis_url, self._pool)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    async def hit(self, limit: str, scope: str, key: str) -> LimitState | None:
        """Count one request against `limit` for (scope, key); raise TooManyRequests when over it."""
        if not self.enabled:
            return None
        item = self._item(limit)
        allowed = await self._limiter.hit(item, scope, key)
        stats = await self._limiter.get_window_stats(item, scope, key)
        state = LimitState(limit=item.amount, remaining=stats.remaining, reset_at=stats.reset_time)
        if not allowed:
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise TooManyRequests(
                "Too many requests; slow down.",
                details={"limit": limit, "retry_after": retry_after},
                headers={"Retry-After": str(retry_after), **state.headers()},
            )
        return state

    async def reset(self) -> None:
        await self._storage.reset()

    async def close(self) -> None:
        """Close the storage's own Redis client. `limits` (5.x, pinned) has no close of its own; its
        redis-py client is `storage.bridge.storage`. Should that move, there is nothing to close here and
        the connections go with the process."""
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        closer = getattr(client, "aclose", None)
        if callable(closer):
            await closer()
        if self._pool is not None:  # given to the client, so not closed by it
            await self._pool.disconnect()
