"""Heartbeat load generators: many simulated learners per process, driven over a pipe.

A learner is a bare asyncio protocol on one keep-alive connection: either a WebSocket (our hub's
`heartbeat` op, minimal RFC 6455 client from bench._loadgen) or HTTP/1.1 (the baseline's REST endpoint).
Every learner has at most one heartbeat in flight: it sends `seconds_spent` every `interval` seconds,
and when a reply comes back later than the next send was due, it sends the next one at once. So the
offered rate is learners / interval while the server keeps up, and what it can absorb when it does not.
An `overloaded` reply is followed, as the protocol asks (docs/PRODUCT.md), by the same heartbeat (same
`seq`) between `retry_after` and 1.5 × `retry_after` seconds later (0: at once, a client that ignores it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import random
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench._loadgen import (
    PoolWorker,
    ProcessPool,
    hub_steps,
    merge_connects,
    run_pool_worker,
    upgrade_request,
)
from bench._wsframe import UpgradeRefused, client_control, client_frame, next_frame, read_upgrade


@dataclass
class Totals:
    sent: int = 0
    replies: int = 0
    accepted: int = 0  # ok replies that are not duplicates
    duplicates: int = 0
    credited_seconds: int = 0
    credited_count: int = 0  # replies with credited_seconds > 0: exactly these were appended to the stream
    accepted_in_window: int = 0  # accepted replies received inside [m0, m1]
    refused_in_window: int = 0  # `overloaded` replies received inside [m0, m1]
    pongs_in_window: int = 0  # replies to `ping` (the floor: the cheapest op) received inside [m0, m1]
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    latencies: array = field(default_factory=lambda: array("d"))  # send -> reply, for sends in [m0, m1]
    probes: dict[int, list[float]] = field(default_factory=dict)  # learner -> reply times of credited ones
    m0: float = 0.0
    m1: float = 0.0
    lost: int = 0  # connections that went away during the run


TOTALS = Totals()


class Learner(asyncio.Protocol):
    """One simulated learner on one connection (WebSocket or HTTP keep-alive)."""

    def __init__(self, spec: dict[str, Any], kind: str, host: str, port: int, ready: asyncio.Future[None]):
        self.spec = spec
        self.kind = kind
        self.host = host
        self.port = port
        self.ready = ready
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.state = 0  # 0 handshake, 1 authenticating (ws), 2 live
        self.seq = 0
        self.in_flight = False
        self.sent_at = 0.0
        self.next_due = 0.0
        self.stop_at = 0.0
        self.interval = 1.0
        self.seconds = 1
        self.op = "heartbeat"
        self.retry_after = 1.0
        self.resend = False  # the next send repeats the refused heartbeat (same seq)
        self.idle: asyncio.Future[None] | None = None
        self.handle: asyncio.TimerHandle | None = None
        self.closed = False
        self.probe = spec.get("probe")

    # -- connection --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.kind == "ws":
            transport.write(upgrade_request(self.host, self.port, "/ws"))  # type: ignore[attr-defined]
        else:
            self.state = 2
            self.ready.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            TOTALS.lost += 1
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost during set-up: {exc!r}"))
        if self.in_flight:
            TOTALS.errors["connection lost with a heartbeat in flight"] += 1
            self.in_flight = False
        self._maybe_idle()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            if self.kind == "ws":
                with contextlib.suppress(Exception):
                    self.transport.write(client_control(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()

    # -- sending -------------------------------------------------------------------------------------

    def start(
        self,
        first_at: float,
        interval: float,
        seconds: int,
        stop_at: float,
        op: str = "heartbeat",
        retry_after: float = 1.0,
    ) -> asyncio.Future[None]:
        """`op` "ping": send the hub's `ping` op instead of heartbeats (ws only)."""
        loop = asyncio.get_running_loop()
        self.interval, self.seconds, self.stop_at, self.op = interval, seconds, stop_at, op
        self.retry_after, self.resend = retry_after, False
        self.idle = loop.create_future()
        self.next_due = first_at
        self.handle = loop.call_at(loop.time() + max(0.0, first_at - time.time()), self._send)
        return self.idle

    def _send(self) -> None:
        self.handle = None
        now = time.time()
        if self.closed or now >= self.stop_at:
            self._maybe_idle(force=True)
            return
        assert self.transport is not None
        resend, self.resend = self.resend, False
        if not resend:
            self.seq += 1
            self.next_due += self.interval
        spec = self.spec
        body = f'{{"lesson_id":"{spec["lesson_id"]}","seconds_spent":{self.seconds},"seq":{self.seq}}}'
        if self.kind == "ws" and self.op == "ping":
            self.transport.write(client_frame(f'{{"op":"ping","id":{self.seq}}}'))
        elif self.kind == "ws":
            frame = (
                f'{{"op":"heartbeat","id":{self.seq},"course_id":{spec["course_id"]},'
                f'"lesson_id":"{spec["lesson_id"]}","seconds_spent":{self.seconds},"seq":{self.seq}}}'
            )
            self.transport.write(client_frame(frame))
        else:
            payload = body.encode()
            self.transport.write(
                (
                    f"POST /api/courses/{spec['course_id']}/telemetry HTTP/1.1\r\nHost: {self.host}\r\n"
                    f"Authorization: Bearer {spec['token']}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n"
                ).encode()
                + payload
            )
        self.in_flight = True
        self.sent_at = now
        TOTALS.sent += 1

    def _on_reply(self, payload: bytes, status_ok: bool = True) -> None:
        now = time.time()
        totals = TOTALS
        self.in_flight = False
        totals.replies += 1
        try:
            reply = json.loads(payload)
        except ValueError:
            reply = {}
        if reply.get("pong") is True:
            if totals.m0 <= now <= totals.m1:
                totals.pongs_in_window += 1
        elif status_ok and reply.get("accepted") is True:
            if reply.get("duplicate"):
                totals.duplicates += 1
            else:
                totals.accepted += 1
                if totals.m0 <= now <= totals.m1:
                    totals.accepted_in_window += 1
            credit = int(reply.get("credited_seconds") or 0)
            if credit > 0:
                totals.credited_seconds += credit
                totals.credited_count += 1
                if self.probe is not None:
                    totals.probes.setdefault(self.probe, []).append(now)
        else:
            error = reply.get("error") if isinstance(reply, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            totals.errors[str(code or reply.get("detail") or payload[:80])] += 1
            if code == "overloaded":
                self.resend = True
                if totals.m0 <= now <= totals.m1:
                    totals.refused_in_window += 1
        if totals.m0 <= self.sent_at <= totals.m1:
            totals.latencies.append(now - self.sent_at)
        # Next heartbeat when it is due, or at once when this reply came late.
        if now >= self.stop_at or self.closed:
            self._maybe_idle(force=True)
            return
        loop = asyncio.get_running_loop()
        if self.resend:
            wait = self.retry_after * (1.0 + 0.5 * random.random())
        else:
            wait = max(0.0, self.next_due - now)
        self.handle = loop.call_at(loop.time() + wait, self._send)

    def _maybe_idle(self, force: bool = False) -> None:
        if self.idle is not None and not self.idle.done() and (force or self.closed) and not self.in_flight:
            if self.handle is not None:
                self.handle.cancel()
                self.handle = None
            self.idle.set_result(None)

    # -- receiving -----------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.buffer:
            data = self.buffer + data
            self.buffer = b""
        if self.kind == "http":
            self._http(data)
        else:
            self._ws(data)

    def _http(self, data: bytes) -> None:
        while True:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                break
            head = data[:end].lower()
            at = head.find(b"content-length:")
            length = (
                int(head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None])
                if at >= 0
                else 0
            )
            if len(data) < end + 4 + length:
                break
            body = data[end + 4 : end + 4 + length]
            status_ok = head[9:12] in (b"200", b"201", b"202")
            data = data[end + 4 + length :]
            self._on_reply(body, status_ok)
        self.buffer = data

    def _ws(self, data: bytes) -> None:
        if self.state == 0:
            try:
                upgrade = read_upgrade(data)
            except UpgradeRefused as refused:
                self._fail(str(refused))
                return
            if upgrade is None:
                self.buffer = data
                return
            data = upgrade.rest
            self.state = 1
            assert self.transport is not None
            self.transport.write(hub_steps(self.spec["token"], None)[0][0] or b"")
        pos = 0
        size = len(data)
        while (found := next_frame(data, pos)) is not None:
            first, start, end = found
            opcode = first & 0x0F
            payload = data[start:end]
            pos = end
            if opcode == 1:
                if self.state == 1:
                    if b'"id":1,"ok":true' in payload:
                        self.state = 2
                        if not self.ready.done():
                            self.ready.set_result(None)
                    elif payload.startswith(b'{"event":'):
                        pass  # a keepalive ping can come before a slow auth reply
                    else:
                        self._fail(f"auth refused: {payload[:200].decode(errors='replace')}")
                        return
                elif payload.startswith(b'{"id":') and self.in_flight:
                    self._on_reply(payload)
                # anything else (server pings as JSON, publications) is ignored
            elif opcode == 9:
                assert self.transport is not None
                self.transport.write(client_control(0xA, payload))
            elif opcode == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                TOTALS.errors[f"closed by server with {code}"] += 1
                self.closed = True
                assert self.transport is not None
                self.transport.close()
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"closed during set-up with code {code}"))
                return
        if pos < size:
            self.buffer = data[pos:]

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()


