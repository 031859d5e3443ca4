"""PostgreSQL access: the engine, sessions and the one way services open a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.errors import StoreUnavailable
from app.stores.plain import PlainReads

# Services receive a `Tx` and hand it to store functions; they never use it directly.
Tx = AsyncSession


def async_url(url: str) -> str:
    """Accept plain postgres:// URLs from the environment and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = async_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            # No ping round trip per checkout: see _drop_closed_connection.
            pool_pre_ping=False,
            pool_timeout=10,
            echo=echo,
        )
        event.listen(self.engine.sync_engine.pool, "checkout", _drop_closed_connection)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads run each statement on its own (PostgreSQL's autocommit): a read-only transaction would add
        # a BEGIN and a ROLLBACK round trip to every request and, at READ COMMITTED, give no snapshot
        # across its statements anyway. The driver skips both on the client side.
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        # The hot single-statement reads (the caller's account, catalogue, enrollments, discussion pages)
        # skip the session machinery. They are most of the reads, so their pool may grow as far as the
        # session pool with its overflow: with fewer connections than requests in flight, the wait for
        # one set the slowest requests' latency (bench.rest: p99 395 -> 100 ms on discussions).
        self.plain = PlainReads(self.url, pool_size=2 * pool_size)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except OSError as exc:
            # asyncpg reports a refused or dropped connection as a bare OSError.
            raise StoreUnavailable("postgres") from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A session for reading only: each statement sees what is committed when it runs; no locks are
        held (FOR UPDATE belongs in `transaction()`), and nothing written here is rolled back."""
        try:
            async with self._read_sessions() as session:
                yield session
        except OSError as exc:
            raise StoreUnavailable("postgres") from exc

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.plain.close()
        await self.engine.dispose()


def _drop_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """When PostgreSQL stops or restarts it closes every client connection, and the driver sees the
    socket close while the connection sits in the pool; such a connection is replaced at checkout
    (SQLAlchemy reconnects when a checkout listener raises DisconnectionError) instead of failing its
    first statement. This local check replaces a `SELECT 1` round trip before every session. A
    connection cut without the driver noticing fails its statement (a 503) and SQLAlchemy then
    invalidates the whole pool."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def like_escape(text: str) -> str:
    """Escape LIKE wildcards so user input matches literally (use with escape="\\\\")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
