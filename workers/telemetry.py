"""The telemetry consumer: reads the stream in batches, folds them into the stores, then acknowledges.

One worker folds a partition at a time, its owner (a lease in Redis, renewed with every read); the
others stand by and take the partition over once the lease lapses, `telemetry_claim_idle_seconds` after
the owner last read (it died, or stalled that long), or at once when it stops. A new owner first folds
every entry still pending in the partition, in stream order, then reads new ones: each document then
receives a partition's entries in stream order, which lets the folds keep one number per document and
partition instead of a list of entry ids (app/telemetry/fold.py).

Exactly-once effect: the folds are idempotent per stream entry, so entries redelivered after a crash
between writing and acknowledging, or written both by an owner that stalled past its lease and by its
successor, are not counted twice. A batch that failed is retried by its owner straight away.
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
from app.telemetry.keys import stream_id_of
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
# An owner with nothing new to read looks again this often (its reads cannot block: see read_new).
_IDLE_POLL_SECONDS = 0.2


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
            lease_ms=self.claim_idle_ms,
        )
        # A standby asks for the partition this often.
        self.standby_poll_seconds = min(1.0, self.claim_idle_ms / 3000)
        self.on_folded = on_folded
        self.batch_size = runtime.settings.telemetry_batch_size
        # Coalescing: after the first new entries, keep reading for the fold window before folding them
        # all in one flush. At most a quarter of the lease, which the window's reads renew and each flush
        # renews again before its writes (a flush that outlasts the lease is overtaken by a successor:
        # safe, app/telemetry/fold.py); nothing is acknowledged before the flush that contains it, so a
        # worker killed mid-window leaves its entries pending.
        self.window_seconds = min(runtime.settings.telemetry_fold_window_seconds, self.claim_idle_ms / 4000)
        self.memory = FoldMemory()
        self.folded = 0  # heartbeats this consumer acknowledged (folded or dropped), for logs and tests
        self.claimed = 0  # heartbeats it found pending on other consumers when it took the partition over
        self.owner = False

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
                await asyncio.shield(self.consumer.resign())
            log.info(
                "telemetry worker stopped",
                extra={"consumer": self.consumer.consumer, "folded": self.folded, "claimed": self.claimed},
            )

    async def _loop(self) -> None:
        last_stats = 0.0
        delay = 0.1
        # After a failed batch (a store error, a deadlock), its entries are pending on this consumer:
        # retry them first, before anything newer.
        retry_own = True
        # True once this owner has folded what was pending when it took the partition over.
        caught_up = False
        while True:
            stop_if_requested()
            try:
                now = time.monotonic()
                if now - last_stats > _STATS_SECONDS:
                    last_stats = now
                    await self.report_stats()
                if not self.owner:
                    if not await self.consumer.acquire():
                        await self.consumer.read_own_pending(1)  # keeps this consumer listed as active
                        await asyncio.sleep(self.standby_poll_seconds)
                        continue
                    self.owner, caught_up = True, False
                    log.info("telemetry partition taken over", extra=self._names())
                if not caught_up:
                    await self._take_over()
                    caught_up = retry_own = True
                if retry_own:
                    ids, entries = await self.consumer.read_own_pending(self.batch_size)
                    if ids:
                        await self.process(ids, entries, redelivered=True)
                        delay = 0.1
                        continue
                    retry_own = False
                read = await self.consumer.read_new(self.read_size)
                if read is None:  # the lease lapsed (this worker stalled): ask for the partition again
                    self.owner = False
                    continue
                ids, entries = read
                if not ids:
                    await asyncio.sleep(_IDLE_POLL_SECONDS)
                    continue
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

    def _names(self) -> dict[str, object]:
        return {"consumer": self.consumer.consumer, "partition": self.consumer.partition}

    async def _take_over(self) -> None:
        """Fold every entry pending in the partition (left by an owner that died, stalled or stopped), a
        flush at a time, oldest first, before reading any new one."""
        mine = await self.consumer.own_pending_ids()
        while True:
            ids, entries = await self.consumer.claim(self.batch_size)
            if not ids:
                return
            others = [entry for entry in entries if stream_id_of(entry.entry_id) not in mine]
            if others:
                CLAIMED.inc(len(others))
                self.claimed += len(others)
                log.info(
                    "claimed entries of another consumer",
                    extra={**self._names(), "entries": len(ids), "heartbeats": len(others)},
                )
            await self.process(ids, entries, redelivered=True)

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
            read = await self.consumer.read_new(asked)
            if read is None:
                return  # no longer the owner: fold what was read while it was (safe: app/telemetry/fold.py)
            more_ids, more = read
            ids += more_ids
            entries += more
            backlog = len(more_ids) >= asked

    async def process(self, ids: list[str], entries: list[Entry], *, redelivered: bool) -> None:
        if self.owner and not await self.consumer.renew():
            # Lost while gathering: these entries were read while it owned the partition, so writing them
            # is still safe; after this flush it asks for the partition again.
            self.owner = False
        kept = await enrolled_entries(self.runtime.db, entries)
        await fold_into_documents(self.runtime.documents, kept, redelivered=redelivered, memory=self.memory)
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
        if self.consumer.partition == 0 and self.owner:  # one table for every partition: one owner prunes it
            await forget_applied_before(self.runtime.db, datetime.now(UTC) - timedelta(days=1))
