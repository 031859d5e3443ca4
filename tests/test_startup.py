"""Start-up steps: one whose store is unreachable is retried in the background until it succeeds; any
other failure stops the start (inline) or is logged and given up (in the background); `stop` ends the
retries without raising."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.exceptions

from app.startup import StartupSteps


class Flaky:
    """A step whose store is unreachable for its first `away` calls, then raises `then` (or succeeds)."""

    def __init__(self, away: int, then: Exception | None = None) -> None:
        self.away = away
        self.then = then
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.away:
            raise redis.exceptions.ConnectionError("connection refused")
        if self.then is not None:
            raise self.then


async def test_a_step_that_can_run_runs_inline() -> None:
    steps = StartupSteps(retry_seconds=0.01)
    step = Flaky(away=0)
    assert await steps.run("ok", step) is True
    assert step.calls == 1 and steps.waiting == []


async def test_a_step_waits_for_its_store_then_runs_once() -> None:
    steps = StartupSteps(retry_seconds=0.01)
    step = Flaky(away=3)
    assert await steps.run("waits", step) is False
    await asyncio.wait_for(steps.waiting[0], timeout=5)
    assert step.calls == 4
    await steps.stop()


async def test_a_bug_stops_the_start() -> None:
    with pytest.raises(ValueError, match="a bug"):
        await StartupSteps().run("bug", Flaky(away=0, then=ValueError("a bug")))


async def test_a_bug_in_the_background_is_logged_and_given_up(caplog: pytest.LogCaptureFixture) -> None:
    steps = StartupSteps(retry_seconds=0.01)
    step = Flaky(away=1, then=ValueError("a bug"))
    with caplog.at_level(logging.ERROR, logger="app.startup"):
        assert await steps.run("bug later", step) is False
        await asyncio.wait_for(steps.waiting[0], timeout=5)
    assert step.calls == 2
    assert any(record.message == "start-up step failed" and record.exc_info for record in caplog.records)
    await steps.stop()  # a finished task does not make stop raise


async def test_stop_ends_the_retries() -> None:
    steps = StartupSteps(retry_seconds=0.01)
    step = Flaky(away=10**6)
    assert await steps.run("never", step) is False
    await asyncio.sleep(0.05)
    waiting = steps.waiting[0]
    await steps.stop()
    assert waiting.cancelled() and steps.waiting == []
    calls = step.calls
    await asyncio.sleep(0.05)
    assert step.calls == calls
