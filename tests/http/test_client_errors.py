"""One mapping from an exception to what a client is told, used by the REST error handler and the
WebSocket op handlers alike: domain errors as they are, unreachable stores as `store_unavailable`
naming the store (found through the exception's causes), anything else as nothing (a bug: 500)."""

from __future__ import annotations

import pymongo.errors
import pytest
import redis.exceptions
import sqlalchemy.exc

from app.errors import Conflict, StoreUnavailable
from app.stores.availability import client_error


def test_a_domain_error_is_told_as_it_is() -> None:
    error = Conflict("Already enrolled.", code="already_enrolled")
    assert client_error(error) is error


@pytest.mark.parametrize(
    ("exc", "store"),
    [
        (redis.exceptions.ConnectionError("refused"), "redis"),
        (redis.exceptions.ClusterDownError("The cluster is down"), "redis"),
        (redis.exceptions.TryAgainError("TRYAGAIN"), "redis"),
        (redis.exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'"), "redis"),
        (pymongo.errors.ServerSelectionTimeoutError("no primary"), "mongo"),
        (sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("refused")), "postgres"),
    ],
)
def test_an_unreachable_store_is_named(exc: Exception, store: str) -> None:
    error = client_error(exc)
    assert isinstance(error, StoreUnavailable)
    assert (error.status, error.code, error.details) == (503, "store_unavailable", {"store": store})
    assert error.headers == {"Retry-After": "5"}


def test_the_store_is_found_through_the_causes() -> None:
    try:
        try:
            raise pymongo.errors.AutoReconnect("connection reset")
        except pymongo.errors.AutoReconnect as inner:
            raise RuntimeError("fold failed") from inner
    except RuntimeError as outer:
        error = client_error(outer)
    assert isinstance(error, StoreUnavailable) and error.details == {"store": "mongo"}


def test_anything_else_is_not_told() -> None:
    assert client_error(ValueError("a bug")) is None
    assert client_error(KeyError("missing")) is None
