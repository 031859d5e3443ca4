"""Folding accepted heartbeats into the stores, exactly once per stream entry.

MongoDB: `course_telemetry` hourly buckets per (user, course, lesson) and the `progress` documents
(`lesson_times`, `total_seconds_spent`, `last_accessed`). Every update carries the ids of the entries
it applies and only matches a document whose `applied` list holds none of them; the ids are pushed in
the same atomic update. PostgreSQL: daily rollups in `telemetry`, guarded by `telemetry_applied`, in
one statement. So an entry delivered again after a crash between writing and acknowledging
changes nothing the second time.

An `applied` list must keep an id for as long as its entry can be delivered again, i.e. while it is
pending in the consumer group, however many newer entries reach the same document meanwhile (a
successor worker folds new entries before the dead one's become idle enough to claim). So the lists
are not cut to a fixed length; after each batch, ids older than the group's oldest pending entry
(acknowledged, deleted, never to come back) are pulled from the documents the batch touched.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from sqlalchemy import delete, select, text, tuple_

from app.progress.store import empty_progress
from app.stores.models import Enrollment, TelemetryApplied
from app.stores.mongo import COURSE_TELEMETRY, PROGRESS, DocumentStore, progress_id, telemetry_bucket_id
from app.stores.sql import Database
from app.telemetry.keys import applied_order
from app.telemetry.stream import Entry
from app.timestamps import from_epoch_ms, hour_of_epoch_ms

log = logging.getLogger(__name__)

# A document prunes its `applied` list once it holds more ids than this.
_PRUNE_AT = 32
# Safety net only, against a list growing without end while some entry stays pending for hours; a
# document receives at most about one entry per second of its learner's wall-clock time.
_APPLIED_CAP = 20_000


def _iso(ms: int) -> str:
    return from_epoch_ms(ms, timespec="milliseconds")


@dataclass
class _Group:
    shape: dict[str, Any]
    increments: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_ms: int = 0
    entry_ids: list[str] = field(default_factory=list)


def _groups(entries: Sequence[Entry]) -> tuple[dict[str, _Group], dict[str, _Group]]:
    buckets: dict[str, _Group] = {}
    progress: dict[str, _Group] = {}
    for entry in entries:
        hour = hour_of_epoch_ms(entry.at_ms)
        bucket_id = telemetry_bucket_id(entry.user_id, entry.course_id, entry.lesson_id, hour)
        bucket = buckets.get(bucket_id)
        if bucket is None:
            bucket = buckets[bucket_id] = _Group(
                {
                    "_id": bucket_id,
                    "user_id": entry.user_id,
                    "course_id": entry.course_id,
                    "lesson_id": entry.lesson_id,
                    "hour": hour,
                    "seconds": 0,
                    "heartbeats": 0,
                    "applied": [],
                }
            )
        bucket.increments["seconds"] += entry.seconds
        bucket.increments["heartbeats"] += 1
        bucket.entry_ids.append(entry.entry_id)
        doc_id = progress_id(entry.user_id, entry.course_id)
        group = progress.get(doc_id)
        if group is None:
            group = progress[doc_id] = _Group(empty_progress(entry.user_id, entry.course_id))
        group.increments[f"lesson_times.{entry.lesson_id}"] += entry.seconds
        group.increments["total_seconds_spent"] += entry.seconds
        group.last_ms = max(group.last_ms, entry.at_ms)
        group.entry_ids.append(entry.entry_id)
    return buckets, progress


def _update(group: _Group, entry_ids: list[str], increments: dict[str, int]) -> UpdateOne:
    change: dict[str, Any] = {
        "$inc": increments,
        "$push": {"applied": {"$each": entry_ids, "$slice": -_APPLIED_CAP}},
    }
    if group.last_ms:
        change["$set"] = {"last_accessed": _iso(group.last_ms)}
    return UpdateOne({"_id": group.shape["_id"], "applied": {"$nin": entry_ids}}, change)


async def _write_collection(
    documents: DocumentStore,
    collection: str,
    groups: dict[str, _Group],
    entries: dict[str, Entry],
    *,
    redelivered: bool,
) -> None:
    if not groups:
        return
    coll = documents.db[collection]
    await coll.bulk_write(
        [
            UpdateOne({"_id": doc_id}, {"$setOnInsert": group.shape}, upsert=True)
            for doc_id, group in groups.items()
        ],
        ordered=False,
    )
    if not redelivered:
        ops = [_update(group, group.entry_ids, dict(group.increments)) for group in groups.values()]
        result = await coll.bulk_write(ops, ordered=False)
        if result.matched_count == len(ops):
            return
        log.warning(
            "fresh telemetry entries were already applied; applying one by one",
            extra={"collection": collection},
        )
    # One entry at a time: an entry already in a document's `applied` list matches nothing.
    ops = []
    for group in groups.values():
        for entry_id in group.entry_ids:
            entry = entries[entry_id]
            if collection == COURSE_TELEMETRY:
                increments = {"seconds": entry.seconds, "heartbeats": 1}
            else:
                increments = {
                    f"lesson_times.{entry.lesson_id}": entry.seconds,
                    "total_seconds_spent": entry.seconds,
                }
            single = _Group(group.shape, last_ms=entry.at_ms if collection == PROGRESS else 0)
            ops.append(_update(single, [entry_id], increments))
    await coll.bulk_write(ops, ordered=True)


async def _prune_applied(
    documents: DocumentStore, collection: str, doc_ids: list[str], settled_before: str
) -> None:
    """Pull ids of entries older than `settled_before` (the oldest pending entry of a partition) from
    `applied`; ids of other partitions are compared with their own partition's, never with this one."""
    limit = applied_order(settled_before)
    if not doc_ids or limit is None:
        return
    coll = documents.db[collection]
    ops = []
    async for doc in coll.find({"_id": {"$in": doc_ids}}, {"applied": 1}):
        applied = doc.get("applied") or []
        if len(applied) <= _PRUNE_AT:
            continue
        settled = []
        for entry_id in applied:
            order = applied_order(entry_id) if isinstance(entry_id, str) else None
            if order is not None and order[0] == limit[0] and order < limit:
                settled.append(entry_id)
        if settled:
            ops.append(UpdateOne({"_id": doc["_id"]}, {"$pull": {"applied": {"$in": settled}}}))
    if ops:
        await coll.bulk_write(ops, ordered=False)


