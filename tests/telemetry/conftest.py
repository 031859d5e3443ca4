"""Telemetry tests run on their own Redis logical database.

Instances started by other test packages (tests/live) run telemetry workers in-process for the whole
session, on the default database; they would consume entries these tests write and count. Here the
app, the stream and the worker subprocesses use database TELEMETRY_REDIS_DB instead, on the same server.
PostgreSQL and MongoDB are shared and reset per test as everywhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.runtime import Runtime, StoreUrls
from tests.conftest import make_settings, reset_stores

TELEMETRY_REDIS_DB = 9


def with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def telemetry_urls(store_urls: StoreUrls) -> StoreUrls:
    return replace(store_urls, redis_url=with_redis_db(store_urls.redis_url, TELEMETRY_REDIS_DB))


@pytest.fixture
async def app_and_runtime(
    telemetry_urls: StoreUrls, settings_overrides: dict[str, Any]
) -> AsyncIterator[tuple[Any, Runtime]]:
    app = create_app(make_settings(**settings_overrides), telemetry_urls)
    async with LifespanManager(app):
        runtime: Runtime = app.state.runtime
        await reset_stores(runtime)
        yield app, runtime
