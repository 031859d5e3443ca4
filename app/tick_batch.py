"""Group commit for any store call: the items submitted in one event-loop tick, from any task, go out in
one call of `flush`, and each submitter's await returns its own item's answer. With `concurrency`, at
most that many flushes run at once and what arrives meanwhile waits for the next one, so batches grow
with the load instead of the number of calls.

With `linger` (seconds), a batch leaves once its oldest item has waited that long (or it is full)
rather than at the end of the tick: under light load a tick holds one item or two, and a call per item
costs the store its fixed share per call every time (for the heartbeat script, an fsync). Under heavy
load items wait longer than that for a free call anyway, so the linger adds no delay there.

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
    def __init__(
        self,
        flush: Flush[Item, Answer],
        *,
        max_batch: int = 500,
        concurrency: int | None = None,
        linger: float = 0.0,
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._concurrency = concurrency
        self._linger = linger
        self._running = 0
        # (item, its future, when it was submitted by the loop's clock; 0 without a linger)
        self._queue: list[tuple[Item, asyncio.Future[Answer], float]] = []
        self._scheduled: asyncio.Handle | None = None
        self.batches = 0  # flushes made, for tests and metrics

    def submit(self, item: Item) -> asyncio.Future[Answer]:
        """Queue `item` now; the future gets its answer, or the failure of its flush.

        A future rather than a coroutine: a submitter under load waits a second or more, and every
        coroutine between the submitter's task and what it awaits is resumed once more when the answer
        comes (docs/performance/telemetry-ingest.md, "... fewer coroutines per waiting heartbeat").
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._queue.append((item, future, loop.time() if self._linger else 0.0))
        if self._scheduled is None:
            self._schedule(loop)
        elif len(self._queue) == self._max_batch and self._linger:
            self._scheduled.cancel()  # a full batch leaves without waiting out the linger
            self._scheduled = loop.call_soon(self._start)
        return future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start a batch when the oldest waiting item has lingered long enough; call_soon at the least, so
        every submission made in this tick joins it."""
        wait = self._queue[0][2] + self._linger - loop.time() if self._linger else 0.0
        if wait > 0 and len(self._queue) < self._max_batch:
            self._scheduled = loop.call_later(wait, self._start)
        else:
            self._scheduled = loop.call_soon(self._start)

    def _start(self) -> None:
        self._scheduled = None
        while self._queue and (self._concurrency is None or self._running < self._concurrency):
            chunk, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            self._running += 1
            task = asyncio.ensure_future(self._run(chunk))
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[None]) -> None:
        _consume(task)
        self._running -= 1
        if self._queue and self._scheduled is None:
            self._schedule(asyncio.get_running_loop())

    async def _run(self, chunk: list[tuple[Item, asyncio.Future[Answer], float]]) -> None:
        self.batches += 1
        try:
            answers = await self._flush([item for item, _, _ in chunk])
            if len(answers) != len(chunk):
                raise ValueError(f"the flush answered {len(answers)} of {len(chunk)} items")
        except BaseException as exc:  # noqa: BLE001 - every waiter gets the failure, as if it ran alone
            for _, future, _ in chunk:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
            return
        for (_, future, _), answer in zip(chunk, answers, strict=True):
            if not future.done():
                future.set_result(answer)


def _consume(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
