"""Start-up steps that need a store. A server must start while a store is away (readiness reports it, so
no orchestrator restarts it in a loop), so a step that finds its store unreachable is retried in the
background until it succeeds. Any other failure is a bug: at start-up it stops the start, in the
background it is logged and the step given up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from app.stores.availability import unavailable_store

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[object]]


class StartupSteps:
    def __init__(self, retry_seconds: float = 5.0) -> None:
        self.retry_seconds = retry_seconds
        self.waiting: list[asyncio.Task[None]] = []

    async def run(self, name: str, step: Step) -> bool:
        """Run `step` now: True once done; False when its store is unreachable and it goes on trying in
        the background (until `stop`)."""
        try:
            await step()
            return True
        except Exception as exc:
            store = unavailable_store(exc)
            if store is None:
                raise
            log.warning("start-up step waits for its store", extra={"step": name, "store": store})
        self.waiting.append(asyncio.create_task(self._retry(name, step)))
        return False

    async def _retry(self, name: str, step: Step) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                await step()
            except Exception as exc:
                if unavailable_store(exc) is not None:
                    continue
                log.exception("start-up step failed", extra={"step": name})
                return
            log.info("start-up step done", extra={"step": name})
            return

    async def stop(self) -> None:
        for task in self.waiting:
            task.cancel()
        for task in self.waiting:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.waiting.clear()
