"""SIGKILL Redis while heartbeats arrive over WebSockets through both api instances, then start it
again on the same files: every heartbeat answered as credited before the crash is still in the stream
(`appendfsync always`: on disk before the reply) and ends up folded, in all three stores."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.runtime import Runtime
from harness.cluster import Cluster
from tests.faults.helpers import Course, course_with_learners, gather_limited, report, tally
from tests.helpers import Account, Api
from tests.telemetry.helpers import totals, wait_until_drained

LEARNERS = 100
PER_LEARNER = 60
DOWN_SECONDS = 2.0

pytestmark = pytest.mark.timeout(600)


class Sender:
    """Heartbeats one after another with increasing seq; a refused or unanswered one is sent again with
    the same seq (over a new socket if the old one is gone), as a client does."""

    def __init__(self, url: str, learner: Account, course: Course) -> None:
        self.url, self.learner, self.course = url, learner, course
        self.credited: list[int] = []
        self.unanswered = 0  # sent, connection lost before the reply: may or may not have counted
        self.errors: dict[str, int] = {}
        self.ws: ClientConnection | None = None

    async def _socket(self) -> ClientConnection:
        while self.ws is None:
            try:
                ws = await connect(self.url, open_timeout=10)
                await ws.send(json.dumps({"op": "auth", "id": 0, "token": self.learner.access_token}))
                answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if answer.get("ok"):
                    self.ws = ws
                else:
                    await ws.close()
                    await asyncio.sleep(0.3)
            except (OSError, ConnectionClosed, TimeoutError):
                await asyncio.sleep(0.3)
        return self.ws

    async def run(self, progress: list[int]) -> None:
        seq = 0
        while len(self.credited) < PER_LEARNER:
            frame = {
                "op": "heartbeat",
                "id": seq + 1,
                "course_id": self.course.course_id,
                "lesson_id": self.course.lessons[seq % len(self.course.lessons)],
                "seconds_spent": 1,
                "seq": seq + 1,
            }
            ws = await self._socket()
            try:
                await ws.send(json.dumps(frame))
                while True:
                    answer = json.loads(await asyncio.wait_for(ws.recv(), 15))
                    if answer.get("id") == seq + 1:
                        break
            except (ConnectionClosed, TimeoutError, OSError):
                self.unanswered += 1
                self.ws = None
                continue
            if answer["ok"]:
                self.credited.append(0 if answer["duplicate"] else int(answer["credited_seconds"]))
                progress[0] += 1
                seq += 1
                continue
            code = answer["error"]["code"]
            self.errors[code] = self.errors.get(code, 0) + 1
            await asyncio.sleep(0.3)
        if self.ws is not None:
            await self.ws.close()


async def test_sigkill_redis_during_ingest_loses_no_credited_heartbeat(
    healthy: Cluster, apis: list[Api], store_runtime: Runtime
) -> None:
    course = await course_with_learners(apis, LEARNERS)
    senders = [
        Sender(healthy.apis[n % len(healthy.apis)].ws, learner, course)
        for n, learner in enumerate(course.learners)
    ]
    await gather_limited(32, *(sender._socket() for sender in senders))
    progress = [0]
    total = LEARNERS * PER_LEARNER

    async def crash() -> dict[str, float]:
        while progress[0] < total // 3:
            await asyncio.sleep(0.02)
        at = progress[0]
        await asyncio.to_thread(healthy.stores.kill_redis)
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(healthy.stores.start_redis)
        return {"killed_at_sent": at, "down_s": DOWN_SECONDS}

    started = time.monotonic()
    crashing = asyncio.create_task(crash())
    await asyncio.gather(*(sender.run(progress) for sender in senders))
    crashed = await crashing
    send_seconds = time.monotonic() - started
    await wait_until_drained(store_runtime.redis, timeout=180)

    written, errors = tally(senders, course.course_id)
    # A batch can run in Redis and its reply still fail (the crash took the connection): such a heartbeat
    # was refused to the client yet credited in the stream, and its resend is a duplicate.
    unanswered = sum(sender.unanswered for sender in senders) + sum(errors.values())
    found = await totals(store_runtime, course.course_id)
    mine = found.by_progress
    report(
        "faults_redis_crash_ingest",
        {
            **crashed,
            "heartbeats": total,
            "send_seconds": round(send_seconds, 1),
            "credited_seconds": written.seconds,
            "unanswered_then_resent": unanswered,
            "replies_error": errors,
            "progress_seconds": sum(mine.values()),
            "course_telemetry_seconds": found.bucket_seconds,
            "rollup_seconds": found.rollup_seconds,
        },
    )
    assert crashed["killed_at_sent"] < total
    # Every credited second is folded; a heartbeat whose reply was lost with the connection may have
    # been credited too (its resend is then a duplicate), 1 s each at most.
    for (user_id, _), seconds in written.by_progress.items():
        assert mine.get((user_id, course.course_id), 0) >= seconds
    assert written.seconds <= sum(mine.values()) <= written.seconds + unanswered
    assert found.bucket_seconds == found.rollup_seconds == found.progress_seconds