async def enrolled_entries(db: Database, entries: Sequence[Entry]) -> list[Entry]:
    """Drop heartbeats of people who left the course (or of deleted courses) since they were accepted,
    and those accepted under an earlier enrollment of a learner who enrolled again: a new enrollment
    starts from zero, and its progress document's `applied` list no longer knows the old entries, so an
    old entry delivered again (a worker died after writing it, before acknowledging) would count twice.
    An entry naming another enrollment is still kept if it was accepted after the current one began
    (an api whose enrollment cache had not caught up with the re-enrollment yet)."""
    pairs = {(entry.user_id, entry.course_id) for entry in entries}
    if not pairs:
        return []
    async with db.read() as tx:
        query = select(Enrollment.user_id, Enrollment.course_id, Enrollment.id, Enrollment.enrolled_at).where(
            tuple_(Enrollment.user_id, Enrollment.course_id).in_(list(pairs))
        )
        live = {
            (int(user), int(course)): (int(enrollment_id), int(enrolled_at.timestamp() * 1000))
            for user, course, enrollment_id, enrolled_at in (await tx.execute(query)).all()
        }
    kept = []
    for entry in entries:
        current = live.get((entry.user_id, entry.course_id))
        if current is None:
            continue
        enrollment_id, since_ms = current
        earlier = entry.enrollment_id is not None and entry.enrollment_id != enrollment_id
        if earlier and entry.at_ms < since_ms:
            continue
        kept.append(entry)
    return kept


async def fold_into_documents(
    documents: DocumentStore,
    entries: Sequence[Entry],
    *,
    redelivered: bool,
    settled_before: str | None = None,
) -> None:
    """`settled_before`: the group's oldest pending entry id, read while these entries are pending;
    ids older than it are pruned from the touched documents' `applied` lists (None: no pruning)."""
    by_id = {entry.entry_id: entry for entry in entries}
    buckets, progress = _groups(entries)
    await _write_collection(documents, COURSE_TELEMETRY, buckets, by_id, redelivered=redelivered)
    await _write_collection(documents, PROGRESS, progress, by_id, redelivered=redelivered)
    if settled_before is not None:
        await _prune_applied(documents, COURSE_TELEMETRY, list(buckets), settled_before)
        await _prune_applied(documents, PROGRESS, list(progress), settled_before)


# One statement per batch, whatever its size: arrays instead of one bind parameter per value, and a
# text that never changes (compiled once). Entry ids new to `telemetry_applied` are the ones added.
_ROLLUP = text(
    """
WITH batch AS (
  SELECT * FROM unnest(
    CAST(:ids AS text[]), CAST(:users AS int[]), CAST(:courses AS int[]), CAST(:lessons AS text[]),
    CAST(:days AS date[]), CAST(:seconds AS int[])
  ) AS b(entry_id, user_id, course_id, lesson_id, day, seconds)
), fresh AS (
  INSERT INTO telemetry_applied (entry_id) SELECT entry_id FROM batch
  ON CONFLICT DO NOTHING RETURNING entry_id
)
INSERT INTO telemetry (user_id, course_id, lesson_id, day, seconds, heartbeats)
SELECT b.user_id, b.course_id, b.lesson_id, b.day, sum(b.seconds), count(*)
FROM batch b JOIN fresh f ON f.entry_id = b.entry_id
GROUP BY b.user_id, b.course_id, b.lesson_id, b.day
-- One order for every worker: concurrent upserts of overlapping rows wait instead of deadlocking.
ORDER BY b.user_id, b.course_id, b.lesson_id, b.day
ON CONFLICT (user_id, course_id, lesson_id, day) DO UPDATE SET
  seconds = telemetry.seconds + EXCLUDED.seconds,
  heartbeats = telemetry.heartbeats + EXCLUDED.heartbeats,
  updated_at = now()
"""
)


async def fold_into_rollups(db: Database, entries: Sequence[Entry]) -> None:
    unique = sorted({entry.entry_id: entry for entry in entries}.values(), key=lambda entry: entry.entry_id)
    if not unique:
        return
    async with db.transaction() as tx:
        await tx.execute(
            _ROLLUP,
            {
                "ids": [entry.entry_id for entry in unique],
                "users": [entry.user_id for entry in unique],
                "courses": [entry.course_id for entry in unique],
                "lessons": [entry.lesson_id for entry in unique],
                "days": [datetime.fromtimestamp(entry.at_ms / 1000, UTC).date() for entry in unique],
                "seconds": [entry.seconds for entry in unique],
            },
        )


async def forget_applied_before(db: Database, cutoff: datetime) -> None:
    """Entries older than the redelivery window can never come back; their guard rows can go."""
    async with db.transaction() as tx:
        await tx.execute(delete(TelemetryApplied).where(TelemetryApplied.created_at < cutoff))
