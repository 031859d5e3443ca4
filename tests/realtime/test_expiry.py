"""The hub's token-expiry watch (realtime.expiry): only expired, open, current entries come due, each
once, and the heap does not keep what no longer matters."""

from __future__ import annotations

import gc

from realtime.connection import Connection, HubPrincipal
from realtime.expiry import MIN_REBUILD_ENTRIES, ExpiryWatch
from realtime.protocol import CloseCode
from tests.realtime.conftest import bare_connection


def connection(user: int, expires_at: float) -> Connection:
    return bare_connection(HubPrincipal(str(user), expires_at))


def test_only_the_expired_come_due_in_expiry_order_and_once() -> None:
    watch = ExpiryWatch()
    late, early, middle = connection(1, 300.0), connection(2, 100.0), connection(3, 200.0)
    for each in (late, early, middle):
        watch.watch(each)
    assert watch.due(99.0) == []
    assert watch.due(250.0) == [early, middle]
    assert watch.due(250.0) == []
    assert watch.due(300.0) == [late]
    assert len(watch) == 0


def test_a_refreshed_principal_moves_the_expiry() -> None:
    watch = ExpiryWatch()
    refreshed = connection(1, 100.0)
    watch.watch(refreshed)
    refreshed.principal = HubPrincipal("1", 500.0)
    watch.watch(refreshed)
    assert watch.due(400.0) == []  # the entry of the old token is skipped
    assert watch.due(500.0) == [refreshed]


def test_a_closed_or_collected_connection_never_comes_due() -> None:
    watch = ExpiryWatch()
    closed, dropped, kept = connection(1, 100.0), connection(2, 100.0), connection(3, 100.0)
    for each in (closed, dropped, kept):
        watch.watch(each)
    closed.closing = CloseCode.NORMAL
    del dropped
    gc.collect()
    assert watch.due(100.0) == [kept]


def test_entries_of_gone_connections_are_dropped_as_the_heap_grows() -> None:
    watch = ExpiryWatch()
    live = [connection(user, 1000.0) for user in range(100)]
    for each in live:
        watch.watch(each)
    # Churn: many short-lived connections, each watched and then gone long before its token expires.
    for user in range(10 * MIN_REBUILD_ENTRIES):
        watch.watch(connection(1000 + user, 1000.0))
    assert len(watch) <= 2 * MIN_REBUILD_ENTRIES
    assert sorted(id(each) for each in watch.due(1000.0)) == sorted(id(each) for each in live)


def test_refreshes_do_not_grow_the_heap_without_bound() -> None:
    watch = ExpiryWatch()
    one = connection(1, 10.0)
    for second in range(5 * MIN_REBUILD_ENTRIES):
        one.principal = HubPrincipal("1", 10.0 + second)
        watch.watch(one)
    assert len(watch) <= MIN_REBUILD_ENTRIES + 1
    assert watch.due(1e9) == [one]


def test_watched_again_for_the_same_expiry_it_comes_due_once_and_the_heap_stays_bounded() -> None:
    watch = ExpiryWatch()
    rechecked = connection(1, 100.0)
    for _ in range(5 * MIN_REBUILD_ENTRIES):  # re-checks that leave the expiry as it was
        watch.watch(rechecked)
    assert len(watch) <= MIN_REBUILD_ENTRIES + 1
    assert watch.due(100.0) == [rechecked]
