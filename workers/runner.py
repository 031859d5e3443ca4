"""Runs the workers: standalone (`learnflow worker`) or as tasks of `serve` in embedded mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from app.config import Settings
from app.live.publisher import HubEventPublisher
from app.live.wiring import start_hub
from app.runtime import Runtime, StoreUrls
from workers.live import LiveWorker
from workers.telemetry import TelemetryWorker

log = logging.getLogger("learnflow.worker")

Stop = Callable[[], Awaitable[None]]


async def start_workers(runtime: Runtime) -> Stop:
    """Start every worker as a task of the running loop; returns the function that stops them."""
    live = LiveWorker(runtime)
    # One consumer per partition of the heartbeat stream; every worker process runs all of them, and each
    # partition is folded by one process at a time while the others stand by (workers/telemetry.py).
    tasks = [
        asyncio.create_task(
            TelemetryWorker(runtime, on_folded=live.on_folded, partition=partition).run(),
            name=f"telemetry-worker-{partition}",
        )
        for partition in range(runtime.settings.telemetry_partitions)
    ]
    tasks.append(asyncio.create_task(live.run(), name="live-views"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return stop


async def run_standalone(settings: Settings, urls: StoreUrls) -> None:
    runtime = Runtime.open(settings, urls)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await runtime.documents.ensure_schema()
        hub = await start_hub(runtime)  # live views publish through the same hub code as the api
        runtime.events = HubEventPublisher(hub, runtime.redis)
        stop = await start_workers(runtime)
        log.info("workers running")
        await stopping.wait()
        await stop()
    finally:
        await runtime.close()
