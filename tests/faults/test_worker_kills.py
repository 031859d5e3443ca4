"""SIGKILL a worker 10 times while 100,000 heartbeats arrive over WebSockets through both api instances:
once the stream has drained, the seconds credited in the accepted replies equal, exactly, the seconds
in `course_telemetry`, in `progress` (and its lesson times) and in the PostgreSQL daily rollups, and the
heartbeat counts equal the number of credited replies (docs/PRODUCT.md: never lost, never counted twice)."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.runtime import Runtime
from harness.cluster import Cluster
from tests.faults.helpers import Course, course_with_learners, gather_limited, report, tally
from tests.helpers import Account, Api
from tests.telemetry.helpers import assert_exact, consumers, totals, wait_until_drained

HEARTBEATS = int(os.environ.get("FAULTS_HEARTBEATS", "100000"))
LEARNERS = int(os.environ.get("FAULTS_LEARNERS", "1000"))
KILLS = 10

pytestmark = pytest.mark.timeout(900)


class Sender:
    """One learner's socket: heartbeats one after another (seq increasing), replies recorded."""

    def __init__(self, url: str, learner: Account, course: Course, count: int) -> None:
        self.url = url
        self.learner = learner
        self.course = course
        self.count = count
        self.credited: list[int] = []
        self.errors: dict[str, int] = {}
        self.ws: ClientConnection

    async def open(self) -> None:
        self.ws = await connect(self.url, max_size=2**22, open_timeout=60)
        await self.ws.send(json.dumps({"op": "auth", "id": 0, "token": self.learner.access_token}))
        answer = json.loads(await self.ws.recv())
        assert answer["ok"], answer

    async def run(self, progress: list[int]) -> None:
        async with self.ws as ws:
            lessons = self.course.lessons
            seq, retry = 0, False
            while len(self.credited) < self.count:
                if not retry:
                    seq += 1
                frame = {
                    "op": "heartbeat",
                    "id": seq,
                    "course_id": self.course.course_id,
                    "lesson_id": lessons[seq % len(lessons)],
                    "seconds_spent": 1,
                    "seq": seq,
                }
                await ws.send(json.dumps(frame))
                while True:
                    answer = json.loads(await ws.recv())
                    if answer.get("id") == seq:
                        break
                retry = False
                if answer["ok"]:
                    self.credited.append(int(answer["credited_seconds"]))
                    progress[0] += 1
                    continue
                # Refused under overload (shed by admission, or a store timed out): a client retries the
                # same seq later.
                error = f"{answer['error']['code']}: {answer['error']['message']}"
                self.errors[error] = self.errors.get(error, 0) + 1
                assert answer["error"]["code"] in ("overloaded", "store_unavailable"), answer
                retry = True
                await asyncio.sleep(0.5)


async def killer(cluster: Cluster, progress: list[int], total: int, log: list[dict[str, float]]) -> None:
    """Kill a worker (alternately) each time another tenth of the heartbeats has been sent; restart it
    at once. A victim is killed only once it has joined the consumer group (it may hold entries). A
    worker that exits by itself meanwhile (a store too busy to answer its start-up within 5 s) is started
    again, as the deployment's supervisor does (compose: `restart: unless-stopped`)."""
    started = time.monotonic()
    for kill in range(KILLS):
        while progress[0] < total * (kill + 0.5) / KILLS:
            await asyncio.sleep(0.05)
        victim = cluster.workers[kill % len(cluster.workers)]
        deadline = time.monotonic() + 180
        while not await asyncio.to_thread(victim.is_ready):
            assert time.monotonic() < deadline, f"{victim.name} not ready in 180 s:\n{victim.log_tail()}"
            if not victim.alive:
                victim.start(wait=False)
            await asyncio.sleep(0.05)
        victim.kill()
        at = round(time.monotonic() - started, 2)
        log.append({"at_s": at, "sent": progress[0], "exit": victim.returncode or 0})
        victim.start(wait=False)


async def test_sigkill_a_worker_ten_times_during_100k_heartbeats(
    healthy: Cluster, apis: list[Api], store_runtime: Runtime
) -> None:
    began = time.monotonic()
    course = await course_with_learners(apis, LEARNERS)
    setup_seconds = time.monotonic() - began
    per_learner = HEARTBEATS // LEARNERS
    senders = [
        Sender(healthy.apis[n % len(healthy.apis)].ws, learner, course, per_learner)
        for n, learner in enumerate(course.learners)
    ]
    total = per_learner * len(senders)
    progress = [0]
    kills: list[dict[str, float]] = []
    await gather_limited(32, *(sender.open() for sender in senders))
    sending = time.monotonic()
    killing = asyncio.create_task(killer(healthy, progress, total, kills))
    try:
        await asyncio.gather(*(s.run(progress) for s in senders))
        send_seconds = time.monotonic() - sending
        await killing
    finally:
        killing.cancel()

    drain_started = time.monotonic()
    await wait_until_drained(store_runtime.redis, timeout=600)
    drain_seconds = time.monotonic() - drain_started

    written, errors = tally(senders, course.course_id)
    found = await totals(store_runtime, course.course_id)
    report(
        "faults_worker_kills",
        {
            "heartbeats_sent": total,
            "learners": len(senders),
            "api_instances": len(healthy.apis),
            "workers": len(healthy.workers),
            "worker_kills": len(kills),
            "kills": kills,
            "replies_ok": sum(len(s.credited) for s in senders),
            "replies_error": errors,
            "credited_heartbeats": written.entries,
            "credited_seconds": written.seconds,
            "course_telemetry_seconds": found.bucket_seconds,
            "progress_seconds": found.progress_seconds,
            "rollup_seconds": found.rollup_seconds,
            "rollup_heartbeats": found.rollup_heartbeats,
            "setup_s": round(setup_seconds, 1),
            "send_s": round(send_seconds, 1),
            "accepted_per_s": round(total / send_seconds),
            "drain_after_send_s": round(drain_seconds, 1),
            "consumers_in_group": len(await consumers(store_runtime.redis)),
        },
    )
    assert len(kills) == KILLS and all(kill["exit"] == -9 for kill in kills)
    # refused, then retried
    assert all(error.startswith(("overloaded", "store_unavailable")) for error in errors)
    assert written.entries > total // 2  # most heartbeats were credited, so the stream carried them
    assert_exact(found, written)
    assert all(pending == 0 for pending in (await consumers(store_runtime.redis)).values())
    assert all(process.alive for process in healthy.apis)
