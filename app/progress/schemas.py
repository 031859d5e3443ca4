from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.http.schemas import RequestBody, UtcDatetime


class ProgressUpdate(RequestBody):
    lesson_id: Annotated[str, Field(min_length=1, max_length=64)]
    completed: bool = True


class ProgressPublic(BaseModel):
    """A learner's progress in a course; empty (nothing completed, no time) until there is some, and for
    signed-in callers who are not enrolled."""

    id: str = Field(description="The progress record's id")
    user_id: int
    course_id: int
    completed_lessons: list[str]
    total_lessons: int
    progress_percentage: float
    total_seconds_spent: int
    last_accessed: str | None = Field(description="ISO 8601 UTC")
    lesson_times: dict[str, int]
    completed_at: UtcDatetime | None


class LearnerStats(BaseModel):
    courses_in_progress: int
    courses_completed: int
    lessons_completed: int
    total_enrolled: int
    total_seconds_spent: int


class LessonBreakdown(BaseModel):
    lesson_id: str
    title: str
    completed: bool
    seconds_spent: int


class CourseBreakdown(BaseModel):
    course_id: int
    title: str
    course_title: str = Field(description="The same as title")
    enrolled_at: UtcDatetime
    completed_at: UtcDatetime | None
    progress_percentage: float
    completed_lessons: int
    total_lessons: int
    total_seconds_spent: int
    last_accessed: str | None
    lessons: list[LessonBreakdown] = Field(description="Every lesson of the course, in order")
    modules: list[LessonBreakdown] = Field(description="The same as lessons")


class StudentSummary(BaseModel):
    id: int
    name: str
    email: str
    avatar: str | None
    role: str


class StudentStats(BaseModel):
    student: StudentSummary
    total_hours_spent: float = Field(description="total_seconds_spent / 3600, 2 decimals")
    courses: list[CourseBreakdown]
    total_enrolled: int
    courses_completed: int
    lessons_completed: int
    total_seconds_spent: int
