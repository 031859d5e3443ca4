"""Load-generator processes: many WebSocket subscribers per process, driven over a pipe.

Each subscriber is a bare asyncio protocol with a minimal RFC 6455 client (handshake, masked client
frames with a zero mask key, unmasked server frames, pong replies) so that the load generator costs a
few microseconds per received frame and is not what limits the servers under test. Frames that carry
a `"bts":<send time>` field are counted and their publish→receive latency is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import inspect
import multiprocessing
import os
import socket
import time
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from app.descriptors import raise_open_file_limit
from bench._wsframe import UpgradeRefused, client_control, client_frame, next_frame, read_upgrade

MARKER = b'"bts":'
# What browsers offer in their handshake; a server that accepts it sends compressed frames (RSV1).
BROWSER_EXTENSIONS = "permessage-deflate; client_max_window_bits"
SMALL_RECEIVE_BUFFER = 32 * 1024


@dataclass
class Stats:
    frames: int = 0  # every bench frame received
    in_window: int = 0  # bench frames received inside [m0, m1]
    m0: float = 0.0
    m1: float = 0.0
    recording: bool = False
    latencies: array = field(default_factory=lambda: array("d"))  # for frames published in [m0, m1]
    # Per publication in [m0, m1] (keyed by its send time): [first, last] arrival across subscribers.
    spans: dict[float, list[float]] = field(default_factory=dict)
    disorder: int = 0  # bench frames that arrived after a later publication on the same socket
    closes: collections.Counter[int] = field(default_factory=collections.Counter)
    lost: int = 0  # connections that went away without a close frame
    open: int = 0
    offset_disorder: int = 0  # bench frames whose offset is not above the previous one on the socket
    reply_disorder: int = 0  # ping replies whose id is not above the previous reply's on the socket


STATS = Stats()


class Subscriber(asyncio.Protocol):
    """One WebSocket client. `steps` are (frame to send or None, reply marker) pairs run after the
    handshake; the connection is ready once every marker was seen."""

    __slots__ = (
        "transport",
        "buffer",
        "state",
        "steps",
        "ready",
        "request",
        "closed",
        "count",
        "inflater",
        "last",
        "offset",
        "code",
        "pings",
        "replies",
        "last_reply",
    )

    def __init__(self, request: bytes, steps: list[tuple[bytes | None, bytes]], ready: asyncio.Future[None]):
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.state = 0  # 0 handshake, 1 running steps, 2 live
        self.steps = collections.deque(steps)
        self.ready = ready
        self.request = request
        self.closed = False
        self.count = 0  # bench frames received while recording
        self.inflater: Any = None  # set when the server accepted permessage-deflate
        self.last = 0.0  # send time of the latest bench frame received
        self.offset = 0  # offset of the latest bench frame received
        self.code = 0  # close code received (0: none yet)
        self.pings = 0  # ping requests sent while measuring
        self.replies = 0  # their replies received
        self.last_reply = 0  # id of the latest ping reply

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state == 2:
            STATS.open -= 1
            if not self.closed:
                STATS.lost += 1
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost during set-up: {exc!r}"))

    def _next_step(self) -> None:
        assert self.transport is not None
        if not self.steps:
            self.state = 2
            STATS.open += 1
            if not self.ready.done():
                self.ready.set_result(None)
            return
        frame, _ = self.steps[0]
        if frame is not None:
            self.transport.write(frame)

    def data_received(self, data: bytes) -> None:
        if self.buffer:
            data = self.buffer + data
            self.buffer = b""
        if self.state == 0:
            try:
                upgrade = read_upgrade(data)
            except UpgradeRefused as refused:
                self._fail(str(refused))
                return
            if upgrade is None:
                self.buffer = data
                return
            if b"permessage-deflate" in upgrade.head:
                self.inflater = zlib.decompressobj(-15)
            data = upgrade.rest
            self.state = 1
            self._next_step()
        now = time.time()
        stats = STATS
        pos = 0
        size = len(data)
        while (found := next_frame(data, pos)) is not None:
            first, start, end = found
            opcode = first & 0x0F
            pos = end
            if opcode == 1 and self.inflater is not None and first & 0x40:
                # A compressed message: inflate it, then read it like any other.
                payload = self.inflater.decompress(data[start:end] + b"\x00\x00\xff\xff")
                at = payload.find(MARKER)
                if at >= 0:
                    stats.frames += 1
                    if stats.recording:
                        self.count += 1
                        if stats.m0 <= now <= stats.m1:
                            stats.in_window += 1
                        sent = float(payload[at + 6 : payload.find(b"}", at)])
                        self._arrived(stats, sent, now)
                        self._offset(stats, payload, 0, len(payload))
                elif self.state == 1:
                    self._step_reply(payload)
                elif self.pings:
                    self._reply(stats, payload, 0, len(payload))
            elif opcode == 1:
                at = data.find(MARKER, start, end)
                if at >= 0:
                    stats.frames += 1
                    if stats.recording:
                        self.count += 1
                        if stats.m0 <= now <= stats.m1:
                            stats.in_window += 1
                        sent = float(data[at + 6 : data.find(b"}", at, end)])
                        self._arrived(stats, sent, now)
                        self._offset(stats, data, start, end)
                elif self.state == 1:
                    self._step_reply(data[start:end])
                elif self.pings:
                    self._reply(stats, data, start, end)
            elif opcode == 9:
                assert self.transport is not None
                self.transport.write(client_control(0xA, data[start:end]))
            elif opcode == 8:
                code = int.from_bytes(data[start : start + 2], "big") if end - start >= 2 else 1005
                stats.closes[code] += 1
                self.code = code
                self.closed = True
                assert self.transport is not None
                with contextlib.suppress(Exception):
                    self.transport.write(client_control(0x8, data[start : start + 2]))
                self.transport.close()
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"closed during set-up with code {code}"))
                return
        if pos < size:
            self.buffer = data[pos:]

    def _arrived(self, stats: Stats, sent: float, now: float) -> None:
        # Publications are sent one after another, so their send times order them.
        if sent <= self.last:
            stats.disorder += 1
        self.last = sent
        if stats.m0 <= sent <= stats.m1:
            stats.latencies.append(now - sent)
            span = stats.spans.get(sent)
            if span is None:
                stats.spans[sent] = [now, now]
            elif now > span[1]:
                span[1] = now

    def _offset(self, stats: Stats, data: bytes, start: int, end: int) -> None:
        # Frames without an offset (none of ours lack one) are not checked.
        at = data.find(b'"offset":', start, end)
        if at >= 0:
            offset = int(data[at + 9 : data.find(b",", at, end)])
            if offset <= self.offset:
                stats.offset_disorder += 1
            self.offset = offset

    def _reply(self, stats: Stats, data: bytes, start: int, end: int) -> None:
        if data.find(b'"pong":true', start, end) < 0:
            return
        at = data.find(b'"id":', start, end)
        reply_id = int(data[at + 5 : data.find(b",", at, end)])
        if reply_id <= self.last_reply:
            stats.reply_disorder += 1
        self.last_reply = reply_id
        self.replies += 1

    def ping(self) -> None:
        """Send a ping request (ids from 3 up: 1 and 2 were the set-up requests)."""
        if self.transport is not None and not self.closed:
            self.pings += 1
            self.transport.write(client_frame(f'{{"op":"ping","id":{self.pings + 2}}}'))

    def _step_reply(self, payload: bytes) -> None:
        if not self.steps:
            return
        _, marker = self.steps[0]
        if marker in payload:
            self.steps.popleft()
            self._next_step()
        elif b'"ok":false' in payload:
            self._fail(f"refused: {payload[:200].decode(errors='replace')}")

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                self.transport.write(client_control(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()


def upgrade_request(host: str, port: int, path: str, *, browser: bool = False) -> bytes:
    """The upgrade request; `browser` adds the permessage-deflate offer every browser makes."""
    key = base64.b64encode(os.urandom(16)).decode()
    offer = f"Sec-WebSocket-Extensions: {BROWSER_EXTENSIONS}\r\n" if browser else ""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    ).encode()


def hub_steps(token: str, channel: str | None) -> list[tuple[bytes | None, bytes]]:
    steps: list[tuple[bytes | None, bytes]] = [
        (client_frame(f'{{"op":"auth","token":"{token}","id":1}}'), b'"id":1,"ok":true')
    ]
    if channel is not None:
        steps.append(
            (client_frame(f'{{"op":"subscribe","channel":"{channel}","id":2}}'), b'"id":2,"ok":true')
        )
    return steps


class PoolWorker:
    """The child side of a ProcessPool: answers the parent's commands, one reply per command, until
    `exit`. Subclasses name their commands in `handlers` (a handler may be a coroutine function)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.phase = 0

    def next_source_address(self) -> str:
        """A fresh loopback source address per phase: TIME_WAIT sockets of earlier phases never exhaust
        the ephemeral ports of this one."""
        self.phase += 1
        return f"127.{(self.index + 1) % 250}.{self.phase % 250}.{2 + (self.phase // 250) % 250}"

    def handlers(self) -> dict[str, Callable[[Any], Any]]:
        raise NotImplementedError

    async def close_all(self) -> int:
        raise NotImplementedError

    async def serve(self, pipe: Connection) -> None:
        loop = asyncio.get_running_loop()
        handlers = {"close_all": lambda _: self.close_all(), **self.handlers()}
        while True:
            command, argument = await loop.run_in_executor(None, pipe.recv)
            if command == "exit":
                await self.close_all()
                pipe.send(None)
                return
            result = handlers[command](argument)
            if inspect.isawaitable(result):
                result = await result
            pipe.send(result)


