"""When each connection's token expires: a heap by expiry, so the hub's once-a-second sweep looks only at
the connections whose time has come instead of walking every socket (which, at 20,000 sockets, held the
event loop for milliseconds each second).

A connection is watched again whenever its principal changes (auth, `refresh`, a re-check); the entries it
leaves behind are skipped when they come up, as is a connection that closed or was collected. Entries
hold the connection weakly, and the heap is rebuilt without the stale ones whenever it has doubled since
the last rebuild, so it stays within about twice the sockets served.
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
        expired: list[Connection] = []
        while heap and heap[0][0] <= now:
            expires_at, _, ref = heapq.heappop(heap)
            connection = ref()
            if connection is not None and _current(connection, expires_at):
                expired.append(connection)
        return expired

    def _rebuild(self) -> None:
        kept: list[_Entry] = []
        for entry in self._heap:
            connection = entry[2]()
            if connection is not None and _current(connection, entry[0]):
                kept.append(entry)
        heapq.heapify(kept)
        self._heap = kept
        self._rebuild_at = max(MIN_REBUILD_ENTRIES, 2 * len(kept))


def _current(connection: Connection, expires_at: float) -> bool:
    """True if the entry still describes the connection: open, and its principal expires then."""
    principal = connection.principal
    return connection.closing is None and principal is not None and principal.expires_at == expires_at
