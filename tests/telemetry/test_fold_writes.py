"""What the fold asks of the document store (app/telemetry/fold.py), counted with PyMongo's command
monitoring on a client of the same server: a new document is one insert, a known one one update, a
document a restarted worker does not know yet at most an insert and an update, nothing is ever read,
no command carries more than WRITE_CHUNK writes (the embedded server answers nothing else while it runs
one) — all with the totals exact; and the fold mark: one number per document and partition, which
takes a partition's entries in stream order only, and the `applied` lists of older versions."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from app.runtime import Runtime
from app.stores import mongo
from app.stores.mongo import COURSE_TELEMETRY, PROGRESS, DocumentStore
from app.telemetry import keys
from app.telemetry.fold import FoldMemory, fold_into_documents, none_applied
from app.telemetry.stream import Entry

_WRITES = {"insert": "documents", "update": "updates", "delete": "deletes"}


class Operations(CommandListener):
    """Statements sent per (command, collection): an insert of 6 documents counts 6."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.largest = 0
        self.updates: list[Any] = []  # the update statements sent, as the driver encoded them

    def started(self, event: CommandStartedEvent) -> None:
        name = event.command_name
        if name == "update":
            self.updates += list(event.command.get("updates", []))
        if name in _WRITES or name in ("find", "aggregate", "findAndModify", "count"):
            statements = event.command.get(_WRITES.get(name, ""), [None])
            self.counts[(name, str(event.command.get(name)))] += len(statements)
            self.largest = max(self.largest, len(statements))

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def take(self) -> dict[tuple[str, str], int]:
        counts = dict(self.counts)
        self.counts.clear()
        return counts


@pytest.fixture
async def watched(runtime: Runtime) -> AsyncIterator[tuple[DocumentStore, Operations]]:
    operations = Operations()
    store = DocumentStore(
        runtime.urls.mongo_url, runtime.settings.mongo_database, event_listeners=[operations]
    )
    try:
        yield store, operations
    finally:
        await store.close()


_ids = itertools.count()


def flush(users: range, lessons: list[str], beats: int, at_ms: int) -> list[Entry]:
    """`beats` heartbeats of 1 s per user and lesson of course 1, within one hour."""
    return [
        Entry(f"{at_ms + n}-{next(_ids)}", user, 1, lesson, 1, at_ms + n)
        for user in users
        for lesson in lessons
        for n in range(beats)
    ]


async def seconds_in(runtime: Runtime) -> tuple[int, int, int]:
    """Read through the runtime's own client, which is not watched."""
    buckets = await runtime.documents.db[COURSE_TELEMETRY].find({}).to_list(None)
    progress = await runtime.documents.db[PROGRESS].find({}).to_list(None)
    return (
        sum(doc["seconds"] for doc in buckets),
        sum(doc["total_seconds_spent"] for doc in progress),
        sum(sum(doc["lesson_times"].values()) for doc in progress),
    )


