"""Group commit for any store call: the items submitted in one event-loop tick, from any task, go out in
one call of `flush`, and each submitter's await returns its own item's answer.

A flush that fails fails every submitter of its batch, as each call would have failed alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

Flush = Callable[[Sequence[Item]], Awaitable[Sequence[Answer]]]


class TickBatcher(Generic[Item, Answer]):
    def __init__(self, flush: Flush[Item, Answer], *, max_batch: int = 500) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._scheduled = False
        self.batches = 0  # flushes made, for tests and metrics

    async def submit(self, item: Item) -> Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._queue.append((item, future))
        if not self._scheduled:
            self._scheduled = True
            # call_soon: every submission made in this tick joins the batch before it leaves.
            loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._scheduled = False
        queue, self._queue = self._queue, []
        for start in range(0, len(queue), self._max_batch):
            task = asyncio.ensure_future(self._run(queue[start : start + self._max_batch]))
            task.add_done_callback(_consume)

    async def _run(self, chunk: list[tuple[Item, asyncio.Future[Answer]]]) -> None:
        self.batches += 1
        try:
            answers = await self._flush([item for item, _ in chunk])
            if len(answers) != len(chunk):
                raise ValueError(f"the flush answered {len(answers)} of {len(chunk)} items")
        except BaseException as exc:  # noqa: BLE001 - every waiter gets the failure, as if it ran alone
            for _, future in chunk:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            return
        for (_, future), answer in zip(chunk, answers, strict=True):
            if not future.done():
                future.set_result(answer)


def _consume(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
