"""Lessons of a course: ordered, sanitized, and kept in step with every learner's completion."""

from __future__ import annotations

from typing import Any

from app.audit.service import record
from app.config import Settings
from app.courses import access
from app.courses import store as courses
from app.errors import NotFound, ValidationFailed
from app.events import DomainEvent
from app.http.meta import RequestMeta
from app.lessons.sanitize import image_sources, sanitize_html
from app.lessons.schemas import (
    LessonCreate,
    LessonCreated,
    LessonUpdate,
    LessonUpdated,
    check_video_url,
)
from app.progress import completion
from app.progress import store as progress
from app.runtime import Runtime
from app.security.principal import Principal
from app.stores.mongo import Document
from app.stores.sql import Tx
from app.syllabus import store
from app.syllabus.duration import text_and_minutes
from app.syllabus.public import to_public
from app.syllabus.schemas import LessonPublic


def _stored_duration(value: str | int) -> dict[str, Any]:
    text, minutes = text_and_minutes(value)
    return {"duration": text, "duration_minutes": minutes}


def _clean(fields: dict[str, Any], lesson_type: str, settings: Settings) -> dict[str, Any]:
    cleaned = dict(fields)
    images = image_sources(settings)
    if "content" in cleaned and cleaned["content"] is not None and lesson_type == "text":
        cleaned["content"] = sanitize_html(cleaned["content"], images_from=images)
    if cleaned.get("notes") is not None:
        cleaned["notes"] = sanitize_html(cleaned["notes"], images_from=images)
    return cleaned


def _make_room(existing: list[Document], order: int, *, moving: str | None) -> dict[str, int]:
    """New orders for the lessons that must move so a lesson given `order` lands exactly there: when
    another lesson holds that order, it and every lesson after it move down one place."""
    others = [doc for doc in existing if doc["_id"] != moving]
    if not any(doc["order"] == order for doc in others):
        return {}
    return {doc["_id"]: doc["order"] + 1 for doc in others if doc["order"] >= order}


async def list_lessons(runtime: Runtime, principal: Principal, course_id: int) -> list[LessonPublic]:
    await access.participant_course(runtime.db, principal, course_id)
    return [to_public(doc) for doc in await store.for_course(runtime.documents, course_id)]


async def recompute_course_completion(
    tx: Tx, runtime: Runtime, course_id: int, meta: RequestMeta, actor_id: int
) -> list[DomainEvent]:
    """After the lesson list changed: every enrollment's percentage and completion, recomputed."""
    lesson_ids = [doc["_id"] for doc in await store.for_course(runtime.documents, course_id)]
    rows = await courses.enrollments_of_course(tx, course_id, for_update=True)
    docs = await progress.for_pairs(runtime.documents, [(row.user_id, course_id) for row in rows])
    events: list[DomainEvent] = []
    for row in rows:
        doc = docs.get(f"{row.user_id}:{course_id}")
        events += await completion.apply(tx, meta, row, doc, lesson_ids, actor_id=actor_id)
    return events


async def _publish(runtime: Runtime, events: list[DomainEvent]) -> None:
    for event in events:
        await runtime.events.publish(event)


async def create_lesson(
    runtime: Runtime, principal: Principal, course_id: int, body: LessonCreate, meta: RequestMeta
) -> LessonCreated:
    access.require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        await access.managed_course(tx, principal, course_id, for_update=True)
        existing = await store.for_course(runtime.documents, course_id)
        if body.order is not None:
            order = body.order
            await store.set_orders(runtime.documents, _make_room(existing, order, moving=None))
        else:
            order = max((d["order"] for d in existing), default=-1) + 1
        lesson_id = store.new_lesson_id()
        given = body.model_dump(exclude={"order", "duration"})
        given["content"] = given["content"] or ""
        fields = {**_clean(given, body.type, runtime.settings), **_stored_duration(body.duration)}
        await store.insert(
            runtime.documents, {"_id": lesson_id, "course_id": course_id, **fields, "order": order}
        )
        await courses.lessons_changed(tx, course_id, +1)
        await record(
            tx,
            meta,
            "lesson_created",
            actor_id=principal.user_id,
            resource_type="lesson",
            resource_id=lesson_id,
            details={"course_id": course_id, "title": body.title},
        )
        events = await recompute_course_completion(tx, runtime, course_id, meta, principal.user_id)
    await runtime.public_cache.changed()
    await _publish(runtime, events)
    doc = await store.get(runtime.documents, course_id, lesson_id)
    assert doc is not None
    public = to_public(doc)
    return LessonCreated(**public.model_dump(), message="Lesson created successfully", lesson_id=public.id)


