"""A slotted stand-in for `asyncio.Event` for objects kept per socket or per user.

An asyncio.Event allocates a ~760-byte deque for waiters up front; this holds a list only while
someone waits. Same methods: set, clear, is_set, wait.
"""

from __future__ import annotations

import asyncio


class Flag:
    __slots__ = ("value", "_waiters")

    def __init__(self, initially: bool = False) -> None:
        self.value = initially  # read directly on hot paths; change it only through set and clear
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self.value

    def set(self) -> None:
        self.value = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self.value = False

    async def wait(self) -> bool:
        while not self.value:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)
        return True
