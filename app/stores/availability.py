"""Driver errors that mean a store cannot be reached, each named by its store, for 503 responses; and
the one mapping from an exception to what a client is told, shared by REST and the WebSocket ops."""

from __future__ import annotations

import asyncpg
import pymongo.errors
import redis.exceptions
import sqlalchemy.exc

from app.errors import DomainError, StoreUnavailable

UNAVAILABLE_ERRORS: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
    (
        "postgres",
        (
            sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.TimeoutError,
            asyncpg.PostgresConnectionError,
            asyncpg.CannotConnectNowError,
        ),
    ),
    (
        "redis",
        (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
            # A Redis Cluster with a shard away ("CLUSTERDOWN"), or a slot moving or not served yet.
            redis.exceptions.ClusterDownError,
            redis.exceptions.TryAgainError,
            redis.exceptions.SlotNotCoveredError,
            # At `maxmemory` with nothing to evict: it takes no writes until memory is freed or raised.
            redis.exceptions.OutOfMemoryError,
        ),
    ),
    ("mongo", (pymongo.errors.ConnectionFailure, pymongo.errors.ServerSelectionTimeoutError)),
)


def unavailable_store(exc: BaseException) -> str | None:
    """The store an exception says is unreachable, or None when it is some other error."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, StoreUnavailable):
            return str(seen.details["store"])
        for store, types in UNAVAILABLE_ERRORS:
            if isinstance(seen, types):
                return store
        if isinstance(seen, sqlalchemy.exc.DBAPIError) and seen.connection_invalidated:
            return "postgres"
        seen = seen.__cause__ or seen.__context__
    return None


def client_error(exc: BaseException) -> DomainError | None:
    """What a client is told about `exc`: the domain error itself, `store_unavailable` naming an
    unreachable store, or None for anything else (a bug: logged, and answered as an internal error)."""
    if isinstance(exc, DomainError):
        return exc
    store = unavailable_store(exc)
    return StoreUnavailable(store) if store is not None else None