async def test_each_document_is_written_at_most_twice_per_flush_and_never_read(
    runtime: Runtime, watched: tuple[DocumentStore, Operations]
) -> None:
    store, operations = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    lessons = ["L1", "L2"]
    memory = FoldMemory()

    # New documents: one insert each (3 learners x 2 lessons buckets, 3 progress documents).
    first = flush(range(1, 4), lessons, 4, hour_ms)
    await fold_into_documents(store, first, redelivered=False, memory=memory)
    assert operations.take() == {("insert", COURSE_TELEMETRY): 6, ("insert", PROGRESS): 3}
    assert await seconds_in(runtime) == (24, 24, 24)

    # Known documents: one update each, whatever the number of heartbeats they take.
    second = flush(range(1, 4), lessons, 5, hour_ms + 10_000)
    await fold_into_documents(store, second, redelivered=False, memory=memory)
    assert operations.take() == {("update", COURSE_TELEMETRY): 6, ("update", PROGRESS): 3}
    assert await seconds_in(runtime) == (54, 54, 54)

    # A restarted worker knows nothing: the insert finds the document, then one update.
    third = flush(range(1, 4), lessons, 1, hour_ms + 20_000)
    await fold_into_documents(store, third, redelivered=False, memory=FoldMemory())
    assert operations.take() == {
        ("insert", COURSE_TELEMETRY): 6,
        ("update", COURSE_TELEMETRY): 6,
        ("insert", PROGRESS): 3,
        ("update", PROGRESS): 3,
    }
    assert await seconds_in(runtime) == (60, 60, 60)

    # The same flush delivered again (a crash before its acknowledgement) changes nothing.
    await fold_into_documents(store, third, redelivered=False, memory=memory)
    await fold_into_documents(store, second, redelivered=True, memory=memory)
    assert not any(command == "find" for command, _ in operations.take())
    assert await seconds_in(runtime) == (60, 60, 60)

    progress = await runtime.documents.db[PROGRESS].find_one({"user_id": 1})
    assert progress is not None
    assert progress["lesson_times"] == {"L1": 10, "L2": 10}
    assert progress["completed_lessons"] == [] and progress["last_accessed"].startswith("20")


def mark_of(entries: list[Entry]) -> int:
    return max(keys.entry_order(entry.entry_id)[1] for entry in entries)


async def test_a_document_holds_one_mark_per_partition_and_takes_entries_in_order_only(
    runtime: Runtime, watched: tuple[DocumentStore, Operations]
) -> None:
    store, operations = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    memory = FoldMemory()
    older, old, new = (flush(range(1, 2), ["L1"], 3, hour_ms + n * 10_000) for n in range(3))
    await fold_into_documents(store, old, redelivered=False, memory=memory)
    await fold_into_documents(store, new, redelivered=False, memory=memory)
    for collection in (COURSE_TELEMETRY, PROGRESS):
        doc = await runtime.documents.db[collection].find_one({"user_id": 1})
        assert doc is not None and doc[keys.fold_mark(0)] == mark_of(new) and doc["applied"] == []
    assert await seconds_in(runtime) == (6, 6, 6)
    operations.take()

    # Entries older than the mark are taken for folded already: a partition's owner never brings one it
    # has not folded (it folds everything pending before reading new entries).
    await fold_into_documents(store, older, redelivered=False, memory=memory)
    assert await seconds_in(runtime) == (6, 6, 6)
    # A redelivery mixing folded and new entries applies the new ones only, one stream entry at a time.
    newer = flush(range(1, 2), ["L1"], 2, hour_ms + 30_000)
    await fold_into_documents(store, new + newer, redelivered=True, memory=memory)
    assert await seconds_in(runtime) == (8, 8, 8)
    doc = await runtime.documents.db[PROGRESS].find_one({"user_id": 1})
    assert doc is not None and doc[keys.fold_mark(0)] == mark_of(newer)


async def test_an_owner_that_stalled_and_its_successor_count_their_entries_once(
    runtime: Runtime, watched: tuple[DocumentStore, Operations]
) -> None:
    """An owner stalls past its lease holding a flush; its successor claims those entries, folds them and
    then newer ones. Whether the stalled one writes its flush before or after, each counts once."""
    store, _ = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    held, later = flush(range(1, 3), ["L1"], 4, hour_ms), flush(range(1, 3), ["L1"], 2, hour_ms + 10_000)
    stalled, successor = FoldMemory(), FoldMemory()
    await fold_into_documents(store, held, redelivered=True, memory=successor)
    await fold_into_documents(store, later, redelivered=False, memory=successor)
    await fold_into_documents(store, held, redelivered=False, memory=stalled)  # writes after all
    assert await seconds_in(runtime) == (12, 12, 12)

    held, later = flush(range(3, 5), ["L1"], 4, hour_ms), flush(range(3, 5), ["L1"], 2, hour_ms + 10_000)
    await fold_into_documents(store, held, redelivered=False, memory=stalled)  # writes first
    await fold_into_documents(store, held, redelivered=True, memory=successor)
    await fold_into_documents(store, later, redelivered=False, memory=successor)
    assert await seconds_in(runtime) == (24, 24, 24)


