"""A `Database` of its own with one pooled connection, for tests of the PostgreSQL access layer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.runtime import StoreUrls
from app.stores.sql import Database


@pytest.fixture
async def db(store_urls: StoreUrls) -> AsyncIterator[Database]:
    database = Database(store_urls.database_url, pool_size=1)
    try:
        yield database
    finally:
        await database.close()
