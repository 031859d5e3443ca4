"""The hub's keepalive is spread over its interval (realtime.keepalive): every socket is pinged once per
interval, a slice of them per tick, instead of all of them in one burst."""

from __future__ import annotations

import asyncio
import time

from realtime.keepalive import KeepaliveSlices
from tests.realtime.conftest import ServeHub
from tests.realtime.conftest import bare_connection as connection


def test_each_connection_is_due_once_per_interval_and_the_slices_are_even() -> None:
    slices = KeepaliveSlices(25.0)
    assert (slices.count, slices.tick_seconds) == (25, 1.0)
    connections = [connection() for _ in range(100)]
    for each in connections:
        slices.add(each)
        slices.add(each)  # added twice, still pinged once
    rounds = [[slices.due(tick) for tick in range(start, start + 25)] for start in (0, 25)]
    for ticks in rounds:
        assert sorted(len(due) for due in ticks) == [4] * 25
        pinged = [each for due in ticks for each in due]
        assert len(pinged) == 100 and set(pinged) == set(connections)
    assert rounds[0] == rounds[1]  # the same slice every round: one interval between a socket's pings


def test_a_discarded_connection_is_no_longer_pinged() -> None:
    slices = KeepaliveSlices(3.0)
    kept, gone = connection(), connection()
    slices.add(kept)
    slices.add(gone)
    slices.discard(gone)
    slices.discard(gone)
    assert len(slices) == 1
    assert [each for tick in range(3) for each in slices.due(tick)] == [kept]


def test_a_short_interval_is_one_slice() -> None:
    slices = KeepaliveSlices(0.02)
    assert (slices.count, slices.tick_seconds) == (1, 0.02)


async def test_the_hub_pings_every_socket_once_per_interval_in_slices(serve_hub: ServeHub) -> None:
    served = await serve_hub(server_ping_seconds=2.0)  # two slices, one a second
    clients = [await served.client(user) for user in range(1, 5)]
    first: list[float] = []
    async with asyncio.timeout(5):
        for client in clients:
            while (await client.recv()).get("event") != "ping":
                pass
            first.append(time.monotonic())
    # Two sockets a tick, a second apart; before, all four were pinged in the same instant.
    assert max(first) - min(first) > 0.5
    assert len(served.hub.keepalive) == 4
    await clients[0].connection.close()
    async with asyncio.timeout(5):
        while len(served.hub.keepalive) != 3:
            await asyncio.sleep(0.02)
