"""What the fold asks of the document store (app/telemetry/fold.py), counted with PyMongo's command
monitoring on a client of the same server: a new document is one insert, a known one one update, a
document a restarted worker does not know yet at most an insert and an update, nothing is ever read,
and `applied` lists are pruned by a range condition, no command carries more than WRITE_CHUNK writes (the
embedded server answers nothing else while it runs one) — all with the totals exact."""

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
from app.telemetry import fold, keys
from app.telemetry.fold import FoldMemory, fold_into_documents, none_applied, settled_ids
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


async def test_applied_lists_are_pruned_without_reading_them(
    runtime: Runtime, watched: tuple[DocumentStore, Operations]
) -> None:
    store, operations = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    memory = FoldMemory()
    old = flush(range(1, 2), ["L1"], 40, hour_ms)
    await fold_into_documents(store, old, redelivered=False, memory=memory)
    operations.take()

    # Everything before this flush is settled (acknowledged): its ids go, the flush's own stay.
    latest = flush(range(1, 2), ["L1"], 2, hour_ms + 60_000)
    await fold_into_documents(
        store, latest, redelivered=False, memory=memory, settled_before=latest[0].entry_id
    )
    assert operations.take() == {
        ("update", COURSE_TELEMETRY): 2,  # the fold, then the prune
        ("update", PROGRESS): 2,
    }
    for collection in (COURSE_TELEMETRY, PROGRESS):
        doc = await runtime.documents.db[collection].find_one({"user_id": 1})
        assert doc is not None and sorted(doc["applied"]) == sorted(entry.entry_id for entry in latest)
    assert await seconds_in(runtime) == (42, 42, 42)


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
    assert progress["completed_lessons"] == [] and sorted(progress["applied"]) == sorted(
        entry.entry_id for entry in again
    )
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
    entries = flush(range(1, 4), ["L1", "L2"], 400, hour_ms)
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


def test_nothing_is_settled_below_a_bound_that_is_no_stream_id() -> None:
    assert settled_ids("0-0") is None and settled_ids("5-0") is None and settled_ids("3/0-0") is None
    assert settled_ids("not an id") is None


def _inside(entry_id: str, condition: dict[str, str]) -> bool:
    """MongoDB's comparison of two strings: by their UTF-8 bytes (ASCII here)."""
    low_ok = entry_id > condition["$gt"] if "$gt" in condition else entry_id >= condition["$gte"]
    return low_ok and entry_id < condition["$lt"]


@pytest.mark.parametrize(
    "bound_ms",
    [1_733_000_000_000, 1_739_999_999_999, 1_740_000_000_000, 1_799_999_999_999, 1_800_000_000_001],
)
def test_the_settled_range_holds_only_older_ids_of_its_own_partition(bound_ms: int) -> None:
    """Never an id of another partition or one not older than the bound (that entry may come again);
    every older id of a partition k > 0, and of partition 0 those since the bound's 10^10 ms block."""
    block_start = bound_ms - bound_ms % 10**10
    samples = [bound_ms - 1, bound_ms - 86_400_000, block_start, block_start - 1, bound_ms, bound_ms + 1]
    for partition in range(65):
        condition = settled_ids(keys.applied_id(partition, f"{bound_ms}-5"))
        assert condition is not None
        for other in range(65):
            for ms in samples:
                for seq in (0, 7, 12345):
                    entry_id = keys.applied_id(other, f"{ms}-{seq}")
                    older = other == partition and ms < bound_ms
                    pruned = _inside(entry_id, condition)
                    assert not pruned or older, (partition, entry_id, condition)
                    if older and (partition > 0 or ms >= block_start):
                        assert pruned, (partition, entry_id, condition)


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


async def test_applied_lists_are_cut_to_the_cap_every_so_many_ids(
    runtime: Runtime, watched: tuple[DocumentStore, Operations], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety cap on an `applied` list (nothing settled, so nothing pruned) rides on one update in
    `_CAP_EVERY` ids, not on every update."""
    monkeypatch.setattr(fold, "_APPLIED_CAP", 5)
    monkeypatch.setattr(fold, "_CAP_EVERY", 8)
    store, operations = watched
    hour_ms = int(time.time() // 3600 * 3600 * 1000)
    memory = FoldMemory()
    cuts: list[bool] = []
    lengths: list[int] = []
    pushed: list[str] = []
    for n in range(4):
        entries = flush(range(900, 901), ["L1"], 4, hour_ms + n * 10_000)
        pushed += [entry.entry_id for entry in entries]
        await fold_into_documents(store, entries, redelivered=False, memory=memory)
        cuts.append("$slice" in str(operations.updates))
        operations.updates.clear()
        progress = await runtime.documents.db[PROGRESS].find_one({"user_id": 900})
        assert progress is not None
        lengths.append(len(progress["applied"]))
    # An insert of 4 ids; updates pushing 4 (4 uncut), 4 more (8: this one cuts), 4 (uncut again).
    assert cuts == [False, False, True, False]
    assert lengths == [4, 8, 5, 9]
    assert progress["applied"][-9:] == pushed[-9:] and progress["total_seconds_spent"] == 16
