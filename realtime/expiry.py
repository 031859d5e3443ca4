"""When each connection's token expires: a heap by expiry, so the hub's once-a-second sweep looks only at
the connections whose time has come instead of walking every socket (1.8 % of the api's CPU samples at
14,667 sockets in the telemetry bench: docs/performance/telemetry-ingest.md, "Cheaper frames, a sweep and
a keepalive that do not walk every socket").

A connection is watched again whenever its principal changes (auth, `refresh`, a re-check); the entries it
leaves behind are skipped when they come up, as is a connection that closed or was collected, and a
connection watched twice for the same expiry comes due once. Entries hold the connection weakly, and the
heap is rebuilt with one current entry per connection whenever it has doubled since the last rebuild, so
it stays within about twice the sockets served.
"""

from __future__ import annotations

import heapq
import itertools
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime.connection import Connection

# Below this many entries the heap is never rebuilt: a rebuild would gain nothing.
MIN_REBUILD_ENTRIES = 1024

_Entry = tuple[float, int, "weakref.ReferenceType[Connection]"]


class ExpiryWatch:
    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._order = itertools.count()  # ties on the expiry never compare the references
        self._rebuild_at = MIN_REBUILD_ENTRIES

    def __len__(self) -> int:
        return len(self._heap)

    def watch(self, connection: Connection) -> None:
        """Note when the connection's current principal expires (call again after it changes)."""
        principal = connection.principal
        if principal is None:
            return
        heapq.heappush(self._heap, (principal.expires_at, next(self._order), weakref.ref(connection)))
        if len(self._heap) > self._rebuild_at:
            self._rebuild()

    def due(self, now: float) -> list[Connection]:
        """The open connections whose principal has expired by `now`; each is returned once."""
        heap = self._heap
        # By identity: entries of one connection for the same expiry come due together.
        expired: dict[int, Connection] = {}
        while heap and heap[0][0] <= now:
            expires_at, _, ref = heapq.heappop(heap)
            connection = ref()
            if connection is not None and _current(connection, expires_at):
                expired[id(connection)] = connection
        return list(expired.values())

    def _rebuild(self) -> None:
        kept: dict[int, _Entry] = {}  # one entry per connection: re-checks may watch it again unchanged
        for entry in self._heap:
            connection = entry[2]()
            if connection is not None and _current(connection, entry[0]):
                kept[id(connection)] = entry
        self._heap = list(kept.values())
        heapq.heapify(self._heap)
        self._rebuild_at = max(MIN_REBUILD_ENTRIES, 2 * len(self._heap))


def _current(connection: Connection, expires_at: float) -> bool:
    """True if the entry still describes the connection: open, and its principal expires then."""
    principal = connection.principal
    return connection.closing is None and principal is not None and principal.expires_at == expires_at
