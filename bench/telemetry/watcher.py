"""Reads `course_telemetry` during a run of ours: when probe heartbeats become visible (the lag) and how
many heartbeats were folded when (the folded rate)."""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from typing import Any

from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from app.config import Settings
from app.timestamps import hour_of_epoch_ms
from bench._harness import MONGO_DATABASE

# The api and worker the bench starts inherit this environment, so they use its TELEMETRY_PARTITIONS.
PARTITIONS = int(
    os.environ.get("TELEMETRY_PARTITIONS", Settings.model_fields["telemetry_partitions"].default)
)


class Watcher:
    """Reads `course_telemetry`: the probe learners' buckets every `--poll` seconds (for the lag), and the
    heartbeats folded in the bench's courses at the instants the folded rate is taken between.

    Its reads land on the document store the pipeline writes to, and that store's CPU is counted as ours:
    they are kept few. Summing the folded heartbeats reads every bucket of the bench (nx-27017 parses each
    document in Python), so it runs at the two ends of the measured window and once after each flush
    inside it (a few times a minute), not every second; and the probes are polled every half second, not
    every 50 ms (docs/performance/telemetry-ingest.md, "The bench's own reads")."""

    def __init__(self, mongo: AsyncMongoClient[Any], learners: list[dict[str, Any]], poll: float) -> None:
        self.coll = mongo[MONGO_DATABASE]["course_telemetry"]
        self.poll = poll
        self.course_ids = sorted({row["course_id"] for row in learners})
        self.probes = {row["user_id"]: row for row in learners if row["probe"] is not None}
        self.transitions: dict[int, list[tuple[float, int]]] = {
            row["probe"]: [] for row in self.probes.values()
        }
        self.folded: list[tuple[float, int]] = []
        self.steps: list[tuple[float, int]] = []  # (just after a flush was acknowledged, folded then)
        self.stopping = False

    async def folded_now(self) -> tuple[int, int]:
        """(heartbeats, seconds) folded into course_telemetry for the bench's courses."""
        rows = await (
            await self.coll.aggregate(
                [
                    {"$match": {"course_id": {"$in": self.course_ids}}},
                    {"$group": {"_id": None, "h": {"$sum": "$heartbeats"}, "s": {"$sum": "$seconds"}}},
                ]
            )
        ).to_list()
        return (int(rows[0]["h"]), int(rows[0]["s"])) if rows else (0, 0)

    async def watch_probes(self) -> None:
        from app.stores.mongo import telemetry_bucket_id

        last: dict[int, int] = {}
        while not self.stopping:
            now = time.time()
            hours = {hour_of_epoch_ms((now - 120) * 1000), hour_of_epoch_ms(now * 1000)}
            ids = [
                telemetry_bucket_id(uid, row["course_id"], row["lesson_id"], hour)
                for uid, row in self.probes.items()
                for hour in hours
            ]
            counts: dict[int, int] = defaultdict(int)
            async for doc in self.coll.find({"_id": {"$in": ids}}, {"user_id": 1, "heartbeats": 1}):
                counts[int(doc["user_id"])] += int(doc["heartbeats"])
            seen = time.time()
            for uid, count in counts.items():
                probe = self.probes[uid]["probe"]
                if count != last.get(probe, 0):
                    last[probe] = count
                    self.transitions[probe].append((seen, count))
            await asyncio.sleep(max(0.0, self.poll - (time.time() - now)))

    async def sample_folded(self, instants: list[float]) -> None:
        """Sums the folded heartbeats at each of `instants` (epoch seconds), timed from when it starts."""
        for at in instants:
            await asyncio.sleep(max(0.0, at - time.time()))
            if self.stopping:
                return
            started = time.time()
            heartbeats, _ = await self.folded_now()
            self.folded.append((started, heartbeats))

    async def watch_flushes(self, redis: Redis, m0: float, m1: float) -> None:
        """The folded sum right after each flush acknowledged inside [m0, m1]: the fold lands in steps, one
        per flush (several seconds of traffic each), so a rate between the window's two ends moves by up
        to a step; between the first and the last step inside the window it spans whole flushes. A flush's
        acknowledgement shows as a drop of the stream's backlog counter, polled every 0.2 s (one GET)."""
        from app.telemetry import keys

        names = [keys.backlog(partition) for partition in range(PARTITIONS)]
        await asyncio.sleep(max(0.0, m0 - 1 - time.time()))
        last = None
        while not self.stopping and time.time() < m1:
            backlog = sum(int(value or 0) for value in await redis.mget(names))
            now = time.time()
            if last is not None and backlog < last and now >= m0:
                heartbeats, _ = await self.folded_now()
                self.steps.append((now, heartbeats))
            last = backlog
            await asyncio.sleep(0.2)

    def _spans_flushes(self) -> bool:
        return len(self.steps) >= 2 and self.steps[-1][0] > self.steps[0][0]

    def folded_how(self) -> str:
        if self._spans_flushes():
            return (
                f"folded measured across {len(self.steps) - 1} whole flushes "
                f"({self.steps[-1][0] - self.steps[0][0]:.1f} s between the first and last inside the window)"
            )
        return "folded measured between the window's ends"

    def folded_rate(self, m0: float, m1: float) -> float:
        """Heartbeats folded per second: between the first and last flush steps inside [m0, m1] when there
        are two, else between the window's ends."""
        if self._spans_flushes():
            (t0, h0), (t1, h1) = self.steps[0], self.steps[-1]
            return (h1 - h0) / (t1 - t0)
        return (self.folded_at(m1) - self.folded_at(m0)) / (m1 - m0)

    def folded_at(self, at: float) -> float:
        """Heartbeats folded at time `at` (linear between samples)."""
        before = [(t, h) for t, h in self.folded if t <= at]
        after = [(t, h) for t, h in self.folded if t >= at]
        if not before:
            return float(after[0][1]) if after else 0.0
        if not after:
            return float(before[-1][1])
        (t0, h0), (t1, h1) = before[-1], after[0]
        return h0 if t1 == t0 else h0 + (h1 - h0) * (at - t0) / (t1 - t0)

    def lags(self, replies: dict[int, list[float]], m0: float, m1: float) -> tuple[list[float], int]:
        """accept -> visible, for every credited probe heartbeat accepted inside [m0, m1]; and how many
        of those never became visible."""
        lags: list[float] = []
        missing = 0
        for probe, times in replies.items():
            steps = self.transitions.get(probe, [])
            for k, accepted_at in enumerate(times, start=1):
                if not m0 <= accepted_at <= m1:
                    continue
                visible = next((t for t, count in steps if count >= k), None)
                if visible is None:
                    missing += 1
                else:
                    lags.append(visible - accepted_at)
        return sorted(lags), missing
