"""The migration chain against a real PostgreSQL: head matches the models, and steps go both ways."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from app.runtime import StoreUrls
from app.stores.migrate import downgrade, upgrade
from app.stores.models import Base
from app.stores.sql import async_url

LOCKOUT_COLUMNS = {"failed_login_count", "first_failed_login_at", "locked_until"}


def _on_schema(database_url: str, read: Any) -> Any:
    async def run() -> Any:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _user_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("users")}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_head_schema_matches_the_models(store_urls: StoreUrls) -> None:
    assert _on_schema(store_urls.database_url, _differences) == []


def test_lockout_columns_are_dropped_and_restored_by_their_migration(store_urls: StoreUrls) -> None:
    url = store_urls.database_url
    assert not LOCKOUT_COLUMNS & _on_schema(url, _user_columns)
    downgrade(url, "0003")
    try:
        assert LOCKOUT_COLUMNS <= _on_schema(url, _user_columns)
    finally:
        upgrade(url)
    assert not LOCKOUT_COLUMNS & _on_schema(url, _user_columns)
