"""Redis's and the api's share of accepting a heartbeat, and a worker's share of reading and deleting it,
on an idle embedded Valkey run as the app runs it (append-only file, `appendfsync always`).

    python -m bench.telemetry.scripts [--heartbeats 48000] [--learners 8000] [--call 400] [--runs 3]

Each run starts a fresh server and sends the same heartbeats (the learners in turn, one second each, so
every one is credited) three ways, two calls at a time:

- ours: the api's acceptance call (budget, `seq` guard, one stream entry per call) and the live-activity
  call, as `TelemetryStream` makes them, then a worker's reads (`StreamConsumer.read_new`), parsing and
  acknowledgement (`ack`: XACK + XDEL) of what they appended;
- baseline: a plain stream producer, one `XADD` per heartbeat (pipelined), nothing checked;
- floor: one `XADD` per call holding the call's heartbeats, nothing checked: what a durable append of the
  same heartbeats costs Redis at least.

Figures are CPU per heartbeat: Redis's (the server process) and this process's (the client side of the
calls: building, packing, parsing). What the whole pipeline costs under load is `python -m bench.telemetry`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from app.stores.embedded import EmbeddedValkey
from app.stores.redis import create_redis
from app.telemetry.batcher import Pending
from app.telemetry.stream import PACKED, StreamConsumer, TelemetryStream
from bench._harness import cpu_seconds, machine, versus

CONCURRENT = 2
LESSONS = ("intro", "basics", "practice", "quiz", "summary")


def heartbeats(count: int, learners: int) -> list[Pending]:
    """`count` heartbeats of `learners` learners in turn, one second each: within the first heartbeat's
    allowance (60 s) every one is credited, and all but a learner's first find its live activity."""
    return [
        Pending(
            user_id=1 + index % learners,
            course_id=1 + index % learners % 10,
            lesson_id=LESSONS[index % len(LESSONS)],
            seconds=1,
            seq=1 + index // learners,
            enrollment_id=1 + index % learners,
            idempotency_key="",
        )
        for index in range(count)
    ]


async def timed(pid: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(Redis CPU seconds, this process's CPU seconds) spent by `work`."""
    redis_before, client_before = cpu_seconds([pid]), time.process_time()
    await work()
    return cpu_seconds([pid]) - redis_before, time.process_time() - client_before


Call = Callable[[Sequence[Pending]], Awaitable[Any]]


async def in_calls(items: Sequence[Pending], size: int, call: Call) -> None:
    calls = [items[start : start + size] for start in range(0, len(items), size)]
    for start in range(0, len(calls), CONCURRENT):
        await asyncio.gather(*(call(chunk) for chunk in calls[start : start + CONCURRENT]))


def packed(item: Pending, now_ms: int) -> str:
    return f"{item.seconds}|{now_ms}|{item.user_id}|{item.course_id}|{item.enrollment_id}|{item.lesson_id}"


async def one_run(count: int, learners: int, size: int) -> dict[str, float]:
    """Per-heartbeat µs of each measured part, on a fresh server."""
    items = heartbeats(count, learners)
    with tempfile.TemporaryDirectory(prefix="lf-bench-scripts-") as scratch:
        server = EmbeddedValkey(Path(scratch))
        url = server.start()
        try:
            pid = server._server._process.pid  # type: ignore[attr-defined]
            redis: Any = create_redis(url, retries=0)
            stream = TelemetryStream(redis, tolerance_seconds=2, first_heartbeat_max_seconds=60)
            consumer = StreamConsumer(redis, "bench")
            await consumer.ensure_group()
            await consumer.acquire()
            await stream._accept_batch(heartbeats(10, 10))  # scripts loaded, connections open
            await consumer.ack(*(await consumer.read_new(100) or ([], [])))

            async def accept_share(chunk: Sequence[Pending]) -> None:
                await stream._accept_share(0, list(chunk))

            async def note(chunk: Sequence[Pending]) -> None:
                await stream._note([(item, item.seconds) for item in chunk])

            accept = await timed(pid, lambda: in_calls(items, size, accept_share))
            activity = await timed(pid, lambda: in_calls(items, size, note))

            async def drain() -> None:
                while True:
                    ids, entries = await consumer.read_new(consumer.read_chunk) or ([], [])
                    if not ids:
                        return
                    await consumer.ack(ids, entries)

            fold = await timed(pid, drain)
            now_ms = int(time.time() * 1000)

            async def one_per_heartbeat(chunk: Sequence[Pending]) -> None:
                pipe = redis.pipeline(transaction=False)
                for item in chunk:
                    pipe.xadd("bench:baseline", {PACKED: packed(item, now_ms)})
                await pipe.execute()

            async def one_per_call(chunk: Sequence[Pending]) -> None:
                fields = {PACKED if n == 0 else str(n): packed(item, now_ms) for n, item in enumerate(chunk)}
                await redis.xadd("bench:floor", fields)

            baseline = await timed(pid, lambda: in_calls(items, size, one_per_heartbeat))
            floor = await timed(pid, lambda: in_calls(items, size, one_per_call))
            await redis.aclose()
        finally:
            server.stop()
    us = 1e6 / count
    return {
        "ours: Redis, acceptance": accept[0] * us,
        "ours: Redis, activity": activity[0] * us,
        "ours: api side of both calls": (accept[1] + activity[1]) * us,
        "ours: Redis, a worker reading and deleting": fold[0] * us,
        "ours: worker side of reading and deleting": fold[1] * us,
        "baseline: Redis, one XADD per heartbeat": baseline[0] * us,
        "floor: Redis, one XADD per call": floor[0] * us,
    }


async def main(args: argparse.Namespace) -> None:
    runs = [await one_run(args.heartbeats, args.learners, args.call) for _ in range(args.runs)]
    print(
        f"telemetry scripts: {args.heartbeats:,} heartbeats of {args.learners:,} learners in calls of "
        f"{args.call}, {CONCURRENT} at a time, {args.runs} runs on a fresh embedded Valkey "
        f"(appendfsync always); {machine()}"
    )
    width = max(len(name) for name in runs[0])
    for name in runs[0]:
        values = [run[name] for run in runs]
        print(
            f"  {name:<{width}}  {min(values):6.1f}–{max(values):6.1f} µs/hb  "
            f"(median {statistics.median(values):.1f})"
        )
    ours = [run["ours: Redis, acceptance"] + run["ours: Redis, activity"] for run in runs]
    baseline = [run["baseline: Redis, one XADD per heartbeat"] for run in runs]
    floor = [run["floor: Redis, one XADD per call"] for run in runs]
    medians = (statistics.median(values) for values in (ours, baseline, floor))
    print(f"  Redis per heartbeat (ours: both calls), {versus(*medians)}")


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--heartbeats", type=int, default=48_000)
    parser.add_argument("--learners", type=int, default=8_000)
    parser.add_argument("--call", type=int, default=400, help="heartbeats per acceptance call")
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
