"""Contract tests for `app.stores.mongo.DocumentStore` (docs/PRODUCT.md, "Data").

They run unchanged against the embedded nx-27017 server (the default) and against a real MongoDB when
TEST_MONGO_URL is set. The few tests marked `embedded_only` pin quirks of nx-27017 that explain the
store's rules; they are skipped against a real MongoDB, where the behaviour they pin is different.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from app.runtime import StoreUrls
from app.stores.mongo import (
    COURSE_TELEMETRY,
    INDEXES,
    LESSONS,
    PROGRESS,
    Document,
    DocumentStore,
    progress_id,
    telemetry_bucket_id,
)

CONTRACT_DATABASE = "learnflow_contract"
ON_REAL_MONGO = bool(os.environ.get("TEST_MONGO_URL"))

embedded_only = pytest.mark.skipif(
    ON_REAL_MONGO,
    reason="pins a quirk of the embedded nx-27017 server; TEST_MONGO_URL points at a real MongoDB",
)
real_mongo_only = pytest.mark.skipif(
    not ON_REAL_MONGO,
    reason="nx-27017 ignores index names (see test_embedded_quirk_index_names_are_ignored)",
)


@pytest.fixture
async def store(store_urls: StoreUrls) -> AsyncIterator[DocumentStore]:
    documents = DocumentStore(store_urls.mongo_url, CONTRACT_DATABASE)
    try:
        for name in await documents.db.list_collection_names():
            await documents.db[name].delete_many({})
        await documents.ensure_schema()
        yield documents
    finally:
        await documents.close()


async def index_keys(store: DocumentStore, collection: str) -> dict[tuple[tuple[str, int], ...], str]:
    """Every index of a collection as {((field, direction), ...): name}."""
    indexes = await store.db[collection].list_indexes()
    return {
        tuple((field, int(direction)) for field, direction in spec["key"].items()): spec["name"]
        async for spec in indexes
    }


async def ids(store: DocumentStore, collection: str, where: dict[str, Any], **options: Any) -> list[str]:
    return [doc["_id"] for doc in await store.find(collection, where, **options)]


def lesson(doc_id: str, course_id: int, order: int, kind: str = "text") -> Document:
    return {"_id": doc_id, "course_id": course_id, "order": order, "type": kind, "content": {"body": doc_id}}


def progress_shape(user_id: int, course_id: int) -> Document:
    return {
        "_id": progress_id(user_id, course_id),
        "user_id": user_id,
        "course_id": course_id,
        "completed_lessons": [],
        "lesson_times": {},
        "total_seconds_spent": 0,
        "last_accessed": None,
    }


def bucket_shape(user_id: int, course_id: int, lesson_id: str, hour: str) -> Document:
    return {
        "_id": telemetry_bucket_id(user_id, course_id, lesson_id, hour),
        "user_id": user_id,
        "course_id": course_id,
        "lesson_id": lesson_id,
        "hour": hour,
        "seconds": 0,
        "heartbeats": 0,
    }


# --- helpers ---------------------------------------------------------------------------------------


def test_progress_id_is_user_then_course() -> None:
    assert progress_id(7, 42) == "7:42"


def test_telemetry_bucket_id_is_user_course_lesson_hour() -> None:
    assert telemetry_bucket_id(7, 42, "L1", "2024-05-06T07") == "7:42:L1:2024-05-06T07"


# --- schema ----------------------------------------------------------------------------------------


async def test_ping(store: DocumentStore) -> None:
    await store.ping()


async def test_ensure_schema_creates_collections_and_indexes_and_is_idempotent(store: DocumentStore) -> None:
    for name in await store.db.list_collection_names():
        await store.db[name].drop()
    assert not {LESSONS, PROGRESS, COURSE_TELEMETRY} & set(await store.db.list_collection_names())

    await store.ensure_schema()
    await store.ensure_schema()

    assert {LESSONS, PROGRESS, COURSE_TELEMETRY} <= set(await store.db.list_collection_names())
    for collection, indexes in INDEXES.items():
        existing = await index_keys(store, collection)
        assert (("_id", 1),) in existing
        for _, keys in indexes:
            assert tuple(keys) in existing, (collection, keys)
        # Calling it twice created no duplicates: `_id` plus exactly the declared indexes.
        assert len(existing) == len(indexes) + 1


async def test_ensure_schema_indexes_a_collection_that_already_exists(store: DocumentStore) -> None:
    await store.db[LESSONS].drop()
    await store.insert(LESSONS, lesson("L1", 1, 1))  # creates the collection implicitly, without indexes

    await store.ensure_schema()

    existing = await index_keys(store, LESSONS)
    for _, keys in INDEXES[LESSONS]:
        assert tuple(keys) in existing
    assert await store.get(LESSONS, "L1") == lesson("L1", 1, 1)


@real_mongo_only
async def test_ensure_schema_uses_the_declared_index_names(store: DocumentStore) -> None:
    for collection, indexes in INDEXES.items():
        existing = await index_keys(store, collection)
        for index_name, keys in indexes:
            assert existing[tuple(keys)] == index_name


# --- get / insert / replace ------------------------------------------------------------------------


async def test_get_returns_the_document_or_none(store: DocumentStore) -> None:
    await store.insert(LESSONS, lesson("L1", 1, 1))

    assert await store.get(LESSONS, "L1") == lesson("L1", 1, 1)
    assert await store.get(LESSONS, "missing") is None
    assert await store.get(PROGRESS, "L1") is None


async def test_insert_round_trips_nested_values_and_aware_datetimes(store: DocumentStore) -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    document = {
        "_id": "1:2",
        "completed_lessons": ["L1", "L2"],
        "lesson_times": {"L1": 15, "L2": 0},
        "total_seconds_spent": 15,
        "last_accessed": when,
        "nothing": None,
        "flag": True,
    }
    await store.insert(PROGRESS, document)

    stored = await store.get(PROGRESS, "1:2")
    assert stored is not None
    # BSON dates keep milliseconds; the client is tz-aware, so UTC comes back as an aware datetime.
    assert stored["last_accessed"] == when.replace(microsecond=123000)
    assert stored["last_accessed"].utcoffset() is not None
    assert {key: value for key, value in stored.items() if key != "last_accessed"} == {
        key: value for key, value in document.items() if key != "last_accessed"
    }
    assert stored["flag"] is True


async def test_insert_with_a_duplicate_id_raises_and_keeps_the_original(store: DocumentStore) -> None:
    await store.insert(LESSONS, lesson("L1", 1, 1))

    with pytest.raises(DuplicateKeyError):
        await store.insert(LESSONS, lesson("L1", 9, 9, "video"))

    assert await store.get(LESSONS, "L1") == lesson("L1", 1, 1)
    assert await store.count(LESSONS, {}) == 1


async def test_replace_inserts_a_missing_document(store: DocumentStore) -> None:
    await store.replace(LESSONS, lesson("L1", 1, 1))

    assert await store.get(LESSONS, "L1") == lesson("L1", 1, 1)


async def test_replace_overwrites_the_whole_document(store: DocumentStore) -> None:
    await store.insert(LESSONS, {**lesson("L1", 1, 1), "draft": True})

    await store.replace(LESSONS, lesson("L1", 1, 5, "video"))

    assert await store.get(LESSONS, "L1") == lesson("L1", 1, 5, "video")  # "draft" is gone
    assert await store.count(LESSONS, {}) == 1


# --- find / count ----------------------------------------------------------------------------------


@pytest.fixture
async def lessons(store: DocumentStore) -> DocumentStore:
    for document in (
        lesson("c", 1, 2, "video"),
        lesson("a", 1, 1),
        lesson("e", 2, 1, "quiz"),
        lesson("b", 1, 3, "video"),
        lesson("d", 1, 10),
    ):
        await store.insert(LESSONS, document)
    return store


async def test_find_sorts_by_id_by_default(lessons: DocumentStore) -> None:
    assert await ids(lessons, LESSONS, {}) == ["a", "b", "c", "d", "e"]


async def test_find_filters_with_where(lessons: DocumentStore) -> None:
    assert await ids(lessons, LESSONS, {"course_id": 1}) == ["a", "b", "c", "d"]
    assert await ids(lessons, LESSONS, {"course_id": 1, "type": "video"}) == ["b", "c"]
    assert await ids(lessons, LESSONS, {"course_id": {"$in": [2, 3]}}) == ["e"]
    assert await ids(lessons, LESSONS, {"order": {"$gte": 3}}) == ["b", "d"]
    assert await ids(lessons, LESSONS, {"content.body": "d"}) == ["d"]
    assert await ids(lessons, LESSONS, {"course_id": 99}) == []


async def test_find_sorts_by_the_given_keys(lessons: DocumentStore) -> None:
    # Numbers sort as numbers (10 after 3), not as strings.
    assert await ids(lessons, LESSONS, {"course_id": 1}, sort=[("order", ASCENDING)]) == ["a", "c", "b", "d"]
    assert await ids(lessons, LESSONS, {"course_id": 1}, sort=[("order", DESCENDING)]) == ["d", "b", "c", "a"]
    assert await ids(lessons, LESSONS, {}, sort=[("course_id", DESCENDING), ("order", ASCENDING)]) == [
        "e",
        "a",
        "c",
        "b",
        "d",
    ]


async def test_find_skips_and_limits(lessons: DocumentStore) -> None:
    by_order = [("order", ASCENDING)]
    where = {"course_id": 1}
    assert await ids(lessons, LESSONS, where, sort=by_order, limit=2) == ["a", "c"]
    assert await ids(lessons, LESSONS, where, sort=by_order, skip=1, limit=2) == ["c", "b"]
    assert await ids(lessons, LESSONS, where, sort=by_order, skip=3) == ["d"]
    assert await ids(lessons, LESSONS, where, sort=by_order, skip=4) == []
    assert await ids(lessons, LESSONS, where, sort=by_order, limit=0) == ["a", "c", "b", "d"]  # 0: no limit


async def test_find_returns_whole_documents(lessons: DocumentStore) -> None:
    assert await lessons.find(LESSONS, {"course_id": 2}) == [lesson("e", 2, 1, "quiz")]


async def test_count(lessons: DocumentStore) -> None:
    assert await lessons.count(LESSONS, {}) == 5
    assert await lessons.count(LESSONS, {"course_id": 1}) == 4
    assert await lessons.count(LESSONS, {"course_id": 1, "order": {"$lt": 3}}) == 2
    assert await lessons.count(LESSONS, {"course_id": 99}) == 0
    assert await lessons.count(PROGRESS, {}) == 0


# --- ensure_then_increment -------------------------------------------------------------------------


async def test_ensure_then_increment_creates_a_new_document_with_nested_fields(store: DocumentStore) -> None:
    await store.ensure_then_increment(
        PROGRESS,
        [
            (
                progress_shape(1, 2),
                {"lesson_times.L1": 15, "total_seconds_spent": 15},
                {"last_accessed": "2024-05-06T07:08:09Z"},
            )
        ],
    )

    stored = await store.get(PROGRESS, "1:2")
    assert stored == {
        "_id": "1:2",
        "user_id": 1,
        "course_id": 2,
        "completed_lessons": [],
        "lesson_times": {"L1": 15},  # nested, not a literal "lesson_times.L1" key
        "total_seconds_spent": 15,
        "last_accessed": "2024-05-06T07:08:09Z",
    }
    assert "lesson_times.L1" not in stored
    assert await store.count(PROGRESS, {"lesson_times.L1": 15}) == 1


async def test_ensure_then_increment_accumulates_on_an_existing_document(store: DocumentStore) -> None:
    await store.ensure_then_increment(
        PROGRESS,
        [
            (
                progress_shape(1, 2),
                {"lesson_times.L1": 15, "total_seconds_spent": 15},
                {"last_accessed": "2024-05-06T07:00:00Z"},
            )
        ],
    )

    await store.ensure_then_increment(
        PROGRESS,
        [
            (
                progress_shape(1, 2),
                {"lesson_times.L1": 10, "lesson_times.L2": 5, "total_seconds_spent": 15},
                {"last_accessed": "2024-05-06T08:00:00Z"},
            )
        ],
    )

    stored = await store.get(PROGRESS, "1:2")
    assert stored is not None
    assert stored["lesson_times"] == {"L1": 25, "L2": 5}
    assert stored["total_seconds_spent"] == 30
    assert stored["last_accessed"] == "2024-05-06T08:00:00Z"


async def test_ensure_then_increment_keeps_every_type_of_the_shape(store: DocumentStore) -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    shape = {**progress_shape(1, 2), "started_at": when, "archived": False}

    await store.ensure_then_increment(PROGRESS, [(shape, {"total_seconds_spent": 15}, {})])

    stored = await store.get(PROGRESS, "1:2")
    assert stored is not None
    assert stored["started_at"] == when
    assert stored["archived"] is False


async def test_ensure_then_increment_refuses_values_the_embedded_server_would_change(
    store: DocumentStore,
) -> None:
    shape = progress_shape(1, 2)
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)

    with pytest.raises(ValueError, match="last_accessed"):
        await store.ensure_then_increment(
            PROGRESS, [(shape, {"total_seconds_spent": 15}, {"last_accessed": when})]
        )
    with pytest.raises(ValueError, match="flag"):
        await store.ensure_then_increment(PROGRESS, [(shape, {}, {"flag": True})])

    assert await store.get(PROGRESS, "1:2") is None  # refused before anything was written


async def test_ensure_then_increment_shape_is_idempotent(store: DocumentStore) -> None:
    shape = bucket_shape(1, 2, "L1", "2024-05-06T07")
    await store.ensure_then_increment(COURSE_TELEMETRY, [(shape, {"seconds": 15, "heartbeats": 1}, {})])

    # Ensuring the same shape again (with or without changes) never resets what is already counted.
    await store.ensure_then_increment(COURSE_TELEMETRY, [(shape, {}, {})])
    await store.ensure_then_increment(COURSE_TELEMETRY, [(shape, {"seconds": 5, "heartbeats": 1}, {})])

    assert await store.get(COURSE_TELEMETRY, shape["_id"]) == {**shape, "seconds": 20, "heartbeats": 2}
    assert await store.count(COURSE_TELEMETRY, {}) == 1


async def test_ensure_then_increment_with_only_a_shape_creates_it(store: DocumentStore) -> None:
    shape = bucket_shape(1, 2, "L1", "2024-05-06T07")

    await store.ensure_then_increment(COURSE_TELEMETRY, [(shape, {}, {})])

    assert await store.get(COURSE_TELEMETRY, shape["_id"]) == shape


async def test_ensure_then_increment_handles_many_documents_and_repeated_ids(store: DocumentStore) -> None:
    seven = bucket_shape(1, 2, "L1", "2024-05-06T07")
    eight = bucket_shape(1, 2, "L1", "2024-05-06T08")
    other = bucket_shape(3, 2, "L9", "2024-05-06T07")

    await store.ensure_then_increment(
        COURSE_TELEMETRY,
        [
            (seven, {"seconds": 15, "heartbeats": 1}, {}),
            (eight, {"seconds": 30, "heartbeats": 2}, {}),
            (seven, {"seconds": 5, "heartbeats": 1}, {}),  # the same bucket twice in one call adds up
            (other, {}, {}),
        ],
    )

    assert await store.find(COURSE_TELEMETRY, {"user_id": 1}, sort=[("hour", ASCENDING)]) == [
        {**seven, "seconds": 20, "heartbeats": 2},
        {**eight, "seconds": 30, "heartbeats": 2},
    ]
    assert await store.get(COURSE_TELEMETRY, other["_id"]) == other


async def test_ensure_then_increment_with_nothing_does_nothing(store: DocumentStore) -> None:
    await store.ensure_then_increment(COURSE_TELEMETRY, [])

    assert await store.count(COURSE_TELEMETRY, {}) == 0


# --- update / delete -------------------------------------------------------------------------------


async def test_update_returns_whether_the_document_matched(store: DocumentStore) -> None:
    await store.insert(PROGRESS, progress_shape(1, 2))

    assert await store.update(PROGRESS, "1:2", {"$set": {"total_seconds_spent": 5}}) is True
    # Matched but changed nothing: still True.
    assert await store.update(PROGRESS, "1:2", {"$set": {"total_seconds_spent": 5}}) is True
    assert await store.update(PROGRESS, "9:9", {"$set": {"total_seconds_spent": 5}}) is False

    assert await store.get(PROGRESS, "9:9") is None  # update never upserts
    assert await store.get(PROGRESS, "1:2") == {**progress_shape(1, 2), "total_seconds_spent": 5}


async def test_update_applies_operators_to_an_existing_document(store: DocumentStore) -> None:
    await store.insert(PROGRESS, progress_shape(1, 2))

    await store.update(
        PROGRESS, "1:2", {"$addToSet": {"completed_lessons": "L1"}, "$inc": {"lesson_times.L1": 3}}
    )
    await store.update(
        PROGRESS, "1:2", {"$addToSet": {"completed_lessons": "L1"}, "$set": {"lesson_times.L2": 4}}
    )
    await store.update(PROGRESS, "1:2", {"$addToSet": {"completed_lessons": "L2"}})

    stored = await store.get(PROGRESS, "1:2")
    assert stored is not None
    assert stored["completed_lessons"] == ["L1", "L2"]
    assert stored["lesson_times"] == {"L1": 3, "L2": 4}


async def test_update_refuses_values_the_embedded_server_would_change(store: DocumentStore) -> None:
    await store.insert(PROGRESS, progress_shape(1, 2))
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)

    for change in (
        {"$set": {"last_accessed": when}},
        {"$set": {"meta.archived": True}},
        {"$max": {"last_accessed": when}},
        {"$push": {"completed_lessons": {"lesson": "L1"}}},
        {"$addToSet": {"completed_lessons": {"$each": ["L1", when]}}},
    ):
        with pytest.raises(ValueError):
            await store.update(PROGRESS, "1:2", change)

    assert await store.get(PROGRESS, "1:2") == progress_shape(1, 2)


async def test_update_keeps_types_inside_a_whole_nested_value(store: DocumentStore) -> None:
    await store.insert(PROGRESS, progress_shape(1, 2))
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)

    assert await store.update(
        PROGRESS,
        "1:2",
        {
            "$set": {"meta": {"archived": True, "at": when}, "history": [when]},
            "$currentDate": {"touched": True},
        },
    )

    stored = await store.get(PROGRESS, "1:2")
    assert stored is not None
    assert stored["meta"] == {"archived": True, "at": when}
    assert stored["meta"]["archived"] is True
    assert stored["history"] == [when]
    assert isinstance(stored["touched"], datetime)


async def test_delete_removes_one_document(store: DocumentStore) -> None:
    await store.insert(LESSONS, lesson("L1", 1, 1))
    await store.insert(LESSONS, lesson("L2", 1, 2))

    assert await store.delete(LESSONS, "L1") is True
    assert await store.delete(LESSONS, "L1") is False
    assert await store.delete(LESSONS, "missing") is False

    assert await store.get(LESSONS, "L1") is None
    assert await store.get(LESSONS, "L2") == lesson("L2", 1, 2)


async def test_delete_where_removes_matches_and_counts_them(lessons: DocumentStore) -> None:
    assert await lessons.delete_where(LESSONS, {"course_id": 1, "type": "video"}) == 2
    assert await ids(lessons, LESSONS, {}) == ["a", "d", "e"]

    assert await lessons.delete_where(LESSONS, {"course_id": 99}) == 0
    assert await lessons.delete_where(LESSONS, {"course_id": 1}) == 2
    assert await ids(lessons, LESSONS, {}) == ["e"]


# --- quirks of the embedded nx-27017 server (README) ----------------------------------------------------


@embedded_only
async def test_embedded_quirk_dotted_increment_upsert_stores_a_literal_key(store: DocumentStore) -> None:
    """Why ensure_then_increment inserts the full shape before any dotted-path update."""
    collection = store.db[PROGRESS]

    await collection.update_one({"_id": "1:2"}, {"$inc": {"lesson_times.L1": 15}}, upsert=True)

    # MongoDB would store {"lesson_times": {"L1": 15}}.
    assert await store.get(PROGRESS, "1:2") == {"_id": "1:2", "lesson_times.L1": 15}


@embedded_only
async def test_embedded_quirk_set_of_a_datetime_or_boolean_changes_its_type(store: DocumentStore) -> None:
    """Why update and ensure_then_increment refuse to $set a single datetime or boolean."""
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    await store.insert(PROGRESS, {"_id": "1:2", "last_accessed": when, "archived": False})

    await store.db[PROGRESS].update_one({"_id": "1:2"}, {"$set": {"last_accessed": when, "archived": True}})

    # MongoDB would keep a date and a boolean; the insert above kept them on nx-27017 too.
    assert await store.get(PROGRESS, "1:2") == {
        "_id": "1:2",
        "last_accessed": "2024-05-06 07:08:09",
        "archived": 1,
    }


@embedded_only
async def test_embedded_quirk_index_names_are_ignored(store: DocumentStore) -> None:
    """Why the schema contract checks index keys, and index names only on a real MongoDB."""
    existing = await index_keys(store, PROGRESS)

    # create_index(..., name="course_user") is named after the collection and fields instead.
    assert existing[(("course_id", 1), ("user_id", 1))] == "idx_progress_course_id_user_id"
    assert "course_user" not in existing.values()


async def test_find_with_fields_returns_only_those_fields_and_the_id(store: DocumentStore) -> None:
    await store.insert(
        "lessons", {"_id": "p1", "course_id": 1, "title": "T", "content": "x" * 1000, "order": 0}
    )
    (doc,) = await store.find("lessons", {"course_id": 1}, fields=("title", "order"))
    assert doc == {"_id": "p1", "title": "T", "order": 0}


async def test_update_where_changes_every_match_and_counts_them(store: DocumentStore) -> None:
    for n in range(3):
        await store.insert(
            "progress", {"_id": f"u{n}", "course_id": 7 if n < 2 else 8, "completed_lessons": ["a", "b"]}
        )
    matched = await store.update_where("progress", {"course_id": 7}, {"$pull": {"completed_lessons": "a"}})
    assert matched == 2
    docs = {doc["_id"]: doc["completed_lessons"] for doc in await store.find("progress", {})}
    assert docs == {"u0": ["b"], "u1": ["b"], "u2": ["a", "b"]}
