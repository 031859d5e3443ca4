"""The hub's parts on Redis (one server or a cluster): what a hub serving several instances is built on."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from realtime.backends import Backends
from realtime.config import HubConfig
from realtime.history import RedisHistory
from realtime.metrics import hub_metrics
from realtime.online import OnlineUsers
from realtime.presence import RedisPresence
from realtime.redis_client import RedisClient
from realtime.relay import BusRelay


def redis_backends(redis: RedisClient, config: HubConfig) -> Backends:
    history = RedisHistory(
        redis, size=config.history_size, ttl_seconds=config.history_ttl_seconds, keys=config.keys
    )
    return Backends(
        history=history,
        presence=RedisPresence(redis, ttl_seconds=config.presence_ttl_seconds, keys=config.keys),
        relay=BusRelay(
            redis,
            history,
            keys=config.keys,
            reconnects=hub_metrics(config.metrics_namespace).relay_reconnects,
        ),
        online=(
            OnlineUsers(redis, config.online_key, ttl_seconds=config.presence_ttl_seconds)
            if config.online_key
            else None
        ),
        unavailable=(RedisConnectionError, RedisTimeoutError),
    )
