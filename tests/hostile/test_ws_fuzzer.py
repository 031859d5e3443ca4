"""A WebSocket fuzzer against a real `learnflow serve` (hostile input).

Over 10,000 malformed frames from a fixed seed: random bytes, bad JSON, JSON that is not an object,
wrong types (or out-of-range values) for every field of every op, unknown ops, frames before `auth`,
frames over WS_MAX_FRAME_BYTES, and floods beyond WS_FRAMES_PER_SECOND (text and binary). Every frame
must get the answer the README documents for its kind (tests/hostile/ws_frames.py builds each frame with
it): the error reply with its code and id, or the close code (1009, 4001, 4029). Throughout, the process
stays up and /api/health answers 200; its RSS after a warm-up batch and at the end are compared.
Figures: test-artifacts/figures/ws_fuzzer.json.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.helpers import Api
from tests.hostile.conftest import LoggedInstance, write_figures
from tests.hostile.ws_frames import FrameFactory, Probe, Reply, Tokens
from tests.live.helpers import token_for

pytestmark = pytest.mark.timeout(300)

SEED = 20261125
FRAMES_PER_SECOND = 50
BURST = 100
MAX_FRAME_BYTES = 64 * 1024
HUB_ENV = {
    "WS_FRAMES_PER_SECOND": str(FRAMES_PER_SECOND),
    "WS_FRAME_BURST": str(BURST),
    "WS_MAX_FRAME_BYTES": str(MAX_FRAME_BYTES),
    "WS_MAX_CONNECTIONS_PER_USER": "10",
}
# The plan: paced sessions of open-socket probes, single-frame sockets, and floods.
SESSIONS, FRAMES_PER_SESSION = 41, 200
BEFORE_AUTH = 700
HUGE = 100
FLOODS, FRAMES_PER_FLOOD = 6, 300
MIN_FRAMES = 10_000
WORKERS = 16
# Paced clients stay below the server's rate so only floods are limited.
PACED_INTERVAL = 1 / (FRAMES_PER_SECOND * 0.7)
WARM_UP_FRAMES = 2_000
RSS_GROWTH_BOUND = 10 * 1024 * 1024


@dataclass
class Episode:
    kind: str  # "session", "single" or "flood"
    probes: list[Probe]
    authenticated: bool = True


@dataclass
class Outcomes:
    frames_sent: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    flood_figures: list[dict[str, int]] = field(default_factory=list)

    def violation(self, text: str) -> None:
        if len(self.violations) < 50:
            self.violations.append(text)
        self.answers["VIOLATION"] += 1


def plan(factory: FrameFactory) -> list[Episode]:
    episodes = [
        Episode("session", [factory.open_socket_probe() for _ in range(FRAMES_PER_SESSION)])
        for _ in range(SESSIONS)
    ]
    episodes += [Episode("single", [factory.before_auth()], authenticated=False) for _ in range(BEFORE_AUTH)]
    for n in range(HUGE):
        episodes.append(Episode("single", [factory.huge(binary=n % 2 == 1)], authenticated=n % 4 < 2))
    for n in range(FLOODS):
        binary = n % 2 == 1
        episodes.append(
            Episode("flood", [factory.flood_frame(binary=binary) for _ in range(FRAMES_PER_FLOOD)])
        )
    factory.random.shuffle(episodes)
    return episodes


def split_at_frames(episodes: list[Episode], frames: int) -> int:
    """The number of leading episodes that together hold at least `frames` frames."""
    total = 0
    for index, episode in enumerate(episodes):
        total += len(episode.probes)
        if total >= frames:
            return index + 1
    return len(episodes)


def matches(message: dict[str, Any], expected: Reply) -> bool:
    if message.get("id") != expected.frame_id:
        return False
    if expected.code is None:
        return message.get("ok") is True
    error = message.get("error")
    return message.get("ok") is False and isinstance(error, dict) and error.get("code") == expected.code


def describe(probe: Probe) -> str:
    payload = probe.payload if isinstance(probe.payload, str) else f"<{len(probe.payload)} bytes>"
    return f"{probe.kind} {payload[:160]!r}"


class Fuzzer:
    def __init__(self, url: str, tokens: list[str], outcomes: Outcomes) -> None:
        self.url = url
        self.tokens = tokens
        self.outcomes = outcomes

    async def open(self, token: str | None) -> ClientConnection:
        connection = await connect(self.url, max_size=2**22, open_timeout=20)
        if token is not None:
            await connection.send(json.dumps({"op": "auth", "id": "auth", "token": token}))
            answer = json.loads(await asyncio.wait_for(connection.recv(), 20))
            assert answer.get("ok") is True, answer
        return connection

    @staticmethod
    async def next_reply(connection: ClientConnection, timeout: float = 20) -> dict[str, Any]:
        """The next reply, skipping control frames (server pings)."""
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), timeout))
            if "ok" in message:
                return message

    @staticmethod
    async def until_closed(connection: ClientConnection, timeout: float = 20) -> tuple[int | None, list[Any]]:
        replies: list[Any] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    message = json.loads(await connection.recv())
                    if "ok" in message:
                        replies.append(message)
        except ConnectionClosed as exc:
            return (exc.rcvd.code if exc.rcvd is not None else None), replies
        except TimeoutError:
            return None, replies

    def record(self, probe: Probe, answer: str) -> None:
        self.outcomes.frames_sent += 1
        self.outcomes.by_kind[probe.kind.split(":")[0]] += 1
        self.outcomes.answers[answer] += 1

    async def session(self, episode: Episode, token: str) -> None:
        connection = await self.open(token)
        try:
            for probe in episode.probes:
                started = time.monotonic()
                await connection.send(probe.payload)
                try:
                    message = await self.next_reply(connection)
                except (ConnectionClosed, TimeoutError) as exc:
                    self.record(probe, "no reply")
                    self.outcomes.violation(f"no reply ({exc!r}) to {describe(probe)}")
                    return
                assert probe.reply is not None
                if matches(message, probe.reply):
                    self.record(probe, f"reply:{probe.reply.code or 'ok'}")
                else:
                    self.record(probe, "wrong reply")
                    self.outcomes.violation(f"{describe(probe)} expected {probe.reply} got {message}")
                await asyncio.sleep(max(0.0, PACED_INTERVAL - (time.monotonic() - started)))
        finally:
            await connection.close()

    async def single(self, episode: Episode, token: str) -> None:
        probe = episode.probes[0]
        connection = await self.open(token if episode.authenticated else None)
        try:
            await connection.send(probe.payload)
            code, replies = await self.until_closed(connection)
        finally:
            await connection.close()
        expected = [probe.reply] if probe.reply is not None else []
        ok = code == probe.close and len(replies) == len(expected)
        ok = ok and all(matches(message, reply) for message, reply in zip(replies, expected, strict=True))
        where = "" if episode.authenticated else " before auth"
        if ok:
            self.record(probe, f"close:{code}" + (f" after reply:{probe.reply.code}" if probe.reply else ""))
        else:
            self.record(probe, "wrong answer")
            self.outcomes.violation(
                f"{describe(probe)}{where}: expected {probe.reply} + close {probe.close}, "
                f"got {replies} + close {code}"
            )

    async def flood(self, episode: Episode, token: str) -> None:
        """Everything sent at once: each frame is served, refused with rate_limited, or cut off by 4029."""
        connection = await self.open(token)
        sent: list[Probe] = []
        try:
            for probe in episode.probes:
                await connection.send(probe.payload)
                sent.append(probe)
        except ConnectionClosed:
            pass
        code, replies = await self.until_closed(connection)
        await connection.close()
        served = limited = 0
        index = 0
        for message in replies:
            if index >= len(sent):
                self.outcomes.violation(f"flood: more replies than frames: {message}")
                break
            probe = sent[index]
            if message.get("id") is None and message.get("error", {}).get("code") == "rate_limited":
                limited += 1
                self.record(probe, "reply:rate_limited")
            elif probe.reply is not None and matches(message, probe.reply):
                served += 1
                self.record(probe, f"reply:{probe.reply.code or 'ok'}")
            else:
                self.record(probe, "wrong reply")
                self.outcomes.violation(f"flood: {describe(probe)} expected {probe.reply} got {message}")
            index += 1
        for probe in sent[index:]:
            self.record(probe, "cut off by close:4029" if code == 4029 else f"cut off by close:{code}")
        if code != 4029 or limited != BURST:
            self.outcomes.violation(
                f"flood ({episode.probes[0].kind}): close {code}, {served} served, {limited} rate_limited"
            )
        self.outcomes.flood_figures.append(
            {"sent": len(sent), "served": served, "rate_limited": limited, "cut_off": len(sent) - index}
        )

    async def run(self, episodes: list[Episode]) -> None:
        queue: asyncio.Queue[Episode] = asyncio.Queue()
        for episode in episodes:
            queue.put_nowait(episode)

        async def worker(n: int) -> None:
            token = self.tokens[n % len(self.tokens)]
            while not queue.empty():
                episode = queue.get_nowait()
                handler = {"session": self.session, "single": self.single, "flood": self.flood}[episode.kind]
                await handler(episode, token)

        await asyncio.gather(*(worker(n) for n in range(WORKERS)))


@dataclass
class HealthWatch:
    url: str
    checks: int = 0
    failures: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.url) as http:
            while not stop.is_set():
                try:
                    response = await http.get("/api/health", timeout=5)
                    if response.status_code != 200:
                        self.failures.append(f"status {response.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.checks += 1
                await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def hub(serve: Callable[..., LoggedInstance]) -> LoggedInstance:
    return serve(**HUB_ENV)


async def test_malformed_frames_get_documented_answers_and_the_server_stays_up(
    hub: LoggedInstance, api: Api
) -> None:
    learners = [await api.account("learner") for _ in range(WORKERS // 2 + 1)]
    factory = FrameFactory(
        SEED,
        Tokens(
            user_id=learners[0].id,
            expired=token_for(learners[0].id, expired=True),
            other_user=learners[-1].access_token,
        ),
        MAX_FRAME_BYTES,
    )
    episodes = plan(factory)
    process = psutil.Process(hub.instance.pid)
    outcomes = Outcomes()
    # Two workers per learner; the last learner's token is the "another user" of the refresh probes.
    fuzzer = Fuzzer(hub.instance.ws, [learner.access_token for learner in learners[:-1]], outcomes)
    watch = HealthWatch(hub.instance.http)
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch.run(stop))
    rss_start = process.memory_info().rss
    started = time.monotonic()
    try:
        warm_up = split_at_frames(episodes, WARM_UP_FRAMES)
        await fuzzer.run(episodes[:warm_up])
        await asyncio.sleep(1)
        rss_warm = process.memory_info().rss
        frames_warm = outcomes.frames_sent
        await fuzzer.run(episodes[warm_up:])
        await asyncio.sleep(1)
        rss_end = process.memory_info().rss
    finally:
        stop.set()
        await watcher
    duration = round(time.monotonic() - started, 1)
    alive = hub.instance.alive
    async with httpx.AsyncClient(base_url=hub.instance.http) as http:
        final_health = (await http.get("/api/health", timeout=5)).status_code

    mib = 1024 * 1024
    figures = {
        "seed": SEED,
        "frames_sent": outcomes.frames_sent,
        "frames_by_kind": dict(outcomes.by_kind),
        "answers": dict(outcomes.answers),
        "violations": outcomes.answers["VIOLATION"],
        "floods": outcomes.flood_figures,
        "health_checks": watch.checks,
        "health_failures": len(watch.failures),
        "process_alive": alive,
        "rss_mib": {
            "start": round(rss_start / mib, 1),
            "after_warm_up": round(rss_warm / mib, 1),
            "end": round(rss_end / mib, 1),
            "growth_after_warm_up": round((rss_end - rss_warm) / mib, 1),
            "frames_in_warm_up": frames_warm,
        },
        "duration_seconds": duration,
        "hub_settings": HUB_ENV,
    }
    write_figures("ws_fuzzer", figures)
    print("ws fuzzer figures:", json.dumps(figures))
    assert alive and final_health == 200
    assert not watch.failures, watch.failures[:5]
    assert outcomes.frames_sent >= MIN_FRAMES, figures
    assert not outcomes.violations, "\n".join(outcomes.violations)
    assert rss_end - rss_warm <= RSS_GROWTH_BOUND, figures["rss_mib"]
    assert "Traceback" not in hub.log_text()


async def test_a_binary_frame_flood_is_rate_limited_then_closed_4029(hub: LoggedInstance, api: Api) -> None:
    """Regression: binary frames used to skip the frame rate limit, so a flood of them was answered
    forever (binary_not_supported each) instead of being refused and closed like a text flood."""
    learner = await api.account("learner")
    fuzzer = Fuzzer(hub.instance.ws, [learner.access_token], Outcomes())
    connection = await fuzzer.open(learner.access_token)
    sent = 0
    try:
        for _ in range(BURST * 3):
            await connection.send(b"\x00\x01binary")
            sent += 1
    except ConnectionClosed:
        pass
    code, replies = await fuzzer.until_closed(connection)
    codes = Counter(reply["error"]["code"] for reply in replies)
    assert code == 4029, (code, codes)
    assert codes["rate_limited"] == BURST
    assert set(codes) == {"binary_not_supported", "rate_limited"}
    assert sent > codes.total()
