"""Redis (or Valkey) client factory: one pooled asyncio client per process."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError


def create_redis(url: str) -> Redis:
    # After a Redis restart every pooled connection is dead; retrying on a fresh connection keeps the
    # first command after the restart from failing.
    return Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        socket_connect_timeout=5,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        retry_on_error=[ConnectionError, TimeoutError],
    )


async def ping(client: Redis) -> None:
    await client.ping()
