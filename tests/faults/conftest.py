"""Fault-injection tests run on their own cluster (harness.cluster): embedded PostgreSQL, Valkey and
nx-27017 owned by the harness, two `learnflow serve` api processes and two `learnflow worker`
processes. Nothing here touches the session's test stores, so stopping a server disturbs no other test.
Every test leaves the cluster healthy (dead processes restarted, stores running) for the next one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.runtime import Runtime
from harness.cluster import Cluster
from tests.conftest import make_settings
from tests.helpers import Api

FAULT_ENV = {
    "RATE_LIMIT_ENABLED": "false",  # thousands of sign-ups and heartbeats from one address
    "ACCESS_TOKEN_TTL_SECONDS": "3600",
    "WS_PRESENCE_TTL_SECONDS": "3",
    "WS_MAX_CONNECTIONS_PER_USER": "200",
    "WS_FRAMES_PER_SECOND": "1000",
    "WS_FRAME_BURST": "1000",
    "TELEMETRY_CLAIM_IDLE_SECONDS": "1",
    "TELEMETRY_TOLERANCE_SECONDS": "30",
}
MONGO_DATABASE = "learnflow_faults"


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    made = Cluster(
        tmp_path_factory.mktemp("cluster"), apis=2, workers=2, env=FAULT_ENV, mongo_database=MONGO_DATABASE
    )
    made.start()
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def healthy(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster with every store and process up, before and after the test."""
    _restore(cluster)
    yield cluster
    _restore(cluster)


def _restore(cluster: Cluster) -> None:
    stores = cluster.stores
    if stores.postgres is not None and not stores.postgres.running:
        stores.start_postgres()
    if stores.valkey is not None and not stores.valkey.running:
        stores.start_redis()
    cluster.heal()


@pytest.fixture
async def store_runtime(healthy: Cluster) -> AsyncIterator[Runtime]:
    """Direct access to the cluster's stores, for setting up accounts and reading totals."""
    settings = make_settings(jwt_secret=healthy.jwt_secret, mongo_database=MONGO_DATABASE)
    runtime = Runtime.open(settings, healthy.urls)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
async def apis(healthy: Cluster, store_runtime: Runtime) -> AsyncIterator[list[Api]]:
    """One tests.helpers.Api per api instance (real HTTP to the `learnflow serve` processes)."""
    clients = [httpx.AsyncClient(base_url=p.http, timeout=30) for p in healthy.apis]
    try:
        yield [Api(client, store_runtime) for client in clients]
    finally:
        for client in clients:
            await client.aclose()


@pytest.fixture
def figures_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "test-artifacts" / "figures"
