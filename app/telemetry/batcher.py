"""Group commit of heartbeats: those submitted in the same event-loop tick, from any connection (WS or
REST), are accepted by one script call; each caller's future is resolved when it returns.

Admission is bounded: past `max_in_flight` heartbeats waiting or being accepted, `admit` refuses at
once, before any store work, so an overloaded api spends next to nothing on the heartbeats it sheds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.errors import ServiceUnavailable


@dataclass(frozen=True)
class Pending:
    user_id: int
    course_id: int
    lesson_id: str
    seconds: int
    seq: int | None
    enrollment_id: int
    idempotency_key: str


@dataclass(frozen=True)
class Acceptance:
    duplicate: bool
    credited_seconds: int
    entry_id: str | None


Flush = Callable[[Sequence[Pending]], Awaitable[list[Acceptance]]]


class Overloaded(ServiceUnavailable):
    """More heartbeats are waiting to be accepted than this api takes; try again in a second."""

    code = "overloaded"

    def __init__(self) -> None:
        super().__init__(
            "Too many heartbeats are being accepted right now; send this one again shortly.",
            headers={"Retry-After": "1"},
        )


class HeartbeatBatcher:
    def __init__(self, flush: Flush, *, max_in_flight: int, max_batch: int = 500) -> None:
        self._flush = flush
        self.max_in_flight = max_in_flight
        self._max_batch = max_batch
        self._queue: list[tuple[Pending, asyncio.Future[Acceptance]]] = []
        self._scheduled = False
        self.in_flight = 0
        self.batches = 0  # script calls made, for tests and metrics
        self.shed = 0  # heartbeats refused by `admit`

    def admit(self) -> None:
        """Take a place for one heartbeat (give it back with `release`), or raise Overloaded when all are
        taken; cheap, and touches no store."""
        if self.in_flight >= self.max_in_flight:
            self.shed += 1
            raise Overloaded()
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1

    async def submit(self, item: Pending) -> Acceptance:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Acceptance] = loop.create_future()
        self._queue.append((item, future))
        if not self._scheduled:
            self._scheduled = True
            # call_soon: every heartbeat handled in this tick joins the batch before it leaves.
            loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._scheduled = False
        queue, self._queue = self._queue, []
        for start in range(0, len(queue), self._max_batch):
            task = asyncio.ensure_future(self._run(queue[start : start + self._max_batch]))
            task.add_done_callback(_consume)

    async def _run(self, chunk: list[tuple[Pending, asyncio.Future[Acceptance]]]) -> None:
        self.batches += 1
        try:
            results = await self._flush([item for item, _ in chunk])
        except BaseException as exc:  # noqa: BLE001 - every waiter gets the failure, as if it ran alone
            for _, future in chunk:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            return
        for (_, future), result in zip(chunk, results, strict=True):
            if not future.done():
                future.set_result(result)


def _consume(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
