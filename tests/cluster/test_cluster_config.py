"""Redis Cluster mode is chosen by configuration: `redis+cluster://` seeds in REDIS_URL, or
REDIS_CLUSTER_URLS."""

from __future__ import annotations

import pytest
from limits.aio.storage import RedisClusterStorage, RedisStorage
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from app.http.ratelimit import _storage
from app.stores.redis import ClusterAddress, cluster_url, create_redis, parse_cluster_url
from tests.conftest import make_settings


def test_cluster_urls_name_every_seed_and_the_credentials() -> None:
    assert parse_cluster_url("redis://127.0.0.1:6379/0") is None
    assert parse_cluster_url("redis+cluster://10.0.0.1:7000,10.0.0.2:7001") == ClusterAddress(
        [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    )
    assert parse_cluster_url("rediss+cluster://app:p%40ss@redis-1:6379") == ClusterAddress(
        [("redis-1", 6379)], "app", "p@ss", tls=True
    )
    with pytest.raises(ValueError, match="host:port"):
        parse_cluster_url("redis+cluster://redis-1")


def test_node_urls_become_one_cluster_url() -> None:
    assert cluster_url(["redis://:pw@a:1", "redis://b:2/0"]) == "redis+cluster://:pw@a:1,b:2"
    assert cluster_url(["rediss://a:1"]) == "rediss+cluster://a:1"


def test_redis_cluster_urls_win_over_redis_url_when_set() -> None:
    settings = make_settings(redis_cluster_urls="redis://a:7000, redis://b:7001")
    assert settings.redis_url == "redis+cluster://a:7000,b:7001"
    chosen = make_settings(redis_url="redis://x:1", redis_cluster_urls="redis://a:1").redis_url
    assert chosen == "redis+cluster://a:1"
    # Compose passes an empty value when the cluster is not in use.
    assert make_settings(redis_url="redis://x:1", redis_cluster_urls="").redis_url == "redis://x:1"


async def test_the_factory_picks_the_client_and_the_rate_limit_storage_by_url() -> None:
    single, cluster = create_redis("redis://127.0.0.1:1/0"), create_redis("redis+cluster://127.0.0.1:1")
    assert isinstance(single, Redis) and isinstance(cluster, RedisCluster)
    await single.aclose()
    await cluster.aclose()
    assert type(_storage("redis://127.0.0.1:1/0", None)) is RedisStorage
    assert isinstance(_storage("redis+cluster://127.0.0.1:1", None), RedisClusterStorage)
