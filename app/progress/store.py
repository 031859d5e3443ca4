"""Progress documents in MongoDB: one per user and course, `_id` "{user_id}:{course_id}".

Shape: {_id, user_id, course_id, completed_lessons: [lesson ids], lesson_times: {lesson_id: seconds},
total_seconds_spent, last_accessed: ISO 8601 string or None, created_at: ISO 8601 string,
folded_p<k>: the newest telemetry stream entry of partition k counted, applied: [ids of the heartbeats
counted, in documents folded before fold marks; empty in new ones] (see app/telemetry/fold.py)}.
Timestamps are ISO strings, not dates, because the embedded server stores `$set` dates as naive
strings (see app/stores/mongo.py); ISO strings sort and compare the same on both servers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.stores.mongo import PROGRESS, Document, DocumentStore, progress_id
from app.timestamps import now_iso_z


def empty_progress(user_id: int, course_id: int, created_at: str | None = None) -> Document:
    """The shape of a new progress document; `created_at` defaults to now (a fold gives all of a
    flush's new documents one instant rather than formatting the clock for each)."""
    return {
        "_id": progress_id(user_id, course_id),
        "user_id": user_id,
        "course_id": course_id,
        "completed_lessons": [],
        "lesson_times": {},
        "total_seconds_spent": 0,
        "last_accessed": None,
        "created_at": created_at or now_iso_z(),
        "applied": [],
    }


async def ensure(documents: DocumentStore, user_id: int, course_id: int) -> Document:
    """The progress document, created with its full shape if it does not exist yet."""
    existing = await documents.get(PROGRESS, progress_id(user_id, course_id))
    if existing is not None:
        return existing
    shape = empty_progress(user_id, course_id)
    await documents.ensure_then_increment(PROGRESS, [(shape, {}, {})])
    created = await documents.get(PROGRESS, shape["_id"])
    assert created is not None
    return created


async def reset(documents: DocumentStore, user_id: int, course_id: int) -> None:
    """An empty progress document for the pair, replacing any previous one."""
    await documents.replace(PROGRESS, empty_progress(user_id, course_id))


async def get(documents: DocumentStore, user_id: int, course_id: int) -> Document | None:
    return await documents.get(PROGRESS, progress_id(user_id, course_id))


async def for_course(documents: DocumentStore, course_id: int) -> list[Document]:
    return await documents.find(PROGRESS, {"course_id": course_id})


async def for_user(documents: DocumentStore, user_id: int) -> list[Document]:
    return await documents.find(PROGRESS, {"user_id": user_id})


async def for_pairs(
    documents: DocumentStore, pairs: Sequence[tuple[int, int]], *, fields: Sequence[str] | None = None
) -> dict[str, Document]:
    """The progress documents of these (user, course) pairs by id; only `fields` of them when given
    (a learner's `applied` heartbeat ids and lesson times can be long)."""
    ids = [progress_id(user_id, course_id) for user_id, course_id in pairs]
    if not ids:
        return {}
    found = await documents.find(PROGRESS, {"_id": {"$in": ids}}, fields=fields)
    return {doc["_id"]: doc for doc in found}


async def mark_lesson(
    documents: DocumentStore, user_id: int, course_id: int, lesson_id: str, completed: bool
) -> None:
    await ensure(documents, user_id, course_id)
    change: dict[str, Any] = (
        {"$addToSet": {"completed_lessons": lesson_id}}
        if completed
        else {"$pull": {"completed_lessons": lesson_id}}
    )
    change["$set"] = {"last_accessed": now_iso_z()}
    await documents.update(PROGRESS, progress_id(user_id, course_id), change)


async def forget_lesson(documents: DocumentStore, course_id: int, lesson_id: str) -> None:
    """A deleted lesson no longer counts as completed for anyone (its time stays in the total)."""
    await documents.update_where(
        PROGRESS, {"course_id": course_id}, {"$pull": {"completed_lessons": lesson_id}}
    )


async def delete(documents: DocumentStore, user_id: int, course_id: int) -> None:
    await documents.delete(PROGRESS, progress_id(user_id, course_id))