def run_pool_worker(worker: type[PoolWorker], index: int, pipe: Connection) -> None:
    """A pool process's entry point: many sockets need a high fd limit, and uvloop when present."""
    raise_open_file_limit()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(worker(index).serve(pipe))


class Worker(PoolWorker):
    """The load-generator process's side: runs commands from the orchestrator."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.clients: list[Subscriber] = []
        self.stalled: list[Subscriber] = []
        self.small: list[Subscriber] = []  # opened with a small receive buffer (see `connect`)
        self.chatter: asyncio.Task[None] | None = None

    async def connect(self, spec: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        host, port, path = spec["host"], spec["port"], spec["path"]
        tokens: list[str | None] = spec.get("tokens") or [None] * spec["count"]
        channel = spec.get("channel")
        user_ids = spec.get("user_ids") or [None] * len(tokens)
        limit = asyncio.Semaphore(spec.get("concurrency", 64))
        source = self.next_source_address()
        browser = bool(spec.get("browser", False))
        errors: collections.Counter[str] = collections.Counter()
        subscribed: collections.Counter[str] = collections.Counter()  # connected subscribers per channel
        started = time.monotonic()

        small = spec.get("small_buffers", 0)

        async def one(token: str | None, user_id: int | None, index: int) -> None:
            async with limit:
                ready: asyncio.Future[None] = loop.create_future()
                wanted = channel.format(user_id=user_id) if channel else None
                steps = hub_steps(token or "", wanted) if spec["kind"] == "hub" else [(None, b'"ok":true')]
                try:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    if index < small:
                        # Set before connecting, so that the window is never scaled up: loopback
                        # autotunes receive buffers up to tcp_rmem's maximum (tens of MiB), which a
                        # stalled client would take minutes to fill; a congested mobile link holds little.
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RECEIVE_BUFFER)
                    try:
                        sock.setblocking(False)
                        sock.bind((source, 0))
                        await loop.sock_connect(sock, (host, port))
                    except BaseException:
                        sock.close()
                        raise
                    _, protocol = await loop.create_connection(
                        lambda: Subscriber(upgrade_request(host, port, path, browser=browser), steps, ready),
                        sock=sock,
                    )
                    await asyncio.wait_for(ready, spec.get("timeout", 30.0))
                    self.clients.append(protocol)
                    if wanted is not None:
                        subscribed[wanted] += 1
                    if index < small:
                        self.small.append(protocol)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    errors[str(exc)[:120] or type(exc).__name__] += 1

        await asyncio.gather(
            *(one(token, uid, index) for index, (token, uid) in enumerate(zip(tokens, user_ids, strict=True)))
        )
        return {
            "connected": len(tokens) - sum(errors.values()),
            "errors": dict(errors.most_common(3)),
            "failed": sum(errors.values()),
            "seconds": time.monotonic() - started,
            "channels": dict(subscribed),
        }

    def measure(self, m0: float, m1: float) -> None:
        STATS.frames = 0
        STATS.in_window = 0
        STATS.latencies = array("d")
        STATS.spans = {}
        STATS.disorder = 0
        STATS.closes.clear()
        STATS.lost = 0
        STATS.offset_disorder = 0
        STATS.reply_disorder = 0
        STATS.m0, STATS.m1 = m0, m1
        STATS.recording = True
        for client in self.clients:
            client.count = 0
            client.offset = 0
            client.pings = client.replies = client.last_reply = 0

    def start_requests(self, count: int, interval: float, until: float) -> int:
        """`count` clients send a ping request every `interval` s until wall time `until`,
        while they receive publications (call after `measure`, which resets the counts)."""
        # Never the small-buffer clients, which the slow-consumer check may stall.
        small = {id(client) for client in self.small}
        talkers = [client for client in self.clients if id(client) not in small][:count]

        async def talk() -> None:
            while time.time() < until:
                for client in talkers:
                    client.ping()
                await asyncio.sleep(interval)

        self.chatter = asyncio.get_running_loop().create_task(talk())
        return len(talkers)

    def stall(self, count: int) -> int:
        """`count` clients opened with small buffers stop reading (their kernel buffers, then the
        server's queue, fill)."""
        self.stalled = [client for client in self.small if not client.closed][:count]
        for client in self.stalled:
            assert client.transport is not None
            client.transport.pause_reading()
        return len(self.stalled)

    async def release(self, limit: float) -> dict[str, int]:
        """Stalled clients read again; wait (at most `limit` s) until each saw its close. Their close
        codes ("open": not closed in time, "lost": closed without a close frame)."""
        for client in self.stalled:
            if client.transport is not None and not client.closed:
                client.transport.resume_reading()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not all(client.closed for client in self.stalled):
            await asyncio.sleep(0.1)
        codes: collections.Counter[str] = collections.Counter(
            (str(client.code) if client.code else "lost") if client.closed else "open"
            for client in self.stalled
        )
        self.stalled = []
        return dict(codes)

    def collect(self) -> dict[str, Any]:
        STATS.recording = False
        return {
            "per_client": collections.Counter(client.count for client in self.clients),
            "frames": STATS.frames,
            "in_window": STATS.in_window,
            "latencies": STATS.latencies.tobytes(),
            "spans": STATS.spans,
            "disorder": STATS.disorder,
            "closes": dict(STATS.closes),
            "lost": STATS.lost,
            "open": STATS.open,
            "offset_disorder": STATS.offset_disorder,
            "reply_disorder": STATS.reply_disorder,
            "pings": sum(client.pings for client in self.clients),
            "replies": sum(client.replies for client in self.clients),
            "missing": sum(max(0, client.pings - client.replies) for client in self.clients),
        }

    async def close_all(self) -> int:
        count = len(self.clients)
        for client in self.clients:
            client.close()
        self.clients = []
        self.small = []
        await asyncio.sleep(0.5)
        return count

    def handlers(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "connect": self.connect,
            "measure": lambda argument: self.measure(*argument),
            "collect": lambda _: self.collect(),
            "peek": lambda _: {
                "frames": STATS.frames,
                "open": STATS.open,
                "closes": dict(STATS.closes),
                "replies": sum(client.replies for client in self.clients),
            },
            "requests": lambda argument: self.start_requests(*argument),
            "stall": self.stall,
            "release": self.release,
        }


def _worker_main(index: int, pipe: Connection) -> None:
    run_pool_worker(Worker, index, pipe)


class ProcessPool:
    """`count` spawned processes running `target(index, pipe)`, each answering one command per call."""

    def __init__(self, count: int, target: Callable[[int, Connection], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        for index in range(count):
            parent, child = context.Pipe()
            process = context.Process(target=target, args=(index, child), daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    async def call_all(self, calls: list[tuple[str, Any]]) -> list[Any]:
        """One (command, argument) per process, sent in parallel; their answers in process order."""
        loop = asyncio.get_running_loop()

        def call(pipe: Connection, command: str, argument: Any) -> Any:
            pipe.send((command, argument))
            return pipe.recv()

        return list(
            await asyncio.gather(
                *(
                    loop.run_in_executor(None, call, pipe, command, argument)
                    for pipe, (command, argument) in zip(self.pipes, calls, strict=True)
                )
            )
        )

    async def broadcast(self, command: str, argument: Any = None) -> list[Any]:
        return await self.call_all([(command, argument)] * len(self.pipes))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.broadcast("exit"), 10)
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()


def merge_connects(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The answers of every process to `connect`, added up."""
    errors: collections.Counter[str] = collections.Counter()
    subscribed: collections.Counter[str] = collections.Counter()
    for result in results:
        errors.update(result["errors"])
        subscribed.update(result.get("channels", {}))
    return {
        "connected": sum(r["connected"] for r in results),
        "failed": sum(r["failed"] for r in results),
        "errors": dict(errors.most_common(3)),
        "seconds": max(r["seconds"] for r in results),
        "channels": dict(subscribed),
    }


class LoadGenerators(ProcessPool):
    """The orchestrator's handle on `count` load-generator processes."""

    def __init__(self, count: int) -> None:
        super().__init__(count, _worker_main)

    async def connect(
        self,
        *,
        kind: str,
        host: str,
        port: int,
        path: str,
        count: int,
        tokens: list[str] | None = None,
        channel: str | None = None,
        concurrency: int = 32,
        user_ids: list[int] | None = None,
        browser: bool = False,
        small_buffers: int = 0,
    ) -> dict[str, Any]:
        """Open `count` subscribers split evenly across the processes (`browser`: offering
        permessage-deflate like a browser; `small_buffers`: how many of them get a small receive buffer,
        for Worker.stall)."""
        share = len(self.pipes)
        calls = []
        for index in range(share):
            mine = list(range(index, count, share))
            spec = {
                "kind": kind,
                "host": host,
                "port": port,
                "path": path,
                "count": len(mine),
                "channel": channel,
                "concurrency": concurrency,
                "browser": browser,
                "small_buffers": len(range(index, small_buffers, share)),
                "tokens": [tokens[i] for i in mine] if tokens is not None else None,
                "user_ids": [user_ids[i] for i in mine] if user_ids is not None else None,
            }
            calls.append(("connect", spec))
        return merge_connects(await self.call_all(calls))

    async def connect_each(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One `connect` spec per process (see Worker.connect)."""
        return await self.call_all([("connect", spec) for spec in specs])

    async def collect(self) -> dict[str, Any]:
        results = await self.broadcast("collect")
        latencies = array("d")
        closes: collections.Counter[int] = collections.Counter()
        spans: dict[float, list[float]] = {}
        for result in results:
            latencies.frombytes(result["latencies"])
            closes.update(result["closes"])
            for sent, (first, last) in result["spans"].items():
                known = spans.setdefault(sent, [first, last])
                known[0], known[1] = min(known[0], first), max(known[1], last)
        return {
            "spans": sorted(last - first for first, last in spans.values()),
            "disorder": sum(r["disorder"] for r in results),
            "frames": sum(r["frames"] for r in results),
            "in_window": sum(r["in_window"] for r in results),
            "latencies": latencies,
            "closes": dict(closes),
            "lost": sum(r["lost"] for r in results),
            "open": sum(r["open"] for r in results),
            **{
                key: sum(r[key] for r in results)
                for key in ("offset_disorder", "reply_disorder", "pings", "replies", "missing")
            },
            "per_process": [(r["frames"], r["open"]) for r in results],
            "by_process": [array("d", r["latencies"]) for r in results],
            "per_client": sum((collections.Counter(r["per_client"]) for r in results), collections.Counter()),
        }
