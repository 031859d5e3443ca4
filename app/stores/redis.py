"""Redis (or Valkey) client factory: one pooled asyncio client per process."""

from __future__ import annotations

from redis.asyncio import Redis


def create_redis(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True, health_check_interval=30, socket_connect_timeout=5)


async def ping(client: Redis) -> None:
    await client.ping()
