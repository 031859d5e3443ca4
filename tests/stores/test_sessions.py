"""The two kinds of PostgreSQL session (app/stores/sql.py): `transaction()` is one transaction, committed
or rolled back whole; `read()` runs each statement on its own, with no BEGIN/ROLLBACK round trips."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from app.stores.sql import Database

# now() is the start of the current transaction; outside one, of the statement.
_NOW = text("SELECT now()")


async def test_a_read_runs_each_statement_on_its_own(db: Database) -> None:
    async with db.read() as tx:
        first = (await tx.execute(_NOW)).scalar_one()
        await asyncio.sleep(0.05)
        second = (await tx.execute(_NOW)).scalar_one()
    assert second > first


async def test_a_transaction_is_one_transaction(db: Database) -> None:
    async with db.transaction() as tx:
        first = (await tx.execute(_NOW)).scalar_one()
        await asyncio.sleep(0.05)
        second = (await tx.execute(_NOW)).scalar_one()
    assert second == first


async def test_the_pooled_connection_goes_back_to_transactions_after_a_read(db: Database) -> None:
    async with db.read() as tx:
        await tx.execute(_NOW)
    async with db.transaction() as tx:  # the same (only) pooled connection
        first = (await tx.execute(_NOW)).scalar_one()
        await asyncio.sleep(0.05)
        assert (await tx.execute(_NOW)).scalar_one() == first
