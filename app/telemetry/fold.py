"""Folding accepted heartbeats into the stores, exactly once per stream entry.

MongoDB: `course_telemetry` hourly buckets per (user, course, lesson) and the `progress` documents
(`lesson_times`, `total_seconds_spent`, `last_accessed`). PostgreSQL: daily rollups in `telemetry`,
guarded by `telemetry_applied` (one row per stream entry), in one statement. So an entry delivered again
after a crash between writing and acknowledging changes nothing the second time.

The documents' guard is a *fold mark* per stream partition: the field `folded_p<k>` holds the order
(keys.entry_order) of the newest entry of partition k folded into the document, and an update applies a
flush's entries only where the mark is below the oldest of them, setting it to the newest in the same
atomic update. That is exact because a document receives each partition's entries in stream order: a
partition has one owner at a time, which reads in order and, on taking the partition over, folds every
entry still pending before any new one (workers/telemetry.py), and its learners' documents get entries
of that partition only. An owner that stalled past its lease may still write what it read while it
owned the partition, alongside its successor, who claimed those same entries: whichever writes a
document first applies them, the other's update matches nothing (its entries are not above the mark)
and goes one entry at a time, applying only those above it.

Document operations per flush: a document this worker knows to exist gets one guarded update; any other
is inserted whole (shape, increments and mark in one write), and only where the insert finds it exists
already is it updated: two operations per document at most, and no read. Only when an update matches
nothing (a document deleted meanwhile, entries folded already: a redelivery, or a document without a
mark) does the flush go one stream entry at a time for those documents.

Documents folded by older versions carry an `applied` list of heartbeat ids instead of a mark: until its
first mark is set, a document's guard is that list (`none_applied`); the list is then left as it is.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from sqlalchemy import and_, delete, select, text

from app.courses.store import USER_COURSE_PAIRS
from app.progress.store import empty_progress
from app.stores.models import Enrollment, TelemetryApplied
from app.stores.mongo import (
    COURSE_TELEMETRY,
    PROGRESS,
    DocumentStore,
    all_written,
    bulk_write,
    insert_missing,
    telemetry_bucket_id,
)
from app.stores.sql import Database
from app.telemetry.keys import entry_applied_id, entry_order, fold_mark
from app.telemetry.stream import Entry
from app.timestamps import epoch_ms_to_iso_ms, hour_of_epoch_ms, now_iso_z

log = logging.getLogger(__name__)


@dataclass
class _Group:
    shape: dict[str, Any]
    increments: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_ms: int = 0
    entries: list[Entry] = field(default_factory=list)


def _count(collection: str, increments: dict[str, int], entry: Entry) -> None:
    """Add one heartbeat to a document's increments."""
    if collection == COURSE_TELEMETRY:
        increments["seconds"] += entry.seconds
        increments["heartbeats"] += 1
    else:
        increments[f"lesson_times.{entry.lesson_id}"] += entry.seconds
        increments["total_seconds_spent"] += entry.seconds


