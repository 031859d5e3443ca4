"""What the fault tests share: figures (printed and written as JSON), accounts and courses through the
real api instances, and raw WebSocket clients that record what they receive."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.helpers import Account, Api
from tests.telemetry.helpers import Written, enroll, make_course

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "figures"


def report(test: str, figures: dict[str, Any]) -> None:
    """Print the figures of a run and keep them in test-artifacts/figures/<test>.json."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stamped = {"test": test, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **figures}
    (ARTIFACTS / f"{test}.json").write_text(json.dumps(stamped, indent=2, sort_keys=True) + "\n")
    print(f"\n[{test}] " + json.dumps(figures, sort_keys=True))


async def gather_limited(limit: int, *jobs: Any) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


@dataclass
class Course:
    course_id: int
    lessons: list[str]
    teacher: Account
    learners: list[Account]


async def course_with_learners(apis: list[Api], learners: int, *, lessons: int = 3) -> Course:
    """A published course and `learners` enrolled learners, signed up alternately on each instance."""
    teacher = await apis[0].account("instructor")
    course_id, lesson_ids = await make_course(apis[0].client, teacher, lessons)
    people: list[Account] = await gather_limited(
        16, *(apis[n % len(apis)].register() for n in range(learners))
    )
    await gather_limited(
        16, *(enroll(apis[n % len(apis)].client, person, course_id) for n, person in enumerate(people))
    )
    return Course(course_id, lesson_ids, teacher, people)


@dataclass
class Subscriber:
    """A /ws client on one instance that records every frame of one channel as it arrives."""

    url: str
    account: Account
    channel: str
    connection: ClientConnection | None = None
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    replies: dict[Any, dict[str, Any]] = field(default_factory=dict)
    closed_at: float | None = None
    _next: int = 0
    _reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.connection = await connect(self.url, max_size=2**22, open_timeout=20)
        self.closed_at = None
        self._reader = asyncio.create_task(self._read())
        answer = await self.request(op="auth", token=self.account.access_token)
        assert answer["ok"], answer

    async def _read(self) -> None:
        assert self.connection is not None
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if "ok" in message and message.get("id") is not None:
                    self.replies[message["id"]] = message
                elif message.get("channel") == self.channel:
                    self.frames.append((time.monotonic(), message))
        except ConnectionClosed:
            pass
        self.closed_at = time.monotonic()

    async def request(self, timeout: float = 20.0, **frame: Any) -> dict[str, Any]:
        assert self.connection is not None
        self._next += 1
        frame_id = self._next
        await self.connection.send(json.dumps({"id": frame_id, **frame}))
        deadline = time.monotonic() + timeout
        while frame_id not in self.replies:
            if self.closed_at is not None:
                raise ConnectionError(f"closed before the reply to {frame}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to {frame}")
            await asyncio.sleep(0.01)
        return self.replies.pop(frame_id)

    async def subscribe(self, since: dict[str, Any] | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"op": "subscribe", "channel": self.channel}
        if since is not None:
            frame["since"] = since
        answer = await self.request(**frame)
        assert answer["ok"], answer
        return answer

    def publications(self) -> list[dict[str, Any]]:
        return [frame for _, frame in self.frames if "offset" in frame]

    def told_lost(self) -> bool:
        return any(
            frame.get("event") == "resubscribe" and frame.get("recovered") is False
            for _, frame in self.frames
        )

    def last_position(self) -> dict[str, Any] | None:
        published = self.publications()
        if not published:
            return None
        return {"offset": published[-1]["offset"], "epoch": published[-1]["epoch"]}

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class HeartbeatSender(Protocol):
    learner: Account
    credited: list[int]  # credited seconds per reply, 0 for a duplicate
    errors: dict[str, int]  # error replies by code


def tally(senders: Sequence[HeartbeatSender], course_id: int) -> tuple[Written, dict[str, int]]:
    """What the senders' replies credited (what the stores must hold) and their error replies by code."""
    written = Written()
    errors: dict[str, int] = {}
    for sender in senders:
        for credited in sender.credited:
            if credited:
                written.add(sender.learner.id, course_id, credited)
        for code, count in sender.errors.items():
            errors[code] = errors.get(code, 0) + count
    return written, errors
