"""A run of ours: a fresh api and worker, the learners over WebSockets, the drain that checks every
credited heartbeat is folded, and (not for peak candidates) the cost of one refusal."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from typing import Any

from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from bench._harness import MONGO_DATABASE, Server, Stack, app_environment, start_hub
from bench.telemetry.cpu import servers_and_stores, store_processes
from bench.telemetry.phases import drive, summary
from bench.telemetry.senders import Senders
from bench.telemetry.sizing import api_sockets
from bench.telemetry.verdicts import FIRST, OVERLOAD, PEAK
from bench.telemetry.watcher import Watcher

STREAM, GROUP = "lf:telemetry", "telemetry-workers"  # app.telemetry.stream


def start_worker(made: Stack) -> Server:
    """A real `learnflow worker` with the api's settings, on the same stores."""
    argv = [sys.executable, "-m", "app.cli", "worker"]
    return Server("worker", argv, {**os.environ, **app_environment(made)}, made.workdir).start(wait=False)


async def wait_for_consumer(redis: Redis, worker: Server, timeout: float = 60.0) -> None:
    """Ready once the worker's consumer has read from the group (it appears in XINFO CONSUMERS)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive:
            raise RuntimeError(f"worker exited:\n{worker.log.read_text()[-3000:]}")
        with contextlib.suppress(Exception):
            if await redis.xinfo_consumers(STREAM, GROUP):
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"worker did not start:\n{worker.log.read_text()[-3000:]}")


async def ours(
    made: Stack,
    learners: list[dict[str, Any]],
    args: argparse.Namespace,
    *,
    role: str = FIRST,
    interval: float | None = None,
    round_no: int = 0,
) -> dict[str, Any]:
    """`role`: FIRST, PEAK (a run of `--peak-learners`, whose rate only counts toward the peak: no
    refusal-cost phase) or OVERLOAD. `interval`: seconds between a learner's heartbeats (`--interval`
    unless given). `round_no`: the `--rounds` round (0-based) the run belongs to."""
    from sqlalchemy import func, select

    from app.stores.models import Telemetry
    from app.stores.sql import Database

    interval = args.interval if interval is None else interval

    redis = Redis.from_url(made.urls.redis_url, decode_responses=True)
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(made.urls.mongo_url)
    api = start_hub(
        made,
        "api",
        processes=args.serve_processes,
        RUN_WORKERS_IN_PROCESS="false",
        WS_MAX_CONNECTIONS=str(api_sockets()),
    )
    worker = start_worker(made)
    senders = Senders(args.processes)
    watcher = Watcher(mongo, learners, args.poll)
    tasks: list[asyncio.Task[None]] = []
    try:
        await wait_for_consumer(redis, worker)
        print(f"api: pid {api.pid}, port {api.port}; worker: pid {worker.pid}", flush=True)
        connected = await senders.connect(kind="ws", host="127.0.0.1", port=api.port, learners=learners)
        print(
            f"  {connected['connected']:,} learners connected and authenticated in "
            f"{connected['seconds']:.1f} s"
            + (f"; {connected['failed']} failed: {connected['errors']}" if connected["failed"] else ""),
            flush=True,
        )
        tasks = [asyncio.create_task(watcher.watch_probes())]

        def processes() -> dict[str, list[int]]:
            named = {"api": [p.pid for p in api.tree()], "worker": [worker.pid], "loadgens": senders.pids}
            return {**store_processes(made), **named}

        redis_before = await redis.info("commandstats")
        results, usage, start, m0, m1 = await drive(
            senders,
            learners,
            args,
            processes,
            profile_as={FIRST: "", PEAK: f"peak-{len(learners)}-", OVERLOAD: "overload-"}[role]
            + (f"round{round_no + 1}-" if role != FIRST and args.rounds > 1 else ""),
            interval=interval,
            on_window=lambda m0, m1: tasks.extend(
                [
                    asyncio.create_task(watcher.sample_folded([m0, m1])),
                    asyncio.create_task(watcher.watch_flushes(redis, m0, m1)),
                ]
            ),
        )
        sent_until = time.time()
        print("  " + summary(results), flush=True)
        print("  " + redis_commands(redis_before, await redis.info("commandstats"), results["accepted"]))
        if results["errors"]:
            warnings = [
                line for line in api.log.read_text(errors="replace").splitlines() if "WARNING" in line
            ]
            print(
                f"  api log: {len(warnings)} warnings; first: " + " | ".join(warnings[:2])[:1500], flush=True
            )
        # Drain: wait until everything credited is folded (MongoDB and PostgreSQL), at most --drain s.
        database = Database(made.urls.database_url)
        course_ids = watcher.course_ids
        deadline = time.monotonic() + args.drain
        folded_all_at = None
        rollups = (0, 0)
        while time.monotonic() < deadline:
            heartbeats, _ = await watcher.folded_now()
            async with database.read() as tx:
                row = (
                    await tx.execute(
                        select(
                            func.coalesce(func.sum(Telemetry.seconds), 0),
                            func.coalesce(func.sum(Telemetry.heartbeats), 0),
                        ).where(Telemetry.course_id.in_(course_ids))
                    )
                ).one()
            rollups = (int(row[0]), int(row[1]))
            if folded_all_at is None and heartbeats >= results["credited_count"]:
                folded_all_at = time.time()
            if heartbeats >= results["credited_count"] and rollups[1] >= results["credited_count"]:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2 * args.poll + 0.1)
        watcher.stopping = True
        await asyncio.gather(*tasks)
        tasks = []
        stream = {"length": await redis.xlen(STREAM)}
        for group in await redis.xinfo_groups(STREAM):
            if group.get("name") == GROUP:
                stream.update(pending=int(group.get("pending") or 0), lag=int(group.get("lag") or 0))
        coll = mongo[MONGO_DATABASE]
        bucket_h, bucket_s = await watcher.folded_now()
        progress_rows = await (
            await coll["progress"].aggregate(
                [
                    {"$match": {"course_id": {"$in": course_ids}}},
                    {"$group": {"_id": None, "s": {"$sum": "$total_seconds_spent"}}},
                ]
            )
        ).to_list()
        progress_s = int(progress_rows[0]["s"]) if progress_rows else 0
        await database.close()
        lags, missing = watcher.lags(results["probes"], m0, m1)
        window_folded = watcher.folded_rate(m0, m1)
        refusals = None if role == PEAK else await refusal_cost(senders, learners, args, processes, redis)
        in_round = f", round {round_no + 1}" if args.rounds > 1 else ""
        return {
            "name": {
                FIRST: "ours (ws → api → stream → worker)",
                PEAK: f"ours, {len(learners):,} learners{in_round} (peak candidate)",
                OVERLOAD: f"ours, overloaded{in_round}",
            }[role],
            "role": role,
            "round": round_no,
            "learners": connected["connected"],
            "interval": interval,
            "results": results,
            "usage": usage,
            "accepted_per_s": results["accepted_in_window"] / args.seconds,
            "folded_per_s": window_folded,
            "folded_how": watcher.folded_how(),
            "lags": lags,
            "lag_missing": missing,
            "catch_up": (folded_all_at - sent_until) if folded_all_at else float("nan"),
            "totals": {
                "credited (sum of replies)": (results["credited_seconds"], results["credited_count"]),
                "course_telemetry buckets": (bucket_s, bucket_h),
                "progress total_seconds_spent": (progress_s, None),
                "PostgreSQL telemetry rollups": rollups,
            },
            "stream": stream,
            "start": start,
            "refusals": refusals,
        }
    finally:
        watcher.stopping = True
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await senders.close()
        worker.stop()
        api.stop()
        await redis.aclose()
        await mongo.close()


def redis_commands(before: dict[str, Any], after: dict[str, Any], accepted: int) -> str:
    """Where the stream's Redis spent its time over the run (`INFO commandstats`, the part of its CPU a
    profiler of our processes cannot see), per accepted heartbeat; a script's time includes the commands
    it calls, which are listed again on their own."""
    spent = {
        name.removeprefix("cmdstat_"): (
            float(stats["usec"]) - float(before.get(name, {}).get("usec", 0)),
            int(stats["calls"]) - int(before.get(name, {}).get("calls", 0)),
        )
        for name, stats in after.items()
    }
    top = sorted(spent.items(), key=lambda item: -item[1][0])[:8]
    per = max(1, accepted)
    return "redis us per accepted heartbeat by command (calls per heartbeat): " + ", ".join(
        f"{name} {usec / per:.1f} ({calls / per:.2f})" for name, (usec, calls) in top if usec > 0
    )


async def refusal_cost(
    senders: Senders, learners: list[dict[str, Any]], args: argparse.Namespace, processes: Any, redis: Redis
) -> dict[str, Any] | None:
    """What one refused heartbeat costs. The stream's Redis stops taking writes (CLIENT PAUSE WRITE), so the
    acceptance call in flight waits; once the api holds its floor of heartbeats waiting (MIN_IN_FLIGHT in
    app/telemetry/batcher.py, 4,000: with nothing accepted, the bound is down to it within two seconds) every
    further one is refused before any store work. The CPU of servers
    and stores over `--refusal-seconds`, divided by the refusals answered in them, is the cost of one. The
    pause ends before redis-py's 5 s socket timeout, so nothing waiting fails inside the window; after it the
    waiting heartbeats are accepted. Needs more learners than the bound.

    The floor, measured first on the same sockets: the api's CPU per `ping` (the hub's cheapest op: a
    frame in, a reply out, no store)."""
    if args.refusal_seconds <= 0:
        return None
    pings, ping_usage, *_ = await drive(
        senders,
        learners,
        args,
        processes,
        lead=0.5,
        warmup=1.0,
        seconds=args.refusal_seconds,
        profile_as="ping-",
        op="ping",
    )
    pongs = pings["pongs_in_window"] / args.refusal_seconds
    lead, warmup = 0.2, 1.0
    pause_ms = int((lead + warmup + args.refusal_seconds + 0.3) * 1000)
    await redis.execute_command("CLIENT", "PAUSE", str(pause_ms), "WRITE")
    results, usage, *_ = await drive(
        senders,
        learners,
        args,
        processes,
        lead=lead,
        warmup=warmup,
        seconds=args.refusal_seconds,
        profile_as="refusal-",
        retry_after=0.0,  # refused ones come straight back: the most refusals the api can be made to answer
    )
    refused = results["refused_in_window"] / args.refusal_seconds
    servers = servers_and_stores(usage)
    return {
        "refused_per_s": refused,
        "accepted_in_window": results["accepted_in_window"],
        "usage": usage,
        "us_per_refusal": servers / refused * 1e6 if refused else float("nan"),
        "api_us_per_refusal": usage.get("api", 0.0) / refused * 1e6 if refused else float("nan"),
        "latencies": results["latencies"],
        "pongs_per_s": pongs,
        "api_us_per_pong": ping_usage.get("api", 0.0) / pongs * 1e6 if pongs else float("nan"),
    }