def _groups(entries: Sequence[Entry]) -> tuple[dict[str, _Group], dict[str, _Group]]:
    # Keyed by tuples while gathering, so each document's id and shape are made once per flush, not once
    # per heartbeat (a flush holds several heartbeats of most documents).
    buckets: dict[tuple[int, int, str, int], _Group] = {}
    progress: dict[tuple[int, int], _Group] = {}
    created_at = now_iso_z()
    for entry in entries:
        user_id, course_id, lesson_id = entry.user_id, entry.course_id, entry.lesson_id
        bucket_key = (user_id, course_id, lesson_id, entry.at_ms // 3_600_000)
        bucket = buckets.get(bucket_key)
        if bucket is None:
            hour = hour_of_epoch_ms(entry.at_ms)
            bucket = buckets[bucket_key] = _Group(
                {
                    "_id": telemetry_bucket_id(user_id, course_id, lesson_id, hour),
                    "user_id": user_id,
                    "course_id": course_id,
                    "lesson_id": lesson_id,
                    "hour": hour,
                    "seconds": 0,
                    "heartbeats": 0,
                    "applied": [],
                }
            )
        _count(COURSE_TELEMETRY, bucket.increments, entry)
        bucket.entries.append(entry)
        group = progress.get((user_id, course_id))
        if group is None:
            group = progress[(user_id, course_id)] = _Group(empty_progress(user_id, course_id, created_at))
        _count(PROGRESS, group.increments, entry)
        if entry.at_ms > group.last_ms:
            group.last_ms = entry.at_ms
        group.entries.append(entry)
    return (
        {group.shape["_id"]: group for group in buckets.values()},
        {group.shape["_id"]: group for group in progress.values()},
    )


class _Orders:
    """(partition, order) of each stream entry of a flush, worked out once per entry."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, int]] = {}

    def __call__(self, entry: Entry) -> tuple[int, int]:
        entry_id = entry_applied_id(entry.entry_id)
        known = self._known.get(entry_id)
        if known is None:
            known = self._known[entry_id] = entry_order(entry_id)
        return known


def _marked(group: _Group, orders: _Orders) -> tuple[str, int, int]:
    """The group's fold mark field and the orders of its oldest and newest entries. A flush holds one
    partition's entries (one owner each)."""
    partition, low = orders(group.entries[0])
    high = low
    for entry in group.entries:
        other, order = orders(entry)
        if other != partition:
            raise ValueError("a flush holds the entries of one stream partition")
        low, high = min(low, order), max(high, order)
    return fold_mark(partition), low, high


def _change(increments: dict[str, int], last_ms: int, mark: str, order: int) -> dict[str, Any]:
    """Apply the increments and move the mark (and `last_accessed`) forward."""
    fields: dict[str, Any] = {mark: order}
    if last_ms:
        fields["last_accessed"] = epoch_ms_to_iso_ms(last_ms)
    return {"$inc": increments, "$set": fields}


# Up to this many ids, a guard is written as `$nor` of equalities (see none_applied).
_GUARD_CLAUSES = 12


def none_applied(entry_ids: list[str]) -> dict[str, Any]:
    """The guard of a document folded by an older version, not yet marked: its `applied` list holds none
    of these ids. On MongoDB `$nor` of equalities and `$nin` mean the same; on nx-27017 `$nor` becomes
    one SQL condition whose cost grows with each id, while `$nin` on an array makes it load and filter the
    document in Python at a fixed cost (README, embedded-mode notes). Every document the fold or the app
    creates has an `applied` list (empty): on nx-27017 `$nor` matches no document without the field."""
    if len(entry_ids) <= _GUARD_CLAUSES:
        return {"$nor": [{"applied": entry_id} for entry_id in entry_ids]}
    return {"applied": {"$nin": entry_ids}}


class FoldMemory:
    """Which documents a worker knows to exist, kept between flushes: those are updated, not inserted
    first. Forgetting is always safe: a forgotten document costs one failed insert."""

    _LIMIT = 200_000

    def __init__(self) -> None:
        self.existing: set[tuple[str, str]] = set()

    def note_existing(self, collection: str, doc_ids: Sequence[str]) -> None:
        if len(self.existing) > self._LIMIT:
            self.existing.clear()
        self.existing.update((collection, doc_id) for doc_id in doc_ids)

    def forget(self, collection: str, doc_ids: Sequence[str]) -> None:
        for doc_id in doc_ids:
            self.existing.discard((collection, doc_id))


def _whole(collection: str, group: _Group, mark: str, high: int) -> dict[str, Any]:
    """The document as its first write: its shape with the group's increments applied and marked."""
    document = dict(group.shape)
    if collection == COURSE_TELEMETRY:
        document["seconds"] = group.increments["seconds"]
        document["heartbeats"] = group.increments["heartbeats"]
    else:
        document["lesson_times"] = {
            path.removeprefix("lesson_times."): seconds
            for path, seconds in group.increments.items()
            if path.startswith("lesson_times.")
        }
        document["total_seconds_spent"] = group.increments["total_seconds_spent"]
        document["last_accessed"] = epoch_ms_to_iso_ms(group.last_ms)
    document[mark] = high
    return document


def _increments(collection: str, entries: Sequence[Entry]) -> dict[str, int]:
    increments: dict[str, int] = defaultdict(int)
    for entry in entries:
        _count(collection, increments, entry)
    return dict(increments)


def _one_entry_at_a_time(collection: str, group: _Group, orders: _Orders) -> list[UpdateOne]:
    """Updates applying the group's stream entries in order, each only if the document has not taken it:
    above its mark, or (no mark yet) absent from its `applied` list, which marks it."""
    by_entry: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for entry in group.entries:
        by_entry[orders(entry)].append(entry)
    doc_id = group.shape["_id"]
    ops = []
    for partition, order in sorted(by_entry):
        entries = by_entry[(partition, order)]
        mark = fold_mark(partition)
        last_ms = max(entry.at_ms for entry in entries) if collection == PROGRESS else 0
        change = _change(_increments(collection, entries), last_ms, mark, order)
        ops.append(UpdateOne({"_id": doc_id, mark: {"$lt": order}}, change))
        unmarked = {"_id": doc_id, mark: {"$exists": False}, **none_applied([e.entry_id for e in entries])}
        ops.append(UpdateOne(unmarked, change))
    return ops


async def _write_collection(
    documents: DocumentStore,
    collection: str,
    groups: dict[str, _Group],
    orders: _Orders,
    *,
    redelivered: bool,
    memory: FoldMemory,
) -> None:
    if not groups:
        return
    coll = documents.db[collection]
    if not redelivered:
        marks = {doc_id: _marked(group, orders) for doc_id, group in groups.items()}
        known: list[_Group] = []
        unknown: list[_Group] = []
        for doc_id, group in groups.items():
            (known if (collection, doc_id) in memory.existing else unknown).append(group)
        wholes = []
        for group in unknown:
            mark, _, high = marks[group.shape["_id"]]
            wholes.append(_whole(collection, group, mark, high))
        existed = [unknown[index] for index in await insert_missing(coll, wholes)]
        memory.note_existing(collection, [group.shape["_id"] for group in unknown])
        updated = known + existed
        if not updated:
            return
        ops = []
        for group in updated:
            mark, low, high = marks[group.shape["_id"]]
            change = _change(dict(group.increments), group.last_ms, mark, high)
            ops.append(UpdateOne({"_id": group.shape["_id"], mark: {"$lt": low}}, change))
        if await bulk_write(coll, ops, ordered=False) == len(ops):
            return
        # A document deleted since (a course removed, progress reset), entries folded already, or a
        # document an older version folded (no mark yet).
        log.info(
            "fresh telemetry entries met a document without a mark or above it; applying one by one",
            extra={"collection": collection},
        )
        groups = {group.shape["_id"]: group for group in updated}
        memory.forget(collection, list(groups))
    await bulk_write(
        coll,
        [
            UpdateOne({"_id": doc_id}, {"$setOnInsert": group.shape}, upsert=True)
            for doc_id, group in groups.items()
        ],
        ordered=False,
    )
    ops = [op for group in groups.values() for op in _one_entry_at_a_time(collection, group, orders)]
    await bulk_write(coll, ops, ordered=True)


# One statement whatever the batch's size: a window holds tens of thousands of entries.
_ENROLLMENTS_OF_PAIRS = select(
    Enrollment.user_id, Enrollment.course_id, Enrollment.id, Enrollment.enrolled_at
).join(
    USER_COURSE_PAIRS,
    and_(
        Enrollment.user_id == USER_COURSE_PAIRS.c.user_id,
        Enrollment.course_id == USER_COURSE_PAIRS.c.course_id,
    ),
)


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
    users, courses = zip(*pairs, strict=True)
    async with db.read() as tx:
        rows = (
            await tx.execute(_ENROLLMENTS_OF_PAIRS, {"user_ids": list(users), "course_ids": list(courses)})
        ).all()
    live = {
        (int(user), int(course)): (int(enrollment_id), int(enrolled_at.timestamp() * 1000))
        for user, course, enrollment_id, enrolled_at in rows
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
    memory: FoldMemory | None = None,
) -> None:
    """Fold one partition's entries, given in any order, into the documents. `redelivered`: some may
    have been folded already (go one entry at a time). `memory`: the worker's, kept across flushes (None:
    a fresh one, all documents unknown)."""
    memory = memory or FoldMemory()
    orders = _Orders()
    buckets, progress = _groups(entries)
    # Both collections at once: they share nothing but the store.
    await all_written(
        *(
            _write_collection(documents, collection, groups, orders, redelivered=redelivered, memory=memory)
            for collection, groups in ((COURSE_TELEMETRY, buckets), (PROGRESS, progress))
        )
    )


# One statement per batch, whatever its size: arrays instead of one bind parameter per value, and a
# text that never changes (compiled once). The guard is per stream entry, not per heartbeat: an entry is
# read, redelivered and rolled up whole (one statement), so its id alone says whether its heartbeats are
# in; heartbeats of entries new to `telemetry_applied` are the ones added.
_ROLLUP = text(
    """
WITH batch AS (
  SELECT * FROM unnest(
    CAST(:ids AS text[]), CAST(:users AS int[]), CAST(:courses AS int[]), CAST(:lessons AS text[]),
    CAST(:days AS date[]), CAST(:seconds AS int[])
  ) AS b(entry_id, user_id, course_id, lesson_id, day, seconds)
), fresh AS (
  INSERT INTO telemetry_applied (entry_id) SELECT DISTINCT entry_id FROM batch
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
                "ids": [entry_applied_id(entry.entry_id) for entry in unique],
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
