"""Single-statement reads straight on the driver, for the per-request look-ups that must stay cheap.

One statement sees one consistent snapshot by itself, so it needs no explicit transaction: no ORM
session, no `BEGIN`/`ROLLBACK` pair and no ping before each checkout (three round trips the session
path pays). A connection that PostgreSQL dropped since it was last used (a restart) is noticed when
the statement fails, and the statement is tried once more on a fresh connection; a second failure is
a 503 like any other unreachable-store error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from app.errors import StoreUnavailable

# A dropped or refused connection; any other error (a bad statement) is the caller's bug and propagates.
# A statement sent on a connection whose server end just closed can also fail inside the driver's
# protocol state machine (InternalClientError) before the close itself is read.
_BROKEN_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


def driver_dsn(url: str) -> str:
    """The libpq-style URL asyncpg takes, from the SQLAlchemy one."""
    _, _, rest = url.partition("://")
    return "postgresql://" + rest


async def _keep_session_state(connection: asyncpg.Connection) -> None:
    """Only single read statements run on these connections, so there is nothing to reset on release
    (asyncpg's default reset is one more round trip per use)."""


class PlainReads:
    def __init__(self, url: str, *, pool_size: int, timeout: float = 10.0) -> None:
        self._dsn = driver_dsn(url)
        self._pool_size = pool_size
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,  # connects on first use, so creating the pool never fails
                    max_size=self._pool_size,
                    reset=_keep_session_state,
                    max_inactive_connection_lifetime=300.0,
                    timeout=self._timeout,  # to connect
                    # Bounds every statement, so waiting for a pooled connection is bounded too
                    # (`acquire(timeout=...)` would cost a task per call).
                    command_timeout=self._timeout,
                )
            return self._pool

    async def fetch_row(self, statement: str, *args: Any) -> asyncpg.Record | None:
        for attempt in (1, 2):
            try:
                pool = await self._get_pool()
                async with pool.acquire() as connection:
                    try:
                        row: asyncpg.Record | None = await connection.fetchrow(statement, *args)
                    except _BROKEN_CONNECTION_ERRORS:
                        connection.terminate()  # never handed out again; the pool opens a new one
                        raise
                    return row
            except _BROKEN_CONNECTION_ERRORS as exc:
                if attempt == 2:
                    raise StoreUnavailable("postgres") from exc
            except TimeoutError as exc:
                raise StoreUnavailable("postgres") from exc
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
