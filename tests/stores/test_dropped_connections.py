"""Pooled PostgreSQL connections that the server closed (as it does to every client when it stops or
restarts) are replaced before use: by the session pool at checkout, without a ping round trip, and by
the plain-read pool for the per-request account look-up. Neither answers an error for them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from app.errors import StoreUnavailable
from app.runtime import StoreUrls
from app.stores.plain import PlainReads
from app.stores.sql import Database


async def _backend_pid(db: Database) -> int:
    async with db.read() as tx:
        return int((await tx.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(db: Database, pid: int) -> None:
    async with db.transaction() as tx:
        await tx.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(0.2)  # the driver reads the server's close while the connection is idle


async def test_a_session_never_gets_a_connection_the_server_closed(store_urls: StoreUrls) -> None:
    db = Database(store_urls.database_url, pool_size=1)
    killer = Database(store_urls.database_url, pool_size=1)
    try:
        pid = await _backend_pid(db)
        await _terminate(killer, pid)
        # Without a replacement at checkout this statement would fail on the dead connection.
        assert await _backend_pid(db) != pid
    finally:
        await db.close()
        await killer.close()


async def test_a_plain_read_is_tried_again_on_a_fresh_connection(store_urls: StoreUrls) -> None:
    db = Database(store_urls.database_url, pool_size=1)
    killer = Database(store_urls.database_url, pool_size=1)
    try:
        row = await db.plain.fetch_row("SELECT pg_backend_pid() AS pid")
        assert row is not None
        first = row["pid"]
        async with killer.transaction() as tx:
            await tx.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # No pause: the dead connection may still look open, so the first attempt can fail mid-statement.
        row = await db.plain.fetch_row("SELECT pg_backend_pid() AS pid")
        assert row is not None and row["pid"] != first
    finally:
        await db.close()
        await killer.close()


async def test_a_plain_read_without_a_server_is_a_store_error() -> None:
    reads = PlainReads("postgresql+asyncpg://postgres@/nowhere?host=/nonexistent-socket-dir", pool_size=1)
    try:
        with pytest.raises(StoreUnavailable):
            await reads.fetch_row("SELECT 1")
    finally:
        await reads.close()