async def test_a_document_an_older_version_folded_is_guarded_by_its_list_until_marked(
    runtime: Runtime, watched: tuple[DocumentStore, Operations]
) -> None:
    """Documents written before fold marks carry `applied` lists: an entry in the list is not counted
    again, the first one that is not sets the mark, and the list is left as it was."""
    store, _ = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    folded_before = flush(range(7, 8), ["L1"], 2, hour_ms)
    ids = [entry.entry_id for entry in folded_before]
    await runtime.documents.db[PROGRESS].insert_one(
        {
            "_id": "7:1",
            "user_id": 7,
            "course_id": 1,
            "completed_lessons": [],
            "lesson_times": {"L1": 2},
            "total_seconds_spent": 2,
            "last_accessed": None,
            "created_at": "2026-01-01T00:00:00Z",
            "applied": ids,
        }
    )
    fresh = flush(range(7, 8), ["L1"], 3, hour_ms + 10_000)
    await fold_into_documents(store, folded_before + fresh, redelivered=True, memory=FoldMemory())
    doc = await runtime.documents.db[PROGRESS].find_one({"_id": "7:1"})
    assert doc is not None and doc["total_seconds_spent"] == 5 and doc["lesson_times"] == {"L1": 5}
    assert doc[keys.fold_mark(0)] == mark_of(fresh) and doc["applied"] == ids
    # Marked now: a fresh flush is one guarded update.
    await fold_into_documents(store, flush(range(7, 8), ["L1"], 1, hour_ms + 20_000), redelivered=False)
    doc = await runtime.documents.db[PROGRESS].find_one({"_id": "7:1"})
    assert doc is not None and doc["total_seconds_spent"] == 6


async def test_a_flush_of_new_and_existing_documents_and_one_deleted_meanwhile(
    runtime: Runtime, watched: tuple[DocumentStore, Operations]
) -> None:
    """A restarted worker's flush where some documents exist and some do not: each new one is inserted
    once, each existing one updated once; a document deleted after the worker learnt it exists (a
    course removed, a progress reset) is made again from the flush, one entry at a time."""
    store, operations = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    memory = FoldMemory()
    await fold_into_documents(store, flush(range(2, 4), ["L1"], 2, hour_ms), redelivered=False, memory=memory)
    operations.take()

    mixed = flush(range(1, 6), ["L1"], 3, hour_ms + 10_000)  # learners 2 and 3 have documents, 1, 4, 5 not
    await fold_into_documents(store, mixed, redelivered=False, memory=FoldMemory())
    assert operations.take() == {
        ("insert", COURSE_TELEMETRY): 5,
        ("update", COURSE_TELEMETRY): 2,
        ("insert", PROGRESS): 5,
        ("update", PROGRESS): 2,
    }
    assert await seconds_in(runtime) == (19, 19, 19)

    await runtime.documents.db[PROGRESS].delete_one({"user_id": 2})
    again = flush(range(2, 3), ["L1"], 2, hour_ms + 20_000)
    await fold_into_documents(store, again, redelivered=False, memory=memory)
    progress = await runtime.documents.db[PROGRESS].find_one({"user_id": 2})
    assert progress is not None and progress["total_seconds_spent"] == 2
    assert progress["completed_lessons"] == [] and progress[keys.fold_mark(0)] == mark_of(again)
    bucket_seconds, _, _ = await seconds_in(runtime)
    assert bucket_seconds == 21


