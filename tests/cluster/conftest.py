"""The suites under tests/cluster run on a local 3-master Redis Cluster (harness.redis_cluster): `store_urls`
is overridden here so the app, the `learnflow serve` instances and the hub use `redis+cluster://`, with the
session's PostgreSQL and MongoDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.runtime import StoreUrls
from harness.redis_cluster import RedisCluster


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    with RedisCluster(Path(tmp_path_factory.mktemp("hub-redis-cluster")), masters=3) as running:
        yield running


@pytest.fixture(scope="session")
def store_urls(store_urls: StoreUrls, redis_cluster: RedisCluster) -> StoreUrls:
    return StoreUrls(store_urls.database_url, redis_cluster.url, store_urls.mongo_url)
