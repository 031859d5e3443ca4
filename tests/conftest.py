"""Real servers for the tests: TEST_DATABASE_URL / TEST_REDIS_URL / TEST_MONGO_URL when set, otherwise
embedded ones started once per test session. A test that asks for no store fixture starts nothing."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from app.config import Settings
from app.main import create_app
from app.runtime import Runtime, StoreUrls
from app.stores.embedded import EmbeddedServers, EmbeddedValkey
from app.stores.migrate import downgrade, upgrade
from app.stores.models import Base
from app.stores.sql import async_url
from tests.helpers import Api

TEST_MONGO_DATABASE = "learnflow_test"

# Workers of the suite (in this process and in the servers it spawns) flush what they read within a
# quarter of a second, so tests see folds quickly; tests/telemetry/test_fold_window.py sets a
# production-sized window where coalescing is what is tested.
os.environ.setdefault("TELEMETRY_FOLD_WINDOW_SECONDS", "0.25")


async def _ensure_database(url: str) -> None:
    """Create the test database on an external server if it does not exist yet."""
    plain = async_url(url).replace("postgresql+asyncpg://", "postgresql://")
    base, _, name = plain.rpartition("/")
    name = name.split("?")[0]
    connection = await asyncpg.connect(base + "/postgres")
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def store_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreUrls]:
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    mongo_url = os.environ.get("TEST_MONGO_URL")
    embedded = EmbeddedServers(tmp_path_factory.mktemp("servers"))
    started = embedded.start(
        need_postgres=not database_url, need_redis=not redis_url, need_mongo=not mongo_url
    )
    try:
        urls = StoreUrls(
            database_url=database_url or started["database_url"],
            redis_url=redis_url or started["redis_url"],
            mongo_url=mongo_url or started["mongo_url"],
        )
        if database_url:
            asyncio.run(_ensure_database(database_url))
        # Start from an empty schema so the migrations themselves are exercised every run.
        downgrade(urls.database_url, "base")
        upgrade(urls.database_url)
        yield urls
    finally:
        embedded.stop()


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_secret": "test-secret-with-enough-length-0123456789",
        "bcrypt_rounds": 4,
        "mongo_database": TEST_MONGO_DATABASE,
        "media_dir": Path("/tmp/learnflow-test-media"),
        "admin_email": None,
        "admin_password": None,
        # Tests read leaderboards right after changing them; tests/courses covers the cache.
        "leaderboard_cache_seconds": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    """A Valkey of the test's own (not started), for tests that restart it or read its files."""
    server = EmbeddedValkey(tmp_path / "valkey")
    yield server
    server.stop()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its app."""
    return {}


async def reset_stores(runtime: Runtime) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with runtime.db.transaction() as tx:
        await tx.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await runtime.redis.flushdb()
    for name in await runtime.documents.db.list_collection_names():
        await runtime.documents.db[name].delete_many({})


@pytest.fixture
async def app_and_runtime(
    store_urls: StoreUrls, settings_overrides: dict[str, Any]
) -> AsyncIterator[tuple[Any, Runtime]]:
    app = create_app(make_settings(**settings_overrides), store_urls)
    async with LifespanManager(app):
        runtime: Runtime = app.state.runtime
        await reset_stores(runtime)
        yield app, runtime


@pytest.fixture
def runtime(app_and_runtime: tuple[Any, Runtime]) -> Runtime:
    return app_and_runtime[1]


@pytest.fixture
async def client(app_and_runtime: tuple[Any, Runtime]) -> AsyncIterator[httpx.AsyncClient]:
    app, _ = app_and_runtime
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient, runtime: Runtime) -> Api:
    return Api(client, runtime)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/stores/" in str(item.path) or "/tests/auth/" in str(item.path):
            item.add_marker(pytest.mark.stores)
