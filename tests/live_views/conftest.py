"""The live views (leaderboards, instructor activity, admin analytics) on the in-process app: a real
WebSocket server (uvicorn, in this event loop) on the test app, and the worker loops driven tick by tick."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from app.live import store as live_store
from app.runtime import Runtime
from app.stores.embedded import free_port
from app.telemetry import activity
from tests.live.conftest import WsClient, ws_connect
from workers.live import LiveWorker

__all__ = ["WsClient", "ws_connect"]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_default": "100000/minute"}


@pytest.fixture(autouse=True)
def tuning(monkeypatch: pytest.MonkeyPatch) -> live_store.LiveTuning:
    """Short locks and intervals so a test can tick again without waiting; other timings as in production
    unless a test changes them on the returned object."""
    fast = dataclasses.replace(
        live_store.LiveTuning(), activity_interval_seconds=0.05, analytics_interval_seconds=0.05
    )
    monkeypatch.setattr(live_store, "TUNING", fast)
    return fast


@pytest.fixture(autouse=True)
def activity_tuning(monkeypatch: pytest.MonkeyPatch) -> activity.ActivityTuning:
    """The activity's timings as in production, for a test to change on the returned object (the script
    accepting heartbeats and the worker's sweep both read them)."""
    fresh = activity.ActivityTuning()
    monkeypatch.setattr(activity, "TUNING", fresh)
    return fresh


@pytest.fixture
async def ws_url(app_and_runtime: tuple[Any, Runtime]) -> AsyncIterator[str]:
    """The test app served over a real socket (its lifespan already runs under the test fixtures)."""
    app, _ = app_and_runtime
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="websockets-sansio"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def worker(runtime: Runtime) -> LiveWorker:
    return LiveWorker(runtime)
