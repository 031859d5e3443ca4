"""Set-up for telemetry tests: courses with enrolled learners, stream entries written directly,
`learnflow worker` subprocesses, and the three stores' totals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import func, select

from app.runtime import Runtime, StoreUrls
from app.stores.models import Telemetry
from app.stores.mongo import COURSE_TELEMETRY, PROGRESS
from app.telemetry import keys
from app.telemetry.stream import GROUP, STREAM, Entry, StreamConsumer
from realtime.redis_client import RedisClient
from tests.builders import enroll as enroll
from tests.builders import published_course
from tests.conftest import TEST_MONGO_DATABASE, make_settings
from tests.helpers import Account, Api
from workers.telemetry import FAILPOINT, TelemetryWorker

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Classroom:
    teacher: Account
    learners: list[Account]
    courses: dict[int, list[str]]  # course id -> lesson ids


async def make_course(client: httpx.AsyncClient, teacher: Account, lessons: int = 2) -> tuple[int, list[str]]:
    return await published_course(client, teacher, lessons=lessons, title="Telemetry")


async def classroom(api: Api, *, learners: int, courses: int = 1, lessons: int = 2) -> Classroom:
    teacher = await api.account("instructor")
    made: dict[int, list[str]] = {}
    for _ in range(courses):
        course_id, lesson_ids = await make_course(api.client, teacher, lessons)
        made[course_id] = lesson_ids
    people = [await api.account("learner") for _ in range(learners)]
    for learner in people:
        for course_id in made:
            await enroll(api.client, learner, course_id)
    return Classroom(teacher, people, made)


@dataclass
class Written:
    """What was put into the stream, i.e. what the stores must end up holding exactly."""

    entries: int = 0
    seconds: int = 0
    by_progress: dict[tuple[int, int], int] = field(default_factory=dict)

    def add(self, user_id: int, course_id: int, seconds: int) -> None:
        self.entries += 1
        self.seconds += seconds
        key = (user_id, course_id)
        self.by_progress[key] = self.by_progress.get(key, 0) + seconds


async def write_entries(
    redis: Redis, room: Classroom, count: int, written: Written, *, seed: int, hours: int = 3
) -> None:
    """Accepted heartbeats as the acceptance script appends them (fields u, c, l, s, t), spread over
    learners, courses, lessons and the last `hours` hours, so batches touch many documents and buckets."""
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    async with redis.pipeline(transaction=False) as pipe:
        for _ in range(count):
            learner = rng.choice(room.learners)
            course_id = rng.choice(list(room.courses))
            lesson_id = rng.choice(room.courses[course_id])
            seconds = rng.randint(1, 60)
            at_ms = now_ms - rng.randrange(hours * 3_600_000)
            pipe.xadd(STREAM, {"u": learner.id, "c": course_id, "l": lesson_id, "s": seconds, "t": at_ms})
            written.add(learner.id, course_id, seconds)
        await pipe.execute()


async def send_heartbeats(client: httpx.AsyncClient, room: Classroom, written: Written) -> None:
    """One REST heartbeat per learner and course: the real acceptance path; credited seconds are recorded."""
    for seq, learner in enumerate(room.learners):
        for course_id, lesson_ids in room.courses.items():
            response = await client.post(
                f"/api/courses/{course_id}/telemetry",
                headers=learner.headers,
                json={"lesson_id": lesson_ids[0], "seconds_spent": 12, "seq": seq},
            )
            assert response.status_code == 202, response.text
            credited = int(response.json()["credited_seconds"])
            if credited:
                written.add(learner.id, course_id, credited)


@dataclass
class Totals:
    bucket_seconds: int
    bucket_heartbeats: int
    progress_seconds: int
    progress_lesson_seconds: int
    rollup_seconds: int
    rollup_heartbeats: int
    by_progress: dict[tuple[int, int], int]


async def backlog(redis: Redis) -> int:
    """Heartbeats of partition 0 not yet folded, as the acceptance script counts them."""
    return int(await redis.get(keys.backlog(0)) or 0)


async def totals(runtime: Runtime, course_id: int | None = None) -> Totals:
    """What the three stores hold: everything, or one course's share (the fault tests share their stores
    across tests, so each reads its own course)."""
    scope: dict[str, Any] = {} if course_id is None else {"course_id": course_id}
    buckets = await runtime.documents.db[COURSE_TELEMETRY].find(scope).to_list(None)
    progress = await runtime.documents.db[PROGRESS].find(scope).to_list(None)
    query = select(
        func.coalesce(func.sum(Telemetry.seconds), 0),
        func.coalesce(func.sum(Telemetry.heartbeats), 0),
    )
    if course_id is not None:
        query = query.where(Telemetry.course_id == course_id)
    async with runtime.db.read() as tx:
        seconds, heartbeats = (await tx.execute(query)).one()
    return Totals(
        bucket_seconds=sum(int(doc["seconds"]) for doc in buckets),
        bucket_heartbeats=sum(int(doc["heartbeats"]) for doc in buckets),
        progress_seconds=sum(int(doc["total_seconds_spent"]) for doc in progress),
        progress_lesson_seconds=sum(int(v) for doc in progress for v in doc["lesson_times"].values()),
        rollup_seconds=int(seconds),
        rollup_heartbeats=int(heartbeats),
        by_progress={
            (int(doc["user_id"]), int(doc["course_id"])): int(doc["total_seconds_spent"]) for doc in progress
        },
    )


def assert_exact(found: Totals, written: Written) -> None:
    assert found.bucket_seconds == written.seconds, found
    assert found.progress_seconds == written.seconds, found
    assert found.progress_lesson_seconds == written.seconds, found
    assert found.rollup_seconds == written.seconds, found
    assert found.bucket_heartbeats == written.entries, found
    assert found.rollup_heartbeats == written.entries, found
    assert found.by_progress == written.by_progress


async def group_state(redis: Redis) -> tuple[int, int, int]:
    """Stream length, entries pending acknowledgement, entries never delivered."""
    if not await redis.exists(STREAM):
        return 0, 0, 0
    length = int(await redis.xlen(STREAM))
    for group in await redis.xinfo_groups(STREAM):
        if group["name"] == GROUP:
            return length, int(group["pending"]), int(group.get("lag") or 0)
    return length, 0, length


async def consumers(redis: Redis) -> dict[str, int]:
    """Consumer name -> entries pending on it."""
    return {str(c["name"]): int(c["pending"]) for c in await redis.xinfo_consumers(STREAM, GROUP)}


async def wait_until_drained(redis: Redis, timeout: float) -> None:
    """Every entry read, folded and acknowledged (the acknowledgement deletes it)."""
    deadline = time.monotonic() + timeout
    while True:
        state = await group_state(redis)
        if state == (0, 0, 0):
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"telemetry stream not drained in {timeout}s: (length, pending, lag) = {state}"
            )
        await asyncio.sleep(0.1)


class Worker:
    """A `learnflow worker` subprocess on the test stores; its JSON log lines go to a file."""

    def __init__(self, urls: StoreUrls, log_path: Path, **env: str) -> None:
        settings = make_settings()
        environment = {
            **{name: value for name, value in os.environ.items() if name != FAILPOINT},
            "LEARNFLOW_ENV": "test",
            "DATABASE_URL": urls.database_url,
            "REDIS_URL": urls.redis_url,
            "MONGO_URL": urls.mongo_url,
            "MONGO_DATABASE": TEST_MONGO_DATABASE,
            "JWT_SECRET": settings.jwt_secret,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "TELEMETRY_CLAIM_IDLE_SECONDS": "1",
            **env,
        }
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def lines(self) -> list[dict[str, Any]]:
        result = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                result.append(value)
        return result

    def consumer(self) -> str | None:
        for line in self.lines():
            if line.get("msg") == "telemetry worker started":
                return str(line["consumer"])
        return None

    async def started(self, timeout: float = 30.0) -> str:
        """Wait until the consumer has joined the group; returns its name."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            name = self.consumer()
            if name is not None:
                return name
            if self.process.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.process.returncode}: {self.log_path.read_text()}"
                )
            await asyncio.sleep(0.05)
        raise AssertionError(f"worker did not start in {timeout}s: {self.log_path.read_text()}")

    async def exited(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                log_tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])
                raise AssertionError(f"worker still running after {timeout}s; its log ends:\n{log_tail}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    async def stop(self, timeout: float = 15.0) -> dict[str, Any]:
        """SIGTERM, wait, and return the `telemetry worker stopped` line (folded / claimed counts)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            await self.exited(timeout)
        for line in self.lines():
            if line.get("msg") == "telemetry worker stopped":
                return line
        raise AssertionError(f"no stop line in the worker log: {self.log_path.read_text()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


class Workers:
    """Starts workers and makes sure none outlives the test."""

    def __init__(self, urls: StoreUrls, directory: Path) -> None:
        self.urls = urls
        self.directory = directory
        self.started: list[Worker] = []

    def start(self, **env: str) -> Worker:
        worker = Worker(self.urls, self.directory / f"worker-{len(self.started) + 1}.log", **env)
        self.started.append(worker)
        return worker

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()


async def drain(runtime: Runtime, partitions: int, *, timeout: float = 30.0) -> None:
    """Run one worker per partition, as `start_workers` does, until every partition's stream is empty
    (every entry folded and acknowledged)."""
    workers = [TelemetryWorker(runtime, partition=k) for k in range(partitions)]
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    # A deadline checked here rather than a cancellation from outside: a cancellation that lands inside
    # a store client call can be absorbed there, and the wait would then outlast the test's timeout.
    deadline = time.monotonic() + timeout
    try:
        while True:
            lengths = [int(await runtime.redis.xlen(keys.stream(k))) for k in range(partitions)]
            if not any(lengths):
                break
            if time.monotonic() > deadline:
                ended = {
                    k: "cancelled" if task.cancelled() else repr(task.exception())
                    for k, task in enumerate(tasks)
                    if task.done()
                }
                raise AssertionError(f"not drained in {timeout}s: lengths {lengths}, ended workers {ended}")
            await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=10)  # bounded for the same reason
        # A worker left running would go on taking entries of later tests (their loop is the session's).
        assert all(task.done() for task in tasks), "a telemetry worker did not stop when cancelled"


async def read_new(consumer: StreamConsumer, count: int) -> tuple[list[str], list[Entry]]:
    """New entries for a consumer driven by hand: it takes the partition (no other may own it), then
    reads."""
    assert await consumer.acquire(), "another consumer owns the partition"
    read = await consumer.read_new(count)
    assert read is not None
    return read


async def run_until_drained(worker: TelemetryWorker, redis: Redis, timeout: float) -> None:
    """Run a worker in this process until the stream is drained, then stop it."""
    task = asyncio.create_task(worker.run())
    try:
        await wait_until_drained(redis, timeout=timeout)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def stream_key_holds_a_string(redis: RedisClient) -> AsyncIterator[None]:
    """Inside, the stream's key holds a string, which fails the acceptance script in Redis; the stream is
    as it was afterwards."""
    kept = bool(await redis.exists(STREAM))
    if kept:
        await redis.rename(STREAM, "kept-stream")
    await redis.set(STREAM, "not a stream")
    try:
        yield
    finally:
        await redis.delete(STREAM)
        if kept:
            await redis.rename("kept-stream", STREAM)
