"""Who gets the hub's keepalive ping when: connections are dealt into slices, and one slice is pinged per
tick, so each socket still gets one ping per interval but the writes are spread over it. Pinging every
socket at once is a write each (some 15 µs, from the telemetry bench's profiles), so at 20,000 sockets
roughly 0.3 s of writes in one go (an estimate): a stall every reply in flight waited for.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime.connection import Connection

# One slice a second: at the default 25 s interval, a twenty-fifth of the sockets each second.
SLICE_SECONDS = 1.0


class KeepaliveSlices:
    def __init__(self, interval_seconds: float) -> None:
        self.count = max(1, int(interval_seconds / SLICE_SECONDS))
        self.tick_seconds = interval_seconds / self.count
        self._slices: list[set[Connection]] = [set() for _ in range(self.count)]
        self._where: dict[Connection, int] = {}
        self._deal = itertools.count()

    def __len__(self) -> int:
        return len(self._where)

    def add(self, connection: Connection) -> None:
        """Ping this connection from now on, once per interval (its first ping within one interval)."""
        if connection in self._where:
            return
        index = next(self._deal) % self.count
        self._where[connection] = index
        self._slices[index].add(connection)

    def discard(self, connection: Connection) -> None:
        index = self._where.pop(connection, None)
        if index is not None:
            self._slices[index].discard(connection)

    def due(self, tick: int) -> list[Connection]:
        """The connections to ping at this tick (ticks count up from 0, `tick_seconds` apart)."""
        return list(self._slices[tick % self.count])