async def test_a_redelivered_flush_is_written_a_chunk_of_commands_at_a_time(
    runtime: Runtime, watched: tuple[DocumentStore, Operations], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redelivered flush goes one entry at a time: 2,400 updates per collection, sent as commands of
    at most WRITE_CHUNK, in order, each entry applied once."""
    assert mongo.WRITE_CHUNK <= 1000
    monkeypatch.setattr(mongo, "WRITE_CHUNK", 500)
    store, operations = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    entries = sorted(
        flush(range(1, 4), ["L1", "L2"], 400, hour_ms), key=lambda e: keys.entry_order(e.entry_id)
    )
    # What an owner folded before it died: the oldest entries (a partition is folded in stream order).
    await fold_into_documents(store, entries[:1200], redelivered=False, memory=FoldMemory())
    operations.take()

    await fold_into_documents(store, entries, redelivered=True, memory=FoldMemory())
    counts = operations.take()
    assert counts[("update", COURSE_TELEMETRY)] >= 2400 and counts[("update", PROGRESS)] >= 2400
    assert operations.largest == 500
    assert await seconds_in(runtime) == (2400, 2400, 2400)


async def test_documents_that_exist_are_found_in_every_chunk_of_an_insert(
    runtime: Runtime, watched: tuple[DocumentStore, Operations], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted worker inserts documents in chunks; those that existed, in whichever chunk, are
    updated instead, and no chunk is larger than WRITE_CHUNK."""
    monkeypatch.setattr(mongo, "WRITE_CHUNK", 4)
    store, operations = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    existing = [user for user in range(1, 12) if user % 3 == 0]
    await fold_into_documents(
        store,
        [entry for user in existing for entry in flush(range(user, user + 1), ["L1"], 2, hour_ms)],
        redelivered=False,
        memory=FoldMemory(),
    )
    operations.take()
    operations.largest = 0

    await fold_into_documents(
        store, flush(range(1, 12), ["L1"], 3, hour_ms + 10_000), redelivered=False, memory=FoldMemory()
    )
    assert operations.take() == {
        ("insert", COURSE_TELEMETRY): 11,
        ("update", COURSE_TELEMETRY): len(existing),
        ("insert", PROGRESS): 11,
        ("update", PROGRESS): len(existing),
    }
    assert operations.largest == 4
    total = 2 * len(existing) + 3 * 11
    assert await seconds_in(runtime) == (total, total, total)


@pytest.mark.parametrize("padding", [0, 20], ids=["few ids", "many ids"])
async def test_the_guard_matches_only_a_document_whose_applied_list_holds_none_of_the_ids(
    runtime: Runtime, padding: int
) -> None:
    """`none_applied` must filter an array field as `$nin` does on MongoDB (`$ne` does not, on the
    embedded server), in both of its forms: otherwise an entry delivered again would count twice."""
    collection = runtime.documents.db[PROGRESS]
    await collection.delete_many({"_id": {"$in": ["guard:1", "guard:2"]}})
    await collection.insert_many(
        [{"_id": "guard:1", "applied": ["1-0", "2-0", "3-0"]}, {"_id": "guard:2", "applied": []}]
    )
    others = [f"9-{n}" for n in range(padding)]

    async def matched(doc_id: str, entry_ids: list[str]) -> int:
        guard = none_applied(others + entry_ids)
        return int(await collection.count_documents({"_id": doc_id, **guard}))

    assert await matched("guard:1", ["4-0", "5-0"]) == 1
    assert await matched("guard:1", ["4-0", "2-0"]) == 0  # one id already there is enough to refuse
    assert await matched("guard:1", ["3-0"]) == 0
    assert await matched("guard:1", ["3"]) == 1  # whole ids, not prefixes
    assert await matched("guard:2", ["1-0"]) == 1
    result = await collection.update_one(
        {"_id": "guard:1", **none_applied(others + ["2-0"])}, {"$push": {"applied": "2-0"}}
    )
    assert result.matched_count == 0
    assert (await collection.find_one({"_id": "guard:1"}))["applied"] == ["1-0", "2-0", "3-0"]
