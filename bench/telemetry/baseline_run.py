"""The baseline's run: the same learners send the same heartbeats over REST to baseline_app.py, one
document update each."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from pymongo import AsyncMongoClient

from bench._harness import MONGO_DATABASE, Stack, start_uvicorn
from bench.telemetry.cpu import store_processes
from bench.telemetry.phases import drive, summary
from bench.telemetry.senders import Senders

BASELINE_COLLECTION = "baseline_telemetry"  # bench.telemetry.baseline_app.COLLECTION


async def baseline(made: Stack, learners: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    server = start_uvicorn(
        made,
        "baseline",
        "bench.telemetry.baseline_app:app",
        "--backlog",
        "8192",
        # The learners hold their keep-alive connection between heartbeats, as ours hold their sockets;
        # uvicorn's default (5 s) would close it under any interval longer than that.
        "--timeout-keep-alive",
        str(int(args.interval * 2) + 5),
        MONGO_URL=made.urls.mongo_url,
        MONGO_DATABASE=MONGO_DATABASE,
        JWT_SECRET=made.jwt_secret,
        BASELINE_DRIVER=args.baseline,
    )
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(made.urls.mongo_url)
    senders = Senders(args.processes)
    try:
        print(f"baseline ({args.baseline} PyMongo): pid {server.pid}, port {server.port}", flush=True)
        connected = await senders.connect(kind="http", host="127.0.0.1", port=server.port, learners=learners)
        print(f"  {connected['connected']:,} learners connected in {connected['seconds']:.1f} s", flush=True)

        def processes() -> dict[str, list[int]]:
            return {**store_processes(made), "baseline": [server.pid], "loadgens": senders.pids}

        results, usage, start, m0, m1 = await drive(senders, learners, args, processes)
        print("  " + summary(results), flush=True)
        course_ids = sorted({row["course_id"] for row in learners})
        rows = await (
            await mongo[MONGO_DATABASE][BASELINE_COLLECTION].aggregate(
                [
                    {"$match": {"course_id": {"$in": course_ids}}},
                    {"$group": {"_id": None, "h": {"$sum": "$heartbeats"}, "s": {"$sum": "$seconds"}}},
                ]
            )
        ).to_list()
        stored = (int(rows[0]["s"]), int(rows[0]["h"])) if rows else (0, 0)
        return {
            "name": f"baseline (REST, 1 {args.baseline} update_one per heartbeat)",
            "learners": connected["connected"],
            "results": results,
            "usage": usage,
            "accepted_per_s": results["accepted_in_window"] / args.seconds,
            "folded_per_s": results["accepted_in_window"] / args.seconds,  # written before the reply
            "lags": [],
            "lag_missing": 0,
            "catch_up": 0.0,
            "totals": {
                "credited (sum of replies)": (results["credited_seconds"], results["credited_count"]),
                "baseline_telemetry buckets": stored,
            },
        }
    finally:
        with contextlib.suppress(Exception):
            await senders.close()
        server.stop()
        await mongo.close()
