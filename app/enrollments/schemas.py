from __future__ import annotations

from pydantic import BaseModel

from app.courses.schemas import CoursePublic
from app.http.schemas import UtcDatetime


class EnrollmentPublic(BaseModel):
    id: int
    user_id: int
    course_id: int
    enrolled_at: UtcDatetime
    progress: float
    completed_at: UtcDatetime | None


class LearnerEnrollment(EnrollmentPublic):
    course: CoursePublic


class Message(BaseModel):
    message: str
