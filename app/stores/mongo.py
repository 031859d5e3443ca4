"""The document store: lessons, progress and course_telemetry in MongoDB (docs/PRODUCT.md, "Data").

Rules that keep the same meaning on MongoDB and on the embedded nx-27017 server:
- documents have deterministic string `_id`s and are written by `_id`;
- a document is created with its full shape first (`$setOnInsert` of every nested object), and
  only updates of an existing document use dotted paths (`$inc: {"lesson_times.L1": 15}`);
- filters never use `$ne` on array fields, never compare booleans with numbers, never use ObjectIds;
- updates of an existing document never write a datetime or a boolean as a single value
  (`$set: {"last_accessed": now}` is stored as the string "2024-05-06 07:08:09" there, `True` as `1`),
  and `$push`/`$addToSet` only add strings and numbers (a pushed object is stored as a JSON string):
  `update` and `ensure_then_increment` refuse such changes. Whole documents (`insert`, `replace`, the
  shapes of `ensure_then_increment`) and whole nested objects or arrays given to `$set` keep every type.
`tests/stores/test_mongo_contract.py` pins each operation and runs against both servers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pymongo import ASCENDING, AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, CollectionInvalid

Document = dict[str, Any]

LESSONS = "lessons"
PROGRESS = "progress"
COURSE_TELEMETRY = "course_telemetry"
# Each of these collections holds documents of one course (`course_id`); nothing cascades here, so a
# course's deletion removes them itself, as ON DELETE CASCADE removes the course's rows in SQL.
COURSE_SCOPED = (LESSONS, PROGRESS, COURSE_TELEMETRY)

INDEXES: dict[str, list[tuple[str, list[tuple[str, int]]]]] = {
    LESSONS: [("course_order", [("course_id", ASCENDING), ("order", ASCENDING)])],
    PROGRESS: [
        ("course_user", [("course_id", ASCENDING), ("user_id", ASCENDING)]),
        ("user_course", [("user_id", ASCENDING), ("course_id", ASCENDING)]),
    ],
    COURSE_TELEMETRY: [
        ("course_hour", [("course_id", ASCENDING), ("hour", ASCENDING)]),
        ("user_course_hour", [("user_id", ASCENDING), ("course_id", ASCENDING), ("hour", ASCENDING)]),
        ("hour", [("hour", ASCENDING)]),
    ],
}


_ARRAY_ADDERS = ("$push", "$addToSet")


def check_portable_change(change: Mapping[str, Any]) -> None:
    """Raise ValueError for an update that nx-27017 would store differently from MongoDB (module rules)."""
    for operator, fields in change.items():
        if operator in ("$currentDate", "$unset") or not isinstance(fields, Mapping):
            continue
        for path, value in fields.items():
            if operator in _ARRAY_ADDERS:
                added = value["$each"] if isinstance(value, Mapping) and "$each" in value else [value]
                portable = all(
                    isinstance(item, str | int | float) and not isinstance(item, bool) for item in added
                )
            else:
                portable = not isinstance(value, bool | datetime)
            if not portable:
                raise ValueError(
                    f"{operator} {path!r}: the embedded MongoDB server would not store this value as MongoDB "
                    "does; write it with the document's shape, inside a whole nested object, or as a string "
                    "or number (see app.stores.mongo)"
                )


# nx-27017 runs one command at a time under one lock over its SQLite file, its health checks (`hello`)
# included: 20,000 guarded updates in one command held it 3 s on an idle 2-core box, and a health check
# unanswered for connectTimeoutMS makes the driver mark the server unknown and cancel every operation in
# flight on it. A thousand operations hold it for a fraction of a second; on MongoDB they cost one more
# round trip per thousand.
WRITE_CHUNK = 1000
# Unordered chunks in flight at once: while the server runs one, the driver encodes and sends the next
# (one at a time left nx-27017 idle a third of a fold's writes: docs/performance/telemetry-ingest.md,
# "Frames without the parser, a collector that waits, writes in flight"). Two
# queued behind a health check still answer it well within connectTimeoutMS.
CHUNKS_AT_ONCE = 2
_DUPLICATE_KEY = 11000
T = TypeVar("T")


def _chunks(items: Sequence[Any]) -> list[list[Any]]:
    return [list(items[start : start + WRITE_CHUNK]) for start in range(0, len(items), WRITE_CHUNK)]


async def bulk_write(
    collection: AsyncCollection[Document], operations: Sequence[Any], *, ordered: bool
) -> int:
    """`collection.bulk_write` in commands of at most WRITE_CHUNK operations; returns how many matched.
    Ordered, a chunk with a failed operation raises its BulkWriteError and later chunks are not sent;
    unordered, CHUNKS_AT_ONCE chunks are in flight at a time and the first failure is raised once every
    chunk sent has been answered (the callers write idempotently and try again)."""
    if ordered:
        matched = 0
        for chunk in _chunks(operations):
            matched += (await collection.bulk_write(chunk, ordered=True)).matched_count
        return matched

    async def write(chunk: list[Any]) -> int:
        return int((await collection.bulk_write(chunk, ordered=False)).matched_count)

    return sum(await _at_once(_chunks(operations), write))


async def insert_missing(collection: AsyncCollection[Document], documents: Sequence[Document]) -> list[int]:
    """Insert the documents (unordered, WRITE_CHUNK a command, CHUNKS_AT_ONCE commands in flight); returns
    the positions of those whose `_id` existed already. Any other write error is raised as in
    `bulk_write`."""

    async def insert(chunk: list[Document]) -> list[int]:
        try:
            await collection.insert_many(chunk, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != _DUPLICATE_KEY for error in errors):
                raise
            return [error["index"] for error in errors]
        return []

    existed: list[int] = []
    for number, indexes in enumerate(await _at_once(_chunks(documents), insert)):
        existed += [number * WRITE_CHUNK + index for index in indexes]
    return existed


async def _at_once(chunks: list[list[Any]], send: Callable[[list[Any]], Awaitable[T]]) -> list[T]:
    """`send` every chunk, at most CHUNKS_AT_ONCE at a time; the answers in chunk order."""
    gate = asyncio.Semaphore(CHUNKS_AT_ONCE)

    async def one(chunk: list[Any]) -> T:
        async with gate:
            return await send(chunk)

    return await all_written(*(one(chunk) for chunk in chunks))


async def all_written(*writes: Awaitable[T]) -> list[T]:
    """Run the writes concurrently; their answers in order. A failure is raised (the first in order) only
    once every write has been answered, so nothing is still in flight when the caller tries again."""
    answers = await asyncio.gather(*writes, return_exceptions=True)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return answers  # type: ignore[return-value]


def progress_id(user_id: int, course_id: int) -> str:
    return f"{user_id}:{course_id}"


def telemetry_bucket_id(user_id: int, course_id: int, lesson_id: str, hour: str) -> str:
    return f"{user_id}:{course_id}:{lesson_id}:{hour}"


class DocumentStore:
    def __init__(self, url: str, database: str, **client_options: Any) -> None:
        """`client_options`: further PyMongo client options (e.g. `event_listeners`)."""
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, tz_aware=True, **client_options
        )
        self.db: AsyncDatabase[Document] = self.client[database]

    async def ensure_schema(self) -> None:
        existing = set(await self.db.list_collection_names())
        for name, indexes in INDEXES.items():
            if name not in existing:
                # Every api and worker process runs this at start; several start together on a new
                # database (compose replicas), and the first one creates the collection.
                with contextlib.suppress(CollectionInvalid):
                    await self.db.create_collection(name)
            for index_name, keys in indexes:
                await self.db[name].create_index(keys, name=index_name)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self.db[collection].find_one({"_id": doc_id})

    async def find(
        self,
        collection: str,
        where: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (("_id", ASCENDING),),
        skip: int = 0,
        limit: int = 0,
        fields: Sequence[str] | None = None,
    ) -> list[Document]:
        """`fields` limits the returned fields (plus `_id`), so large bodies stay in the database."""
        projection = dict.fromkeys(fields, 1) if fields is not None else None
        cursor = self.db[collection].find(dict(where), projection).sort(list(sort)).skip(skip).limit(limit)
        return [doc async for doc in cursor]

    async def insert(self, collection: str, document: Document) -> None:
        await self.db[collection].insert_one(document)

    async def replace(self, collection: str, document: Document) -> None:
        await self.db[collection].replace_one({"_id": document["_id"]}, document, upsert=True)

    async def ensure_then_increment(
        self,
        collection: str,
        shapes_and_increments: Sequence[tuple[Document, Mapping[str, int], Mapping[str, Any]]],
    ) -> None:
        """For each (full document shape, increments, fields to set): create it if missing, then apply.

        Two bulk writes: the first only inserts missing documents with their whole shape, so the
        second's dotted paths always land on an existing document (see the module rules).
        """
        if not shapes_and_increments:
            return
        updates = []
        for shape, increments, sets in shapes_and_increments:
            change: Document = {}
            if increments:
                change["$inc"] = dict(increments)
            if sets:
                change["$set"] = dict(sets)
            if change:
                check_portable_change(change)
                updates.append(UpdateOne({"_id": shape["_id"]}, change))
        coll = self.db[collection]
        await bulk_write(
            coll,
            [
                UpdateOne({"_id": shape["_id"]}, {"$setOnInsert": shape}, upsert=True)
                for shape, _, _ in shapes_and_increments
            ],
            ordered=False,
        )
        await bulk_write(coll, updates, ordered=True)

    async def update(self, collection: str, doc_id: str, change: Document) -> bool:
        check_portable_change(change)
        result = await self.db[collection].update_one({"_id": doc_id}, change)
        return result.matched_count == 1

    async def update_where(self, collection: str, where: Mapping[str, Any], change: Document) -> int:
        """Apply one change to every matching document; returns how many matched."""
        check_portable_change(change)
        result = await self.db[collection].update_many(dict(where), change)
        return result.matched_count

    async def delete(self, collection: str, doc_id: str) -> bool:
        result = await self.db[collection].delete_one({"_id": doc_id})
        return result.deleted_count == 1

    async def delete_where(self, collection: str, where: Mapping[str, Any]) -> int:
        result = await self.db[collection].delete_many(dict(where))
        return result.deleted_count

    async def count(self, collection: str, where: Mapping[str, Any]) -> int:
        return await self.db[collection].count_documents(dict(where))
