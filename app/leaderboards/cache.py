"""A course's ranking, reused for a moment by the REST leaderboard.

Ranking reads every enrollment and progress document of the course, so without this each request of a
busy leaderboard repeats that work. Within the cache time every request in this process gets the same
ranking, and concurrent requests for a course wait for one computation instead of starting their own.
The live channel (workers/live.py) computes its own, fresh, on every change.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from app.leaderboards.ranking import Ranked
from app.runtime import Runtime

_MAX_COURSES = 10_000


class RankingCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._rankings: dict[int, tuple[float, list[Ranked]]] = {}
        self._computing: dict[int, asyncio.Task[list[Ranked]]] = {}

    async def get(self, course_id: int, compute: Callable[[], Awaitable[list[Ranked]]]) -> list[Ranked]:
        if self.seconds <= 0:
            return await compute()
        cached = self._rankings.get(course_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        task = self._computing.get(course_id)
        if task is None:
            task = asyncio.ensure_future(compute())
            self._computing[course_id] = task
            task.add_done_callback(lambda done: self._store(course_id, done))
        # A caller that goes away does not cancel the computation the others wait for.
        return await asyncio.shield(task)

    def _store(self, course_id: int, task: asyncio.Task[list[Ranked]]) -> None:
        self._computing.pop(course_id, None)
        if task.cancelled() or task.exception() is not None:
            return
        if len(self._rankings) >= _MAX_COURSES:
            self._rankings.clear()
        self._rankings[course_id] = (time.monotonic() + self.seconds, task.result())


def _rankings(runtime: Runtime) -> RankingCache:
    return RankingCache(runtime.settings.leaderboard_cache_seconds)


def rankings(runtime: Runtime) -> RankingCache:
    """This process's rankings cache."""
    return runtime.part(_rankings)
