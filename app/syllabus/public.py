"""A lesson document in the shape the API shows."""

from __future__ import annotations

from app.stores.mongo import Document
from app.syllabus.duration import minutes_from_text, text_and_minutes
from app.syllabus.schemas import LessonPublic


def _duration(doc: Document) -> tuple[str, int | None]:
    """(text, minutes) of a lesson document; a number stored as the duration is whole minutes."""
    value = doc.get("duration", "")
    if isinstance(value, int):
        return text_and_minutes(value)
    text = str(value)
    return text, doc["duration_minutes"] if "duration_minutes" in doc else minutes_from_text(text)


def to_public(doc: Document, *, with_content: bool = True) -> LessonPublic:
    """The lesson as the API shows it; without `with_content`, content and notes are null."""
    text, minutes = _duration(doc)
    return LessonPublic(
        id=doc["_id"],
        course_id=doc["course_id"],
        title=doc["title"],
        type=doc["type"],
        duration=text,
        duration_minutes=minutes,
        content=(doc.get("content") or "") if with_content else None,
        notes=doc.get("notes") if with_content else None,
        order=doc["order"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )
