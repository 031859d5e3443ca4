"""Folding accepted heartbeats into the stores, exactly once per stream entry.

MongoDB: `course_telemetry` hourly buckets per (user, course, lesson) and the `progress` documents
(`lesson_times`, `total_seconds_spent`, `last_accessed`). Every update carries the ids of the entries
it applies and only matches a document whose `applied` list holds none of them; the ids are pushed in
the same atomic update. PostgreSQL: daily rollups in `telemetry`, guarded by `telemetry_applied`, in
one statement. So an entry delivered again after a crash between writing and acknowledging
changes nothing the second time.

Document operations per flush: a document this worker knows to exist gets one guarded update; any other
is inserted whole (shape, increments and applied ids in one write), and only where the insert finds it
exists already is it updated: two operations per document at most, and no read. Only when an update
matches nothing (a document deleted meanwhile, entries applied already: a redelivery) does the flush go
one entry at a time for those documents.

An `applied` list must keep an id for as long as its entry can be written again: while it is pending in
the consumer group, and while a consumer that claimed it still holds it (the consumer that first read it
may acknowledge it meanwhile), however many newer entries reach the same document meanwhile. So the lists
are not cut to a fixed length: once a worker has pushed `_PRUNE_AT` ids to a document, it pulls the ids
of its partition below the group's settled bound (StreamConsumer.settled_before) with one range
condition, without reading the list.
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
    bulk_write,
    insert_missing,
    telemetry_bucket_id,
)
from app.stores.sql import Database
from app.telemetry.keys import applied_order, entry_applied_id
from app.telemetry.stream import Entry
from app.timestamps import epoch_ms_to_iso_ms, hour_of_epoch_ms, now_iso_z

log = logging.getLogger(__name__)

# A worker prunes a document's `applied` list after pushing this many ids to it.
_PRUNE_AT = 32
# Safety net only, against a list growing without end while some entry stays pending for hours; a
# document receives at most about one heartbeat per second of its learner's wall-clock time. Twice the
# largest flush (`telemetry_batch_size`, passed by up to one read of 20,000), so one flush never cuts ids
# that may still come again.
_APPLIED_CAP = 440_000
# The cut (`$slice`) rides on a document's update once this worker has pushed this many ids to it since
# the last one, not on every update: on nx-27017 it costs 20–35 µs of CPU per update (README, "Time
# tracking ingest"). A list may so pass the cap by this much per worker before it is cut.
_CAP_EVERY = 10_000


@dataclass
class _Group:
    shape: dict[str, Any]
    increments: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_ms: int = 0
    entry_ids: list[str] = field(default_factory=list)


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
        increments = bucket.increments
        increments["seconds"] += entry.seconds
        increments["heartbeats"] += 1
        bucket.entry_ids.append(entry.entry_id)
        group = progress.get((user_id, course_id))
        if group is None:
            group = progress[(user_id, course_id)] = _Group(empty_progress(user_id, course_id, created_at))
        increments = group.increments
        increments[f"lesson_times.{lesson_id}"] += entry.seconds
        increments["total_seconds_spent"] += entry.seconds
        if entry.at_ms > group.last_ms:
            group.last_ms = entry.at_ms
        group.entry_ids.append(entry.entry_id)
    return (
        {group.shape["_id"]: group for group in buckets.values()},
        {group.shape["_id"]: group for group in progress.values()},
    )


def _update(group: _Group, entry_ids: list[str], increments: dict[str, int], *, cut: bool) -> UpdateOne:
    """`cut`: the update also cuts the `applied` list to `_APPLIED_CAP` ids."""
    push: dict[str, Any] = {"$each": entry_ids, "$slice": -_APPLIED_CAP} if cut else {"$each": entry_ids}
    change: dict[str, Any] = {"$inc": increments, "$push": {"applied": push}}
    if group.last_ms:
        change["$set"] = {"last_accessed": epoch_ms_to_iso_ms(group.last_ms)}
    return UpdateOne({"_id": group.shape["_id"], **none_applied(entry_ids)}, change)


# Up to this many ids, a guard is written as `$nor` of equalities (see none_applied).
_GUARD_CLAUSES = 12


def none_applied(entry_ids: list[str]) -> dict[str, Any]:
    """The guard of a fold update: the document's `applied` list holds none of these ids. On MongoDB
    `$nor` of equalities and `$nin` mean the same; on nx-27017 `$nor` becomes one SQL condition whose
    cost grows with each id, while `$nin` on an array makes it load and filter the document in Python at
    a fixed cost. Measured on its CPU per update (README, embedded-mode notes): 170 against 250 µs with
    one id (a web client's heartbeat per flush), level near a dozen, 350 against 300 µs with 16."""
    if len(entry_ids) <= _GUARD_CLAUSES:
        return {"$nor": [{"applied": entry_id} for entry_id in entry_ids]}
    return {"applied": {"$nin": entry_ids}}


class FoldMemory:
    """What a worker remembers between flushes, to spare the document store work: which documents
    exist (they are updated, not inserted first) and how many ids it pushed to each since it last
    pruned it. Forgetting is always safe: a forgotten document costs one failed insert, a forgotten
    count a later prune."""

    _LIMIT = 200_000

    def __init__(self) -> None:
        self.existing: set[tuple[str, str]] = set()
        self.pushed: dict[tuple[str, str], int] = defaultdict(int)
        self.uncut: dict[tuple[str, str], int] = defaultdict(int)  # ids pushed since the last cut

    def cut_due(self, collection: str, group: _Group) -> bool:
        """Counts the group's ids as pushed; True when its update should cut the list (and counts it cut)."""
        if len(self.uncut) > self._LIMIT:
            self.uncut.clear()
        key = (collection, group.shape["_id"])
        self.uncut[key] += len(group.entry_ids)
        if self.uncut[key] < _CAP_EVERY:
            return False
        self.uncut[key] = 0
        return True

    def note_existing(self, collection: str, doc_ids: Sequence[str]) -> None:
        if len(self.existing) > self._LIMIT:
            self.existing.clear()
        self.existing.update((collection, doc_id) for doc_id in doc_ids)

    def forget(self, collection: str, doc_ids: Sequence[str]) -> None:
        for doc_id in doc_ids:
            self.existing.discard((collection, doc_id))

    def count_pushed(self, collection: str, groups: dict[str, _Group]) -> list[str]:
        """Counts the ids just pushed; returns the documents that reached `_PRUNE_AT` since pruned."""
        if len(self.pushed) > self._LIMIT:
            self.pushed.clear()
        due = []
        for doc_id, group in groups.items():
            key = (collection, doc_id)
            self.pushed[key] += len(group.entry_ids)
            if self.pushed[key] >= _PRUNE_AT:
                due.append(doc_id)
        return due

    def pruned(self, collection: str, groups: dict[str, _Group], doc_ids: Sequence[str]) -> None:
        """After a prune, the ids of the flush that pruned stay (they are pending while it runs, so
        never older than the bound); older ones still pending elsewhere are not counted, which only
        delays the next prune."""
        for doc_id in doc_ids:
            self.pushed[(collection, doc_id)] = len(groups[doc_id].entry_ids)


def _whole(collection: str, group: _Group) -> dict[str, Any]:
    """The document as its first write: its shape with the group's increments applied and ids noted."""
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
    document["applied"] = list(group.entry_ids)
    return document


async def _insert_new(coll: Any, collection: str, groups: list[_Group]) -> list[_Group]:
    """Insert the groups' documents whole; returns the groups whose document existed already."""
    existed = await insert_missing(coll, [_whole(collection, group) for group in groups])
    return [groups[index] for index in existed]


async def _write_collection(
    documents: DocumentStore,
    collection: str,
    groups: dict[str, _Group],
    entries: dict[str, Entry],
    *,
    redelivered: bool,
    memory: FoldMemory,
) -> None:
    if not groups:
        return
    coll = documents.db[collection]
    if not redelivered:
        known: list[_Group] = []
        unknown: list[_Group] = []
        for doc_id, group in groups.items():
            (known if (collection, doc_id) in memory.existing else unknown).append(group)
        existed = await _insert_new(coll, collection, unknown)
        memory.note_existing(collection, [group.shape["_id"] for group in unknown])
        updated = known + existed
        if not updated:
            return
        ops = [
            _update(group, group.entry_ids, dict(group.increments), cut=memory.cut_due(collection, group))
            for group in updated
        ]
        if await bulk_write(coll, ops, ordered=False) == len(ops):
            return
        # A document deleted since (a course removed, progress reset) or entries applied already.
        log.warning(
            "fresh telemetry entries met a missing document or were already applied; applying one by one",
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
            ops.append(_update(single, [entry_id], increments, cut=True))  # rare: always cut
    await bulk_write(coll, ops, ordered=True)


# Every stream id of these years has 13 digits of milliseconds; see settled_ids.
_MS_BLOCK = 10**10


def settled_ids(settled_before: str) -> dict[str, str] | None:
    """A string range holding only applied ids of `settled_before`'s partition that are older (by
    millisecond) than it; None when there is nothing to prune below. Partition k > 0: ids
    "k/<ms>-<seq>", so ["k/", "k/<ms>-"). Partition 0: bare "<ms>-<seq>" with 13 digits of ms; the range
    starts at the bound's ms rounded down to a multiple of 10^10 so that no "k/…" id of a partition up
    to 99 falls inside it (the range's ends share their first three digits, and a "k/" prefix differs
    from them by its second or third character). So ids from before that round number (one every 115
    days) are left to the `_APPLIED_CAP` cut."""
    order = applied_order(settled_before)
    if order is None:
        return None
    partition, ms, _ = order
    if partition:
        return {"$gt": f"{partition}/", "$lt": f"{partition}/{ms}-"} if ms else None
    if len(str(ms)) != 13:
        return None
    return {"$gte": str(ms - ms % _MS_BLOCK), "$lt": f"{ms}-"}


async def _prune_applied(
    documents: DocumentStore, collection: str, doc_ids: list[str], settled_before: str
) -> bool:
    """True when the documents were pruned (False: nothing is settled yet)."""
    settled = settled_ids(settled_before)
    if not doc_ids or settled is None:
        return False
    await bulk_write(
        documents.db[collection],
        [UpdateOne({"_id": doc_id}, {"$pull": {"applied": settled}}) for doc_id in doc_ids],
        ordered=False,
    )
    return True


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
    settled_before: str | None = None,
    memory: FoldMemory | None = None,
) -> None:
    """`settled_before`: the partition's settled bound (StreamConsumer.settled_before), read while these
    entries are held; ids older than it are pruned from `applied` lists this worker has pushed enough
    ids to (None: no pruning). `memory`: the worker's, kept across flushes (None: a fresh one, all
    documents unknown)."""
    memory = memory or FoldMemory()
    by_id = {entry.entry_id: entry for entry in entries}
    buckets, progress = _groups(entries)
    for collection, groups in ((COURSE_TELEMETRY, buckets), (PROGRESS, progress)):
        await _write_collection(documents, collection, groups, by_id, redelivered=redelivered, memory=memory)
    for collection, groups in ((COURSE_TELEMETRY, buckets), (PROGRESS, progress)):
        due = memory.count_pushed(collection, groups)
        if (
            due
            and settled_before is not None
            and await _prune_applied(documents, collection, due, settled_before)
        ):
            memory.pruned(collection, groups, due)


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
