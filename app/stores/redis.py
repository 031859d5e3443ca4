"""Redis (or Valkey) client factory: one pooled asyncio client per process."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

MAX_CONNECTIONS = 200


def create_redis(url: str, *, retries: int = 3) -> Redis:
    """`retries=0` for a client whose commands are not idempotent (a command whose reply was lost may
    have run: sending it again could apply it twice)."""
    pool = BlockingConnectionPool.from_url(
        url,
        # A burst (say, thousands of sockets authenticating at once) waits for a free connection
        # instead of failing; only a wait of more than 5 s is an error.
        max_connections=MAX_CONNECTIONS,
        timeout=5,
        decode_responses=True,
        health_check_interval=30,
        socket_connect_timeout=5,
        # After a Redis restart every pooled connection is dead; retrying on a fresh connection keeps
        # the first command after the restart from failing.
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        retry_on_error=[ConnectionError, TimeoutError],
    )
    return Redis(connection_pool=pool)


async def ping(client: Redis) -> None:
    await client.ping()
