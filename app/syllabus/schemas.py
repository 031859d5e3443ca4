"""The public shape of a lesson, as the course page and the lesson endpoints show it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.http.schemas import UtcDatetime

LessonType = Literal["video", "text"]


class LessonPublic(BaseModel):
    id: str
    course_id: int
    title: str
    type: LessonType
    duration: str = Field(description="As the author gave it")
    duration_minutes: int | None = Field(description="Whole minutes, null when the duration is not readable")
    content: str | None = Field(description="null where the caller may not open the lesson")
    notes: str | None
    order: int
    created_at: UtcDatetime
    updated_at: UtcDatetime
