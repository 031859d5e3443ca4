"""Single-statement reads straight on the driver, for the per-request look-ups that must stay cheap.

One statement sees one consistent snapshot by itself, so it needs no explicit transaction: no ORM
session, no `BEGIN`/`ROLLBACK` pair and no ping before each checkout (three round trips the session
path pays). A connection that PostgreSQL dropped since it was last used (a restart) is noticed when
the statement fails, and the statement is tried once more on a fresh connection; a second failure is
a 503 like any other unreachable-store error.

Statements are written with SQLAlchemy Core like every other and compiled once (`PlainStatement`):
running a compiled statement through an ORM session costs several times the round trip itself in
Python (greenlet hops, connection events, result processing), which the hottest reads cannot afford.
Such reads see only what is committed, so they are for reads that need nothing the caller's own
transaction wrote.
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql import Select

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


_T = TypeVar("_T")
_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


# A row of a plain statement: a named tuple of the select's columns, so `row.title` reads as on
# SQLAlchemy's rows (and as fast as a tuple index).
PlainRow = Any


@dataclass(frozen=True)
class PlainStatement:
    """A Core select compiled once for the driver: its SQL with `$n` placeholders, the names of its
    bound parameters in their order, the values of those written into the statement (a literal becomes
    a parameter with its value), and the named tuple its rows come back as, with the select's
    `selected_columns` names (a repeated name is `name_1`). Lists go in as arrays
    (`column == any_(bindparam(..., type_=ARRAY(...)))`): an expanding `IN` is compiled anew per call."""

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]
    row: type[tuple[Any, ...]]

    @classmethod
    def of(cls, statement: Select[*tuple[Any, ...]]) -> PlainStatement:
        compiled = statement.compile(dialect=_DIALECT)
        expanding = sorted(name for name, bind in compiled.binds.items() if bind.expanding)
        if expanding:
            raise ValueError(f"expanding parameters are compiled per call: {expanding}; use any_(array)")
        fixed = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        row = namedtuple("PlainRow", statement.selected_columns.keys())  # type: ignore[misc]
        return cls(str(compiled), tuple(compiled.positiontup or ()), fixed, row)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        given = {**self.fixed, **values}
        try:
            return [given[name] for name in self.names]
        except KeyError:
            missing = [name for name in self.names if name not in given]
            raise ValueError(f"no value for the parameters {missing}") from None


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
        async def run(connection: asyncpg.Connection) -> asyncpg.Record | None:
            row: asyncpg.Record | None = await connection.fetchrow(statement, *args)
            return row

        return await self._run(run)

    async def fetch(self, statement: PlainStatement, values: Mapping[str, Any]) -> list[PlainRow]:
        arguments = statement.arguments(values)

        async def run(connection: asyncpg.Connection) -> list[PlainRow]:
            make = statement.row._make  # type: ignore[attr-defined]
            return [make(record) for record in await connection.fetch(statement.sql, *arguments)]

        return await self._run(run)

    async def _run(self, run: Callable[[asyncpg.Connection], Awaitable[_T]]) -> _T:
        for attempt in (1, 2):
            try:
                pool = await self._get_pool()
                async with pool.acquire() as connection:
                    try:
                        return await run(connection)
                    except _BROKEN_CONNECTION_ERRORS:
                        connection.terminate()  # never handed out again; the pool opens a new one
                        raise
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
