"""The telemetry consumer: reads the stream in batches, folds them into the stores, then acknowledges.

Exactly-once effect: the folds are idempotent per stream entry (app/telemetry/fold.py), so entries
redelivered after a crash between writing and acknowledging are not counted twice. Entries left
pending by a consumer that died are claimed after `telemetry_claim_idle_seconds`; a batch that failed
in a live consumer is retried by that consumer straight away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.runtime import Runtime
from app.telemetry.fold import (
    FoldMemory,
    enrolled_entries,
    fold_into_documents,
    fold_into_rollups,
    forget_applied_before,
)
from app.telemetry.keys import stream_order
from app.telemetry.stream import Entry, StreamConsumer
from workers.metrics import BATCH_SIZE, CLAIMED, FOLDED, LAG, PENDING, STREAM_LENGTH
from workers.stopping import stop_if_requested

log = logging.getLogger("learnflow.worker.telemetry")

# Test hook: die as a crash would, holding a window of entries read but not written yet ("in-window"),
# between the document writes and the SQL rollup ("between-writes"), or between the writes and the
# acknowledgement ("after-write").
FAILPOINT = "LEARNFLOW_FAILPOINT"
_STATS_SECONDS = 5.0
_WINDOW_POLL_SECONDS = 0.5


class StaleFlush(Exception):
    """A flush that took too long before its document writes: it is abandoned and read again."""


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class TelemetryWorker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        consumer: str | None = None,
        on_folded: Callable[[set[int]], None] | None = None,
        partition: int = 0,
    ) -> None:
        self.runtime = runtime
        self.claim_idle_ms = int(runtime.settings.telemetry_claim_idle_seconds * 1000)
        self.consumer = StreamConsumer(
            runtime.redis,  # type: ignore[arg-type]
            consumer or consumer_name(),
            partition,
            # Renewed before every read and claim and at the start of every flush; a flush that reaches
            # its document writes more than half of it later gives its entries up instead (process).
            floor_ttl_ms=10 * self.claim_idle_ms,
        )
        self.on_folded = on_folded
        self.batch_size = runtime.settings.telemetry_batch_size
        # Coalescing: after the first new entries, keep reading for the fold window before folding them
        # all in one flush. At most a quarter of the claim idle time, so held entries are not claimed from
        # a live worker while it gathers them (a slow flush can still be overtaken: the floors keep that
        # safe); nothing is acknowledged before the flush that contains it, so a worker killed mid-window
        # leaves its entries pending.
        self.window_seconds = min(runtime.settings.telemetry_fold_window_seconds, self.claim_idle_ms / 4000)
        self.memory = FoldMemory()
        self.folded = 0  # heartbeats this consumer acknowledged (folded or dropped), for logs and tests
        self.claimed = 0

    async def run(self) -> None:
        await self.consumer.ensure_group()
        log.info(
            "telemetry worker started",
            extra={"consumer": self.consumer.consumer, "partition": self.consumer.partition},
        )
        try:
            await self._loop()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.consumer.release())
            log.info(
                "telemetry worker stopped",
                extra={"consumer": self.consumer.consumer, "folded": self.folded, "claimed": self.claimed},
            )

    async def _loop(self) -> None:
        last_claim = last_stats = 0.0
        delay = 0.1
        # After a failed batch (a store error, a deadlock), its entries are pending on this consumer:
        # retry them first, rather than leaving them until they are idle long enough to be claimed.
        retry_own = True
        while True:
            stop_if_requested()
            try:
                # Declared before any entry is in hand, so no consumer prunes what this one is about
                # to read or claim (app/telemetry/stream.py, settled_before).
                await self.consumer.hold_from()
                if retry_own:
                    ids, entries = await self.consumer.read_own_pending(self.batch_size)
                    if ids:
                        await self.process(ids, entries, redelivered=True)
                        delay = 0.1
                        continue
                    retry_own = False
                now = time.monotonic()
                if now - last_claim > self.claim_idle_ms / 2000:
                    last_claim = now
                    ids, entries = await self.consumer.claim_stale(self.claim_idle_ms, self.batch_size)
                    if ids:
                        CLAIMED.inc(len(entries))
                        self.claimed += len(entries)
                        log.info(
                            "claimed entries of a stopped consumer",
                            extra={
                                "consumer": self.consumer.consumer,
                                "entries": len(ids),
                                "heartbeats": len(entries),
                            },
                        )
                        await self.process(ids, entries, redelivered=True)
                        continue
                if now - last_stats > _STATS_SECONDS:
                    last_stats = now
                    await self.report_stats()
                ids, entries = await self.consumer.read_new(self.read_size, block_ms=1000)
                if ids:
                    await self._fill_window(ids, entries)
                    if os.environ.get(FAILPOINT) == "in-window":
                        os._exit(137)
                    await self.process(ids, entries, redelivered=False)
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep consuming; unacknowledged entries come back
                stop_if_requested(exc)  # a client may have turned our stop into its own error
                if "NOGROUP" in str(exc):
                    # The stream or the group is gone (Redis restarted empty, flushed): make them again.
                    log.warning("telemetry consumer group missing; creating it again")
                    with contextlib.suppress(Exception):
                        await self.consumer.ensure_group()
                else:
                    log.exception("telemetry batch failed; retrying", extra={"delay": delay})
                retry_own = True
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    @property
    def read_size(self) -> int:
        """Entries per read into an empty flush: at most `batch_size` heartbeats."""
        return self.consumer.entries_per_read(self.batch_size)

    async def _fill_window(self, ids: list[str], entries: list[Entry]) -> None:
        """Gather entries until the window closes or the flush is full, reading what has arrived once
        per poll rather than each entry as it comes (one read per heartbeat costs Redis and this worker
        more than the fold does); while reads come back full (a backlog), read again at once."""
        deadline = time.monotonic() + self.window_seconds
        backlog = len(ids) >= self.read_size
        while len(entries) < self.batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if not backlog:
                await asyncio.sleep(min(left, _WINDOW_POLL_SECONDS))
            asked = self.consumer.entries_per_read(self.batch_size - len(entries))
            more_ids, more = await self.consumer.read_new(asked, block_ms=None)
            ids += more_ids
            entries += more
            backlog = len(more_ids) >= asked

    async def process(self, ids: list[str], entries: list[Entry], *, redelivered: bool) -> None:
        await self.consumer.hold_from(min(ids, key=stream_order))
        held_at = time.monotonic()
        kept = await enrolled_entries(self.runtime.db, entries)
        # Read while this batch is held, so it is never above any entry of the batch.
        settled_before = await self.consumer.settled_before()
        if time.monotonic() - held_at > self.consumer.floor_ttl_ms / 2000:
            # Our declaration may have lapsed and these entries been pruned from the documents after
            # another worker took them over and folded them: writing them now could count them twice.
            # Left pending (or gone, if folded by the other), they are read again.
            raise StaleFlush(f"{len(ids)} entries held too long to write safely")
        await fold_into_documents(
            self.runtime.documents,
            kept,
            redelivered=redelivered,
            settled_before=settled_before,
            memory=self.memory,
        )
        if os.environ.get(FAILPOINT) == "between-writes":
            os._exit(137)
        await fold_into_rollups(self.runtime.db, kept)
        if os.environ.get(FAILPOINT) == "after-write":
            os._exit(137)
        await self.consumer.ack(ids, entries)
        self.folded += len(entries)
        BATCH_SIZE.observe(len(entries))
        FOLDED.inc(len(kept))
        if self.on_folded is not None and kept:
            self.on_folded({entry.course_id for entry in kept})

    async def report_stats(self) -> None:
        length, pending, lag = await self.consumer.stats()
        partition = str(self.consumer.partition)
        STREAM_LENGTH.labels(partition).set(length)
        PENDING.labels(partition).set(pending)
        LAG.labels(partition).set(lag)
        log.info(
            "telemetry stream",
            extra={
                "consumer": self.consumer.consumer,
                "folded": self.folded,
                "length": length,
                "pending": pending,
                "lag": lag,
            },
        )
        if self.consumer.partition == 0:  # one table for every partition: one consumer per process prunes it
            await forget_applied_before(self.runtime.db, datetime.now(UTC) - timedelta(days=1))