def _update_changes(body: LessonUpdate) -> dict[str, Any]:
    """The fields an update sets: its non-blank values, and the fields it clears explicitly."""
    changes = {
        key: value
        for key, value in body.model_dump(exclude_unset=True, exclude={"clear"}).items()
        if value is not None
    }
    for name in body.clear:
        changes.setdefault(name, "" if name == "content" else None)
    return changes


async def update_lesson(
    runtime: Runtime,
    principal: Principal,
    course_id: int,
    lesson_id: str,
    body: LessonUpdate,
    meta: RequestMeta,
) -> LessonUpdated:
    access.require_not_blocked(principal)
    changes = _update_changes(body)
    async with runtime.db.transaction() as tx:
        # Locked like create/delete/reorder: a new order may move other lessons.
        await access.managed_course(tx, principal, course_id, for_update=True)
        doc = await store.get(runtime.documents, course_id, lesson_id)
        if doc is None:
            raise NotFound("No such lesson in this course.", code="lesson_not_found")
        lesson_type = str(changes.get("type") or doc["type"])
        try:
            check_video_url(lesson_type, changes.get("content", doc.get("content")))
        except ValueError as exc:
            raise ValidationFailed(
                "The lesson is invalid.",
                details=[
                    {"field": "content", "location": "body", "message": str(exc), "type": "value_error"}
                ],
            ) from exc
        if lesson_type == "text" and doc["type"] != "text" and "content" not in changes:
            # A video URL becoming text content goes through the sanitizer like any other text.
            changes["content"] = doc.get("content", "")
        cleaned = _clean(changes, lesson_type, runtime.settings)
        if "duration" in cleaned:
            cleaned.update(_stored_duration(cleaned["duration"]))
        if "order" in cleaned:
            existing = await store.for_course(runtime.documents, course_id)
            await store.set_orders(
                runtime.documents, _make_room(existing, cleaned["order"], moving=lesson_id)
            )
        if cleaned:
            await store.update(runtime.documents, lesson_id, cleaned)
        await record(
            tx,
            meta,
            "lesson_updated",
            actor_id=principal.user_id,
            resource_type="lesson",
            resource_id=lesson_id,
            details={"course_id": course_id, "fields": sorted(changes)},
        )
    await runtime.public_cache.changed()
    updated = await store.get(runtime.documents, course_id, lesson_id)
    assert updated is not None
    return LessonUpdated(**to_public(updated).model_dump(), message="Lesson updated successfully")


async def delete_lesson(
    runtime: Runtime, principal: Principal, course_id: int, lesson_id: str, meta: RequestMeta
) -> None:
    access.require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        await access.managed_course(tx, principal, course_id, for_update=True)
        if await store.get(runtime.documents, course_id, lesson_id) is None:
            raise NotFound("No such lesson in this course.", code="lesson_not_found")
        await store.delete(runtime.documents, lesson_id)
        await courses.lessons_changed(tx, course_id, -1)
        await progress.forget_lesson(runtime.documents, course_id, lesson_id)
        await record(
            tx,
            meta,
            "lesson_deleted",
            actor_id=principal.user_id,
            resource_type="lesson",
            resource_id=lesson_id,
            details={"course_id": course_id},
        )
        events = await recompute_course_completion(tx, runtime, course_id, meta, principal.user_id)
    await runtime.public_cache.changed()
    await _publish(runtime, events)


async def reorder(
    runtime: Runtime, principal: Principal, course_id: int, lesson_ids: list[str], meta: RequestMeta
) -> list[LessonPublic]:
    access.require_not_blocked(principal)
    async with runtime.db.transaction() as tx:
        await access.managed_course(tx, principal, course_id, for_update=True)
        before = {doc["_id"]: doc["order"] for doc in await store.for_course(runtime.documents, course_id)}
        if len(lesson_ids) != len(set(lesson_ids)) or set(lesson_ids) != set(before):
            raise ValidationFailed(
                "lesson_ids must list every lesson of the course exactly once.",
                details=[
                    {
                        "field": "lesson_ids",
                        "location": "body",
                        "message": "must be a permutation of the course's lesson ids",
                        "type": "value_error",
                    }
                ],
            )
        orders = {lesson_id: index for index, lesson_id in enumerate(lesson_ids)}
        await store.set_orders(runtime.documents, orders)
        # One entry per lesson that moved, like any other lesson change (resource = the lesson's id).
        for lesson_id, order in orders.items():
            if before[lesson_id] != order:
                await record(
                    tx,
                    meta,
                    "lesson_updated",
                    actor_id=principal.user_id,
                    resource_type="lesson",
                    resource_id=lesson_id,
                    details={"course_id": course_id, "fields": ["order"], "order": order},
                )
    await runtime.public_cache.changed()
    return [to_public(doc) for doc in await store.for_course(runtime.documents, course_id)]
