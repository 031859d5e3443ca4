from __future__ import annotations

from pydantic import BaseModel, Field

from app.courses.schemas import CoursePublic
from app.http.schemas import UtcDatetime


class EnrollmentPublic(BaseModel):
    id: int
    user_id: int
    course_id: int
    enrolled_at: UtcDatetime
    progress: float
    completed_at: UtcDatetime | None


class Enrolled(EnrollmentPublic):
    message: str


class LearnerEnrollment(BaseModel):
    """A course the caller is enrolled in, flat as the original API listed it (`id` is the course's id),
    with the enrollment and the full course beside it."""

    id: int = Field(description="The course's id")
    title: str
    description: str
    category: str
    level: str
    duration: str
    thumbnail_url: str | None
    enrolled_at: UtcDatetime
    completed_at: UtcDatetime | None
    total_lessons: int
    completed_lessons: int = Field(description="How many of the course's lessons are completed")
    progress_percentage: int = Field(description="Whole percent, rounded down")
    is_completed: bool
    enrollment_id: int
    user_id: int
    course_id: int
    progress: float = Field(description="Percent, 2 decimals")
    course: CoursePublic
