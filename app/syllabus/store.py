"""Lesson documents in MongoDB: {_id (uuid hex), course_id, title, type, duration (the text given, or a number
of whole minutes), duration_minutes, content, notes, order, created_at, updated_at
(ISO 8601 strings)}."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from app.stores.mongo import LESSONS, Document, DocumentStore
from app.timestamps import now_iso_z


def new_lesson_id() -> str:
    return uuid.uuid4().hex


async def for_course(documents: DocumentStore, course_id: int) -> list[Document]:
    return await documents.find(LESSONS, {"course_id": course_id}, sort=(("order", 1), ("created_at", 1)))


SUMMARY_FIELDS = (
    "course_id",
    "title",
    "type",
    "duration",
    "duration_minutes",
    "order",
    "created_at",
    "updated_at",
)


async def for_courses(documents: DocumentStore, course_ids: Sequence[int]) -> list[Document]:
    """The lessons of several courses, without their content (syllabus fields only)."""
    if not course_ids:
        return []
    return await documents.find(
        LESSONS, {"course_id": {"$in": list(course_ids)}}, sort=(("order", 1),), fields=SUMMARY_FIELDS
    )


async def lesson_ids_by_course(documents: DocumentStore, course_ids: Sequence[int]) -> dict[int, list[str]]:
    """The ids of each course's lessons, in syllabus order (only the ids travel)."""
    by_course: dict[int, list[str]] = {course_id: [] for course_id in course_ids}
    if course_ids:
        where = {"course_id": {"$in": list(course_ids)}}
        for doc in await documents.find(LESSONS, where, sort=(("order", 1),), fields=("course_id",)):
            by_course[doc["course_id"]].append(doc["_id"])
    return by_course


async def count_for_course(documents: DocumentStore, course_id: int) -> int:
    return await documents.count(LESSONS, {"course_id": course_id})


async def syllabus(documents: DocumentStore, course_id: int) -> list[Document]:
    return await documents.find(
        LESSONS, {"course_id": course_id}, sort=(("order", 1), ("created_at", 1)), fields=SUMMARY_FIELDS
    )


async def titles(documents: DocumentStore, lesson_ids: Collection[str]) -> dict[str, str]:
    if not lesson_ids:
        return {}
    found = await documents.find(LESSONS, {"_id": {"$in": list(lesson_ids)}}, fields=("title",))
    return {doc["_id"]: doc["title"] for doc in found}


async def get(documents: DocumentStore, course_id: int, lesson_id: str) -> Document | None:
    lesson = await documents.get(LESSONS, lesson_id)
    if lesson is None or lesson.get("course_id") != course_id:
        return None
    return lesson


async def insert(documents: DocumentStore, lesson: Document) -> None:
    now = now_iso_z()
    await documents.insert(LESSONS, {**lesson, "created_at": now, "updated_at": now})


async def update(documents: DocumentStore, lesson_id: str, fields: Document) -> None:
    await documents.update(LESSONS, lesson_id, {"$set": {**fields, "updated_at": now_iso_z()}})


async def set_orders(documents: DocumentStore, orders: dict[str, int]) -> None:
    for lesson_id, order in orders.items():
        await documents.update(LESSONS, lesson_id, {"$set": {"order": order}})


async def delete(documents: DocumentStore, lesson_id: str) -> None:
    await documents.delete(LESSONS, lesson_id)
