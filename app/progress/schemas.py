from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.http.schemas import UtcDatetime


class ProgressUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lesson_id: Annotated[str, Field(min_length=1, max_length=64)]
    completed: bool = True


class ProgressPublic(BaseModel):
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
    enrolled_at: UtcDatetime
    completed_at: UtcDatetime | None
    progress_percentage: float
    completed_lessons: int
    total_lessons: int
    total_seconds_spent: int
    last_accessed: str | None
    lessons: list[LessonBreakdown]


class StudentSummary(BaseModel):
    id: int
    name: str
    email: str
    avatar: str | None
    role: str


class StudentStats(BaseModel):
    student: StudentSummary
    courses: list[CourseBreakdown]
    total_enrolled: int
    courses_completed: int
    lessons_completed: int
    total_seconds_spent: int