class Worker(PoolWorker):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.learners: list[Learner] = []

    async def connect(self, spec: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        kind, host, port = spec["kind"], spec["host"], spec["port"]
        limit = asyncio.Semaphore(spec.get("concurrency", 32))
        source = self.next_source_address()
        errors: collections.Counter[str] = collections.Counter()
        started = time.monotonic()

        async def one(learner: dict[str, Any]) -> None:
            async with limit:
                ready: asyncio.Future[None] = loop.create_future()
                try:
                    _, protocol = await loop.create_connection(
                        lambda: Learner(learner, kind, host, port, ready), host, port, local_addr=(source, 0)
                    )
                    await asyncio.wait_for(ready, 30.0)
                    self.learners.append(protocol)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    errors[str(exc)[:120] or type(exc).__name__] += 1

        await asyncio.gather(*(one(learner) for learner in spec["learners"]))
        return {
            "connected": len(spec["learners"]) - sum(errors.values()),
            "failed": sum(errors.values()),
            "errors": dict(errors.most_common(3)),
            "seconds": time.monotonic() - started,
        }

    async def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        global TOTALS
        TOTALS = Totals(m0=spec["m0"], m1=spec["m1"])
        start, interval, stop_at = spec["start"], spec["interval"], spec["stop_at"]
        count = max(1, spec["total_learners"])
        waits = []
        for learner in self.learners:
            # Spread the learners' first heartbeats evenly over one interval.
            offset = (learner.spec["index"] / count) * interval
            waits.append(
                learner.start(
                    start + offset,
                    interval,
                    spec["seconds_spent"],
                    stop_at,
                    spec.get("op", "heartbeat"),
                    spec.get("retry_after", 1.0),
                )
            )
        # Every heartbeat sent gets its reply before the run ends (or the grace period runs out).
        done, pending = await asyncio.wait(waits, timeout=max(0.0, stop_at - time.time()) + spec["grace"])
        unanswered = sum(1 for learner in self.learners if learner.in_flight)
        totals = TOTALS
        return {
            "sent": totals.sent,
            "replies": totals.replies,
            "accepted": totals.accepted,
            "duplicates": totals.duplicates,
            "credited_seconds": totals.credited_seconds,
            "credited_count": totals.credited_count,
            "accepted_in_window": totals.accepted_in_window,
            "refused_in_window": totals.refused_in_window,
            "pongs_in_window": totals.pongs_in_window,
            "errors": dict(totals.errors),
            "latencies": totals.latencies.tobytes(),
            "probes": totals.probes,
            "unanswered": unanswered,
            "lost": totals.lost,
        }

    async def close_all(self) -> int:
        count = len(self.learners)
        for learner in self.learners:
            learner.close()
        self.learners = []
        await asyncio.sleep(0.3)
        return count

    def handlers(self) -> dict[str, Callable[[Any], Any]]:
        return {"connect": self.connect, "run": self.run}


def _worker_main(index: int, pipe: Connection) -> None:
    run_pool_worker(Worker, index, pipe)


class Senders(ProcessPool):
    """The orchestrator's handle on `count` heartbeat load-generator processes."""

    def __init__(self, count: int) -> None:
        super().__init__(count, _worker_main)

    async def connect(
        self, *, kind: str, host: str, port: int, learners: list[dict[str, Any]]
    ) -> dict[str, Any]:
        share = len(self.pipes)
        calls = [
            ("connect", {"kind": kind, "host": host, "port": port, "learners": learners[index::share]})
            for index in range(share)
        ]
        return merge_connects(await self.call_all(calls))

    async def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        results = await self.broadcast("run", spec)
        latencies = array("d")
        errors: collections.Counter[str] = collections.Counter()
        probes: dict[int, list[float]] = {}
        for result in results:
            latencies.frombytes(result["latencies"])
            errors.update(result["errors"])
            probes.update(result["probes"])
        merged: dict[str, Any] = {
            key: sum(r[key] for r in results)
            for key in (
                "sent",
                "replies",
                "accepted",
                "duplicates",
                "credited_seconds",
                "credited_count",
                "accepted_in_window",
                "refused_in_window",
                "pongs_in_window",
                "unanswered",
                "lost",
            )
        }
        merged.update(latencies=sorted(latencies), errors=dict(errors), probes=probes)
        return merged

    async def close_all(self) -> None:
        await self.broadcast("close_all")
